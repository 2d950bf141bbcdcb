// Rule CRUD through RuleFiles against a real directory with the loader watching it: files are
// written as the SPEC says, the RuleSet changes at once, and the watcher does not apply them twice.

import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { systemClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import { RuleFiles } from "../../../src/rules/admin.js";
import { RulesLoader } from "../../../src/rules/loader.js";
import { RuleSet } from "../../../src/rules/rule-set.js";
import { parseRuleDocument } from "../../../src/rules/validate.js";
import { testBus } from "../../helpers/harness.js";

const rule = (id: string, threshold: number) => ({
  id,
  key: "meter",
  level: 3,
  conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: threshold }] },
});

let dir: string;
let set: RuleSet;
let loader: RulesLoader;
let admin: RuleFiles;
const changes: number[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "rules-admin-"));
  await writeFile(join(dir, "multi.json"), JSON.stringify([rule("m1", 1), rule("m2", 2), rule("m3", 3)], null, 2));
  const log = silentLogger();
  const events = testBus(log);
  events.on("rulesChanged", (n) => changes.push(n));
  set = new RuleSet();
  loader = new RulesLoader({ dir, ruleSet: set, log, clock: systemClock, events, debounceMs: 20 });
  admin = new RuleFiles({ dir, ruleSet: set, log });
  await loader.start();
});

after(async () => {
  await loader.stop();
  await rm(dir, { recursive: true, force: true });
});

const onDisk = async (name: string) => parseRuleDocument(name, await readFile(join(dir, name), "utf8")).rules;

test("add writes <id>.json and applies at once; the watcher does not apply it again", async () => {
  const before = changes.length;
  const r = await admin.add(rule("api-1", 240));
  assert.equal(r.ok, true);
  assert.equal(set.get("api-1")?.file, join(dir, "api-1.json"), "in force before any watcher ran");
  assert.deepEqual(
    (await onDisk("api-1.json")).map((x) => x.id),
    ["api-1"],
  );
  await loader.rescan();
  await loader.rescan();
  assert.equal(changes.length, before + 1, "exactly one rulesChanged");
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.endsWith(".tmp")),
    [],
    "no temp files left",
  );
});

test("add refuses an invalid rule and an existing id, writing nothing", async () => {
  const bad = await admin.add({ ...rule("api-2", 1), level: 9 });
  assert.equal(bad.ok, false);
  if (!bad.ok)
    assert.deepEqual(
      bad.problems.map((p) => `${p.path}: ${p.message}`),
      ["$.level: level 9 is out of range 0..5"],
    );
  const dup = await admin.add(rule("m2", 1));
  assert.equal(dup.ok, false);
  assert.ok(!(await readdir(dir)).includes("api-2.json"));
  assert.ok(!(await readdir(dir)).includes("m2.json"));
});

test("update of a rule in a multi-rule file rewrites it keeping the others", async () => {
  const r = await admin.update({ id: "m2", conditions: rule("m2", 222).conditions, title: "edited" });
  assert.equal(r.ok, true);
  const disk = await onDisk("multi.json");
  assert.deepEqual(
    disk.map((x) => `${x.id}:${x.title ?? ""}`),
    ["m1:", "m2:edited", "m3:"],
  );
  assert.equal(JSON.stringify(set.get("m2")?.def.conditions), JSON.stringify(rule("m2", 222).conditions));
  const cleared = await admin.update({ id: "m2", title: null });
  assert.equal(cleared.ok, true);
  assert.equal(set.get("m2")?.def.title, undefined);
  const missing = await admin.update({ id: "nope", level: 1 });
  assert.equal(missing.ok === false && missing.notFound, true);
});

test("del removes a rule from a multi-rule file, or the whole single-rule file", async () => {
  assert.equal((await admin.del("m1")).ok, true);
  assert.deepEqual(
    (await onDisk("multi.json")).map((x) => x.id),
    ["m2", "m3"],
  );
  assert.equal((await admin.del("api-1")).ok, true);
  assert.ok(!(await readdir(dir)).includes("api-1.json"));
  assert.equal(set.get("api-1"), undefined);
  const gone = await admin.del("api-1");
  assert.equal(gone.ok === false && gone.notFound, true);
  await loader.rescan();
  assert.deepEqual(
    set
      .rules()
      .map((r) => r.def.id)
      .sort(),
    ["m2", "m3"],
  );
  assert.deepEqual(
    admin
      .entries()
      .map((x) => x.def.id)
      .sort(),
    ["m2", "m3"],
  );
});

test("rewriting an id-less platform file writes the derived ids in, so they do not move", async () => {
  const bare = (threshold: number, name?: string) => {
    const { id: _id, ...r } = rule("x", threshold);
    return name ? { ...r, name } : r;
  };
  await writeFile(join(dir, "plat.json"), JSON.stringify([bare(1), bare(2, "second"), bare(3)], null, 2));
  await loader.rescan();
  assert.deepEqual(
    set.fileRules(join(dir, "plat.json")).map((r) => r.def.id),
    ["plat.0", "plat.second", "plat.2"],
  );
  const del = await admin.del("plat.0");
  assert.equal(del.ok, true);
  if (del.ok) assert.deepEqual(del.value.doc, { id: "plat.0", ...bare(1) }, "answers the rule as it was");
  const disk = JSON.parse(await readFile(join(dir, "plat.json"), "utf8")) as { id: string }[];
  assert.deepEqual(
    disk.map((r) => r.id),
    ["plat.second", "plat.2"],
    "ids written in: the third rule keeps plat.2",
  );
  const upd = await admin.update({ id: "plat.second", name: "renamed", level: "info" });
  assert.equal(upd.ok, true);
  assert.equal(set.get("plat.second")?.def.level, 1);
  assert.equal(set.get("plat.second")?.def.name, "renamed");
  if (upd.ok) assert.equal(upd.value.doc.level, "info", "as written");
  await admin.del("plat.second");
  await admin.del("plat.2");
});
