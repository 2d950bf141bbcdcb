// The shipped hooks/shift-guard.mjs: inert (no beforeRequest at all) without SHIFT_GUARD_HOURS;
// armed, it refuses /rule/del always and operator resolves outside the hours.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import type { ApiRequest } from "../../../src/core/ports.js";
import { KvRepo } from "../../../src/store/kv-repo.js";
import { type Harness, harness } from "../../fixtures/hooks/harness.js";

let h: Harness;
afterEach(async () => {
  delete process.env.SHIFT_GUARD_HOURS;
  await h?.close();
});

function withGuard(): Harness {
  const hh = harness();
  mkdirSync(hh.dir, { recursive: true });
  copyFileSync(join("hooks", "shift-guard.mjs"), join(hh.dir, "shift-guard.mjs"));
  return hh;
}

const hhmm = (m: number) => {
  const x = ((m % 1440) + 1440) % 1440;
  return `${String(Math.floor(x / 60)).padStart(2, "0")}:${String(x % 60).padStart(2, "0")}`;
};
/** A window around now (system time zone: the harness config has none), or one well away from it. */
function windowAt(offsetMin: number, lengthMin: number): string {
  const now = new Date();
  const m = now.getHours() * 60 + now.getMinutes();
  return `${hhmm(m + offsetMin)}-${hhmm(m + offsetMin + lengthMin)}`;
}

const req = (path: string, body?: Record<string, unknown>): ApiRequest => ({
  method: body === undefined ? "GET" : "POST",
  path,
  query: {},
  body,
  remote: "10.0.0.9",
});

test("without SHIFT_GUARD_HOURS it loads with no beforeRequest: requests are not intercepted", async () => {
  h = withGuard();
  await h.manager.start();
  const info = h.manager.list().find((i) => i.name === "shift-guard");
  assert.equal(info?.state, "running");
  assert.deepEqual(info?.methods, ["start"]);
  assert.equal(h.manager.requestInterceptor.active, false);
  assert.ok(h.logs.some((l) => l.hook === "shift-guard" && String(l.msg).startsWith("shift guard off")));
});

test("armed, outside the hours: /rule/del and resolves are refused (403), other requests pass", async () => {
  process.env.SHIFT_GUARD_HOURS = windowAt(120, 60);
  h = withGuard();
  await h.manager.start();
  const port = h.manager.requestInterceptor;
  const del = await port.beforeRequest(req("/rule/del", { id: "r-1" }));
  assert.equal(del.ok, false);
  assert.equal(!del.ok && del.httpStatus, 403);
  assert.match(!del.ok ? del.message : "", /Rules cannot be deleted from the local API/);
  const resolve = await port.beforeRequest(req("/alert/update", { id: "a-1", status: 0 }));
  assert.equal(resolve.ok, false);
  assert.equal(!resolve.ok && resolve.code, 100403);
  assert.match(!resolve.ok ? resolve.message : "", /only during shift hours \(\d\d:\d\d-\d\d:\d\d, site time\)/);
  assert.deepEqual(await port.beforeRequest(req("/alert/update", { id: "a-1", title: "renamed" })), { ok: true });
  assert.deepEqual(await port.beforeRequest(req("/alert/list")), { ok: true });
});

test("armed, within the hours: resolves pass, /rule/del is still refused; kv hours overrides", async () => {
  process.env.SHIFT_GUARD_HOURS = windowAt(-60, 120);
  h = withGuard();
  await h.manager.start();
  const port = h.manager.requestInterceptor;
  assert.deepEqual(await port.beforeRequest(req("/alert/update", { id: "a-1", status: 0 })), { ok: true });
  assert.equal((await port.beforeRequest(req("/rule/del", { id: "r-1" }))).ok, false);
  // A holiday rota: the window is elsewhere today.
  const override = windowAt(180, 30);
  new KvRepo(h.db).set("shift-guard", "hours", JSON.stringify(override));
  const refused = await port.beforeRequest(req("/alert/update", { id: "a-1", status: 0 }));
  assert.match(!refused.ok ? refused.message : "", new RegExp(`\\(${override}, site time\\)`));
});

test("a malformed SHIFT_GUARD_HOURS fails the load with a message saying the expected form", async () => {
  process.env.SHIFT_GUARD_HOURS = "6-22";
  h = withGuard();
  await h.manager.start();
  const info = h.manager.list().find((i) => i.name === "shift-guard");
  assert.equal(info?.state, "failed");
  assert.match(info?.lastError ?? "", /SHIFT_GUARD_HOURS="6-22" is not a window like 06:00-22:00/);
});
