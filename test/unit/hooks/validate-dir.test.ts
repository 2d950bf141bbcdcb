import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, test } from "node:test";
import { fileSha256, writeQuarantine } from "../../../src/hooks/quarantine.js";
import { validateHooksDir } from "../../../src/hooks/validate-dir.js";

const root = mkdtempSync(join(tmpdir(), "ea-hooks-validate-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("validate reports import errors, non-hook modules and misspelt methods with did-you-mean", async () => {
  const dir = join(root, "hooks");
  mkdirSync(dir);
  writeFileSync(join(dir, "good.mjs"), "export default { onAlarmCreated() {}, formatMessage() {} };");
  writeFileSync(join(dir, "typo.mjs"), "export default { onAlarmCreate() {}, onReading() {} };");
  writeFileSync(join(dir, "klass.mjs"), "export default class { beforeAlarms(a) { return a; } onReading() {} };");
  writeFileSync(join(dir, "broken.mjs"), "export default { onReading( };");
  writeFileSync(join(dir, "named.mjs"), "export function onReading() {}");
  writeFileSync(join(dir, "off.mjs"), "export default 42;");
  writeFileSync(join(dir, "_draft.mjs"), "this is not javascript");
  const problems = await validateHooksDir(dir, ["off"]);
  const byFile = problems.map((p) => [p.file.slice(dir.length + 1), p.path, p.message]);
  assert.equal(byFile.length, 4, JSON.stringify(byFile));
  assert.deepEqual(byFile[0]?.slice(0, 2), ["broken.mjs", "$"]);
  assert.match(String(byFile[0]?.[2]), /^cannot import hook: /);
  assert.deepEqual(byFile[1], [
    "klass.mjs",
    "$.beforeAlarms",
    "unknown hook method beforeAlarms (did you mean beforeAlarm?)",
  ]);
  assert.deepEqual(byFile[2], [
    "named.mjs",
    "$",
    "not a hook: no default export (it exports onReading by name; export one object as default instead); the agent skips it",
  ]);
  assert.deepEqual(byFile[3], [
    "typo.mjs",
    "$.onAlarmCreate",
    "unknown hook method onAlarmCreate (did you mean onAlarmCreated?)",
  ]);
  assert.deepEqual(
    problems.map((p) => p.severity ?? "error"),
    ["error", "error", "warning", "error"],
  );
  assert.deepEqual(await validateHooksDir(join(root, "missing"), []), []);
});

test("validate survives hooks that exit, kill or spin at import: each is a problem naming the file", async () => {
  const dir = join(root, "faults");
  mkdirSync(dir);
  writeFileSync(join(dir, "a-exit.mjs"), "process.exit(1);\nexport default { onReading() {} };");
  writeFileSync(join(dir, "b-kill.mjs"), "process.kill(process.pid, 'SIGKILL');\nexport default { onReading() {} };");
  writeFileSync(join(dir, "c-spin.mjs"), "while (true) {}\nexport default { onReading() {} };");
  writeFileSync(join(dir, "d-good.mjs"), "setInterval(() => {}, 1000);\nexport default { onReading() {} };");
  writeFileSync(
    join(dir, "e-cjs.js"),
    "module.exports = { __esModule: true, default: { onAlarmCreatd() {}, onReading() {} } };",
  );
  const seen: string[] = [];
  const t0 = Date.now();
  const problems = await validateHooksDir(dir, [], { importTimeoutMs: 1000, onFile: (f) => seen.push(basename(f)) });
  assert.ok(Date.now() - t0 < 10_000, "bounded time");
  assert.deepEqual(seen, ["a-exit.mjs", "b-kill.mjs", "c-spin.mjs", "d-good.mjs", "e-cjs.js"]);
  const byFile = problems.map((p) => [basename(p.file), p.path, p.message]);
  assert.equal(byFile.length, 4, JSON.stringify(byFile));
  assert.match(String(byFile[0]?.[2]), /^cannot import hook: process\.exit\(1\) refused/);
  assert.match(String(byFile[1]?.[2]), /^cannot import hook: process\.kill\(\d+, "SIGKILL"\) refused/);
  assert.equal(byFile[2]?.[0], "c-spin.mjs");
  assert.match(String(byFile[2]?.[2]), /did not finish within 1 s/);
  assert.deepEqual(byFile[3], [
    "e-cjs.js",
    "$.onAlarmCreatd",
    "unknown hook method onAlarmCreatd (did you mean onAlarmCreated?)",
  ]);
});

test("validate reports a quarantined hook (unchanged file) without importing it", async () => {
  const dir = join(root, "q-hooks");
  const dataDir = join(root, "q-data");
  mkdirSync(dir);
  mkdirSync(dataDir);
  const file = join(dir, "spin.mjs");
  writeFileSync(file, "while (true) {}\nexport default { onReading() {} };");
  writeQuarantine(
    dataDir,
    new Map([
      [
        "spin",
        {
          file,
          sha256: fileSha256(file),
          method: "import",
          reason: "it blocked the event loop",
          at: "2026-01-01T00:00:00Z",
        },
      ],
    ]),
  );
  const problems = await validateHooksDir(dir, [], { dataDir, importTimeoutMs: 60_000 });
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.severity ?? "error", "error");
  assert.match(
    String(problems[0]?.message),
    /^quarantined since 2026-01-01T00:00:00Z: it blocked the event loop; hook spin is not loaded until its file changes/,
  );
  writeFileSync(file, "export default { onReading() {} };");
  assert.deepEqual(await validateHooksDir(dir, [], { dataDir }), []);
});
