import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
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
