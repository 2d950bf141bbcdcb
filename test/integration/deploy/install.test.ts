// scripts/install.sh really runs, staged into a temporary root (DESTDIR): layout, config kept on
// upgrade, secrets file private, and the generated unit passes `systemd-analyze verify`.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

const REPO = join(import.meta.dirname, "../../..");
let dir: string;
let src: string;
let root: string;

function install(args: string[] = ["--no-deps"], env: Record<string, string> = { DESTDIR: root }) {
  return spawnSync("bash", [join(src, "scripts/install.sh"), ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    encoding: "utf8",
  });
}

function which(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "edge-agent-install-"));
  src = join(dir, "src");
  root = join(dir, "root");
  // A package as `npm pack` would ship it: the real script, unit and config, a stand-in build.
  for (const p of ["package.json", "package-lock.json", "deploy", "config", "tasks", "scripts/install.sh"]) {
    cpSync(join(REPO, p), join(src, p), { recursive: true });
  }
  mkdirSync(join(src, "dist"), { recursive: true });
  writeFileSync(join(src, "dist/main.js"), '#!/usr/bin/env node\nconsole.log("edge-agent");\n');
  mkdirSync(join(src, "rules"));
  writeFileSync(join(src, "rules/sample.json"), '{"id":"sample"}\n');
  mkdirSync(root);
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("install.sh with DESTDIR", () => {
  it("first install lays out code, config, data, unit and a private secrets file", () => {
    const r = install();
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.ok(existsSync(join(root, "opt/edge-agent/dist/main.js")));
    assert.equal(statSync(join(root, "opt/edge-agent/dist/main.js")).mode & 0o111, 0o111, "main.js is executable");
    assert.equal(readlinkSync(join(root, "usr/local/bin/edge-agent")), "/opt/edge-agent/dist/main.js");
    assert.ok(statSync(join(root, "var/lib/edge-agent")).isDirectory());
    const cfg = JSON.parse(readFileSync(join(root, "etc/edge-agent/agent.json"), "utf8"));
    assert.equal(cfg.dataDir, "/var/lib/edge-agent");
    assert.equal(cfg.rulesDir, "/etc/edge-agent/rules");
    assert.equal(cfg.hooksDir, "/etc/edge-agent/hooks");
    assert.equal(cfg.tasksDir, "/etc/edge-agent/tasks");
    // The recipients file sits in a directory of its own, writable by the service (atomic rewrites).
    assert.equal(cfg.notify.recipientsFile, "/etc/edge-agent/notify/recipients.json");
    const recipients = JSON.parse(readFileSync(join(root, "etc/edge-agent/notify/recipients.json"), "utf8"));
    assert.ok(recipients.recipients.length > 0, "the example recipient groups on first install");
    assert.ok(existsSync(join(root, "etc/edge-agent/rules/sample.json")), "sample rules on first install");
    assert.ok(existsSync(join(root, "etc/edge-agent/tasks/demo-heartbeat.json")), "sample tasks on first install");
    const env = join(root, "etc/edge-agent/edge-agent.env");
    assert.equal(statSync(env).mode & 0o777, 0o600);
    assert.match(readFileSync(env, "utf8"), /^API_TOKEN=[0-9a-f]{48}$/m);

    const unit = readFileSync(join(root, "etc/systemd/system/edge-agent.service"), "utf8");
    assert.doesNotMatch(unit, /@[A-Z]+@/, "every placeholder is filled");
    for (const line of [
      "User=edge-agent",
      "SupplementaryGroups=dialout",
      "Restart=on-failure",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "StandardOutput=journal",
      "ReadWritePaths=/var/lib/edge-agent /etc/edge-agent/rules /etc/edge-agent/tasks /etc/edge-agent/notify",
      "EnvironmentFile=-/etc/edge-agent/edge-agent.env",
    ]) {
      assert.ok(unit.split("\n").includes(line), `unit has ${line}`);
    }
    assert.match(
      unit,
      /^ExecStart=\/\S*node \/opt\/edge-agent\/dist\/main\.js run -c \/etc\/edge-agent\/agent\.json$/m,
    );
  });

  it("upgrade keeps config, secrets and rules, and keeps the previous code for rollback", () => {
    const cfgPath = join(root, "etc/edge-agent/agent.json");
    const site = `${readFileSync(cfgPath, "utf8").trimEnd().slice(0, -1)}, "gatewayId": "site-7" }\n`;
    writeFileSync(cfgPath, site);
    const envPath = join(root, "etc/edge-agent/edge-agent.env");
    const envBefore = readFileSync(envPath, "utf8");
    rmSync(join(root, "etc/edge-agent/rules/sample.json"));
    const recipientsPath = join(root, "etc/edge-agent/notify/recipients.json");
    const siteRecipients = '{"users": [], "recipients": []}\n';
    writeFileSync(recipientsPath, siteRecipients);
    writeFileSync(join(src, "dist/main.js"), '#!/usr/bin/env node\nconsole.log("edge-agent v2");\n');

    const r = install();
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.equal(readFileSync(cfgPath, "utf8"), site, "agent.json untouched");
    assert.ok(existsSync(join(root, "etc/edge-agent/agent.json.dist")), "new default beside it");
    assert.equal(readFileSync(envPath, "utf8"), envBefore, "secrets untouched");
    assert.ok(!existsSync(join(root, "etc/edge-agent/rules/sample.json")), "a deleted sample rule stays deleted");
    assert.equal(readFileSync(recipientsPath, "utf8"), siteRecipients, "the site's recipients untouched");
    assert.match(readFileSync(join(root, "opt/edge-agent/dist/main.js"), "utf8"), /v2/);
    assert.match(readFileSync(join(root, "opt/edge-agent.old/dist/main.js"), "utf8"), /"edge-agent"/);
  });

  it("refuses clearly when the build is missing or an option is unknown", () => {
    const bad = install(["--bogus"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown option --bogus/);
    const dist = join(src, "dist/main.js");
    const saved = readFileSync(dist);
    rmSync(dist);
    try {
      const r = install();
      assert.equal(r.status, 1);
      assert.match(r.stderr, /dist\/main\.js is missing: build first/);
    } finally {
      writeFileSync(dist, saved);
    }
  });

  it("the unit passes systemd-analyze verify", {
    skip: which("systemd-analyze") ? false : "systemd-analyze not installed",
  }, () => {
    const unit = join(dir, "edge-agent.service");
    cpSync(join(root, "etc/systemd/system/edge-agent.service"), unit);
    const r = spawnSync("systemd-analyze", ["verify", unit], { encoding: "utf8" });
    const ours = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.includes("edge-agent.service"));
    assert.deepEqual(ours, [], "no warning about our unit");
    assert.equal(r.status, 0, r.stderr);
    // Exposure score (0 best – 10 worst): the sandbox must keep it low.
    const sec = spawnSync("systemd-analyze", ["security", "--offline=yes", unit], { encoding: "utf8" });
    const m = /Overall exposure level for edge-agent\.service: ([0-9.]+)/.exec(sec.stdout);
    if (m) assert.ok(Number(m[1]) <= 3, `exposure ${m[1]}`);
  });
});
