import assert from "node:assert/strict";
import { test } from "node:test";
import { derivedTaskIds, newTaskId, normalizeTask } from "../../../src/tasks/normalize.js";

test("derived ids: the file name for one task, the file name and position in an array", () => {
  assert.deepEqual(derivedTaskIds("/x/pump night.json", [{}], false), ["pump_night"]);
  assert.deepEqual(derivedTaskIds("/x/night.json", [{}, { id: "own" }, {}], true), ["night.0", undefined, "night.2"]);
  assert.deepEqual(derivedTaskIds("/x/-odd.json", [{}], false), ["t-odd"]);
});

test("new ids are 24 hex digits starting with the seconds", () => {
  const id = newTaskId(Date.UTC(2026, 0, 1));
  assert.match(id, /^[0-9a-f]{24}$/);
  assert.equal(Number.parseInt(id.slice(0, 8), 16), Date.UTC(2026, 0, 1) / 1000);
  assert.notEqual(newTaskId(0), newTaskId(0));
});

test("normalize applies the defaults and keeps every other field", () => {
  const doc = { schedule: { every: 5 }, actions: [], ownerId: "o", extra: { a: 1 } };
  const t = normalizeTask(doc, "t1", { defaultTimeoutMs: 7000 });
  assert.equal(t.id, "t1");
  assert.equal(t.name, "t1");
  assert.equal(t.isEnable, true);
  assert.equal(t.misfire, "skip");
  assert.equal(t.timeoutMs, 7000);
  assert.equal(t.ownerId, "o");
  assert.deepEqual(t.extra, { a: 1 });
  const off = normalizeTask({ ...doc, isEnable: false, misfire: "once", timeoutMs: 500, name: "n" }, "t2", {
    defaultTimeoutMs: 7000,
  });
  assert.deepEqual([off.isEnable, off.misfire, off.timeoutMs, off.name], [false, "once", 500, "n"]);
  assert.equal((doc as Record<string, unknown>).id, undefined, "the document as written is not changed");
});
