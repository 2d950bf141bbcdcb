// A rule file over the size limit is refused unread: the last good rules stay, one problem names
// the file and the limit, and validate says the same.

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { systemClock } from "../../../src/core/clock.js";
import { RulesLoader } from "../../../src/rules/loader.js";
import { RuleSet } from "../../../src/rules/rule-set.js";
import { validateRulesDir } from "../../../src/rules/validate-dir.js";
import { captureLog, testBus } from "../../helpers/harness.js";
import { waitFor } from "../../helpers/wait.js";

const rule = (id: string, threshold: number, padding = "") => ({
  id,
  key: "meter",
  level: 3,
  description: padding,
  conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: threshold }] },
});

const LIMIT = 4096;
let dir: string;
let set: RuleSet;
let loader: RulesLoader;
const logs = captureLog<Record<string, unknown>>({ level: "debug" });
const logLines = logs.lines;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "rules-size-"));
  await writeFile(join(dir, "a.json"), JSON.stringify(rule("a", 250)));
  const log = logs.log;
  set = new RuleSet();
  loader = new RulesLoader({
    dir,
    ruleSet: set,
    log,
    clock: systemClock,
    events: testBus(log),
    debounceMs: 20,
    rescanMs: 100,
    maxFileBytes: LIMIT,
  });
  await loader.start();
});

after(async () => {
  await loader.stop();
  await rm(dir, { recursive: true, force: true });
});

test("an oversized version of a file is refused and its last good rules stay in force", async () => {
  await writeFile(join(dir, "a.json"), JSON.stringify(rule("a", 999, "x".repeat(LIMIT))));
  await waitFor(() => set.problems().some((p) => p.file.endsWith("a.json")), {
    timeoutMs: 3000,
    what: "oversize problem",
  });
  const p = set.problems().find((x) => x.file.endsWith("a.json"));
  assert.match(p?.message ?? "", /over the 4\.0 KiB limit: not read/);
  const c = set.get("a")?.def.conditions as { all: { value: number }[] };
  assert.equal(c.all[0]?.value, 250, "the last good version stays");
  // Reported once for that version, not on every rescan.
  const before = logLines.filter((l) => JSON.stringify(l).includes("limit")).length;
  await loader.rescan();
  const afterCount = logLines.filter((l) => JSON.stringify(l).includes("limit")).length;
  assert.equal(afterCount, before);
});

test("a file back under the limit loads again", async () => {
  await writeFile(join(dir, "a.json"), JSON.stringify(rule("a", 300)));
  await waitFor(
    () => (set.get("a")?.def.conditions as { all: { value: number }[] } | undefined)?.all[0]?.value === 300,
    {
      timeoutMs: 3000,
      what: "reload",
    },
  );
  assert.equal(set.problems().filter((x) => x.file.endsWith("a.json")).length, 0);
});

test("validate refuses the oversized file with the same message", async () => {
  const vdir = await mkdtemp(join(tmpdir(), "rules-size-validate-"));
  try {
    await writeFile(join(vdir, "big.json"), JSON.stringify(rule("big", 1, "y".repeat(LIMIT))));
    await writeFile(join(vdir, "ok.json"), JSON.stringify(rule("ok", 1)));
    const problems = await validateRulesDir(vdir, LIMIT);
    assert.equal(problems.length, 1);
    assert.ok(problems[0]?.file.endsWith("big.json"));
    assert.match(problems[0]?.message ?? "", /over the 4\.0 KiB limit/);
  } finally {
    await rm(vdir, { recursive: true, force: true });
  }
});
