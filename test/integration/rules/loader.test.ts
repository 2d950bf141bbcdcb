// Hot reload against a real directory: add, change, delete, a broken file keeping its last good
// rules, editor leftovers ignored — each visible within the SPEC's 2 s.

import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { systemClock } from "../../../src/core/clock.js";
import { createLogger } from "../../../src/core/log.js";
import { RulesLoader } from "../../../src/rules/loader.js";
import { RuleSet } from "../../../src/rules/rule-set.js";
import { captureLog, testBus } from "../../helpers/harness.js";
import { waitFor } from "../../helpers/wait.js";

const rule = (id: string, threshold: number) => ({
  id,
  key: "meter",
  level: 3,
  conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: threshold }] },
});

let dir: string;
let set: RuleSet;
let loader: RulesLoader;
const logs = captureLog<Record<string, unknown>>({ level: "debug" });
const logLines = logs.lines;
const changes: number[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "rules-loader-"));
  await writeFile(join(dir, "a.json"), JSON.stringify(rule("a", 250)));
  await writeFile(join(dir, "notes.txt"), "not a rule file");
  const log = logs.log;
  const events = testBus(log);
  events.on("rulesChanged", (n) => changes.push(n));
  set = new RuleSet();
  loader = new RulesLoader({ dir, ruleSet: set, log, clock: systemClock, events, debounceMs: 50 });
  await loader.start();
});

after(async () => {
  await loader.stop();
  await rm(dir, { recursive: true, force: true });
});

const ids = () =>
  set
    .rules()
    .map((r) => r.def.id)
    .join(",");
const threshold = (id: string) => {
  const c = set.get(id)?.def.conditions as { all: { value: number }[] } | undefined;
  return c?.all[0]?.value;
};

test("loads at start and announces it", () => {
  assert.equal(ids(), "a");
  assert.deepEqual(changes, [1]);
});

test("an added file takes effect within 2 s", async () => {
  await writeFile(join(dir, "b.json"), JSON.stringify([rule("b1", 1), rule("b2", 2)]));
  await waitFor(() => ids() === "a,b1,b2", { timeoutMs: 2000, what: "b.json loaded" });
  assert.equal(changes.at(-1), 3);
});

test("a changed file takes effect within 2 s", async () => {
  await writeFile(join(dir, "a.json"), JSON.stringify(rule("a", 260)));
  await waitFor(() => threshold("a") === 260, { timeoutMs: 2000, what: "a.json reloaded" });
});

test("a broken file is reported and its last good rules stay", async () => {
  await writeFile(join(dir, "a.json"), '{"id": "a", "key": "meter", "level": 3,\n "conditions": {"all": [}}');
  const p = await waitFor(() => set.problems().find((x) => x.file === join(dir, "a.json")), {
    timeoutMs: 2000,
    what: "problem reported",
  });
  assert.equal(p.line, 2);
  assert.equal(threshold("a"), 260, "last good version in force");
  const logged = logLines.find((l) => l.level === 50 && l.file === join(dir, "a.json"));
  assert.equal(logged?.path, "$");
  assert.match(String(logged?.reason), /invalid JSON/);

  await writeFile(join(dir, "a.json"), JSON.stringify({ ...rule("a", 270), levl: 3 }));
  await waitFor(() => set.problems().some((x) => x.message.startsWith("unknown key 'levl'")), { timeoutMs: 2000 });
  assert.equal(threshold("a"), 260);

  await writeFile(join(dir, "a.json"), JSON.stringify(rule("a", 280)));
  await waitFor(() => threshold("a") === 280 && set.problems().length === 0, { timeoutMs: 2000, what: "fixed" });
});

test("a duplicate id in another file is refused until the id is free", async () => {
  await writeFile(join(dir, "c.json"), JSON.stringify(rule("b1", 5)));
  await waitFor(() => set.problems().some((x) => x.file === join(dir, "c.json")), { timeoutMs: 2000 });
  assert.equal(ids(), "a,b1,b2");
  await writeFile(join(dir, "b.json"), JSON.stringify([rule("b2", 2)]));
  await waitFor(() => ids() === "a,b2,b1" && set.get("b1")?.file === join(dir, "c.json"), {
    timeoutMs: 2000,
    what: "c.json applied after b1 left b.json",
  });
  assert.deepEqual(set.problems(), []);
});

test("a deleted file's rules leave within 2 s; editor leftovers are ignored", async () => {
  await writeFile(join(dir, ".#a.json"), "garbage");
  await writeFile(join(dir, "a.json~"), "garbage");
  await writeFile(join(dir, ".a.json.swp"), "garbage");
  await unlink(join(dir, "c.json"));
  await waitFor(() => ids() === "a,b2", { timeoutMs: 2000, what: "c.json removed" });
  await loader.rescan();
  assert.deepEqual(set.problems(), []);
});

test("without change notifications the periodic rescan alone applies changes; a missing directory is waited for", async () => {
  const root = await mkdtemp(join(tmpdir(), "rules-loader-rescan-"));
  const sub = join(root, "rules");
  const own = new RuleSet();
  const log = createLogger({ level: "silent" });
  const l = new RulesLoader({
    dir: sub,
    ruleSet: own,
    log,
    clock: systemClock,
    events: testBus(log),
    watch: false,
  });
  try {
    await l.start();
    assert.equal(own.rules().length, 0);
    await mkdir(sub);
    await writeFile(join(sub, "x.json"), JSON.stringify(rule("x", 1)));
    await waitFor(() => own.get("x"), { timeoutMs: 2000, what: "x.json found by rescan" });
    await writeFile(join(sub, "x.json"), JSON.stringify(rule("x", 2)));
    await waitFor(() => JSON.stringify(own.get("x")?.def.conditions).includes('"value":2'), { timeoutMs: 2000 });
  } finally {
    await l.stop();
    await rm(root, { recursive: true, force: true });
  }
});
