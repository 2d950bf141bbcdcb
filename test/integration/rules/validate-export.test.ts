// `edge-agent validate` on a site whose rules/ holds a platform export (an array of rules, and a
// single rule): it passes, printing the warnings (a recipient group not known here, e-mail and WeCom
// not configured, a name the platform would refuse) with file and JSON path.

import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { CliIO } from "../../../src/cli/io.js";
import { main } from "../../../src/cli/validate.js";

test("validate accepts a platform export and prints its warnings without failing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ea-validate-export-"));
  try {
    const rules = join(dir, "rules");
    mkdirSync(rules);
    mkdirSync(join(dir, "hooks"));
    copyFileSync(new URL("../../fixtures/rules/platform-export.json", import.meta.url), join(rules, "pumps.json"));
    writeFileSync(
      join(rules, "leak.json"),
      JSON.stringify({
        name: "seal-leak",
        title: "Seal leak",
        key: "pump",
        level: "fatal",
        interval: "OFF",
        conditions: { all: [{ fact: "leak", operator: "equal", value: true }] },
      }),
    );
    const config = join(dir, "agent.json");
    writeFileSync(config, JSON.stringify({ gatewayId: "gw", rulesDir: rules, hooksDir: join(dir, "hooks") }));
    const out: string[] = [];
    const io: CliIO = { stdout: (s) => out.push(s), stderr: (s) => out.push(s), env: {}, cwd: dir };
    const code = await main(["-c", config], io);
    const text = out.join("");
    assert.equal(code, 0, text);
    const lines = text.trimEnd().split("\n");
    assert.deepEqual(lines.slice(0, -1), [
      `${join(rules, "leak.json")}: $.name: warning: the platform allows only letters and digits in a rule name, got 'seal-leak' — rename it before the rule goes to the platform`,
      `${join(rules, "pumps.json")}: $[0].recipient: warning: recipient '65a1f0c2e4b0a1a2b3c4d5e6' unknown here: nobody is told of this rule's alarms — add it to ${join(dir, "recipients.json")} or remove the field`,
      `${join(rules, "pumps.json")}: $[0].actions.wechat: warning: WeCom is not configured: no WeChat message is sent for this rule — configure notify.wecom (corp id, agent id, secret)`,
      `${join(rules, "pumps.json")}: $[0].actions.email: warning: e-mail is not configured: no e-mail is sent for this rule — configure notify.email (SMTP host, from)`,
    ]);
    assert.equal(lines.at(-1), `${config}: valid — 0 devices, 3 rules, 0 hooks, 0 tasks, 4 warnings`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
