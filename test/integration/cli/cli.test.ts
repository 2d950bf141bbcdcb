// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the fixtures are config text with ${ENV} references
// The real binary as a child process: argv handling, exit codes, and `validate` output.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";

const root = process.cwd();
const dir = mkdtempSync(join(tmpdir(), "ea-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(root, "src/main.ts"), ...args],
      { cwd: root, env: { PATH: process.env.PATH, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function goodConfig(): Record<string, unknown> {
  const rules = join(dir, "rules");
  const hooks = join(dir, "hooks");
  mkdirSync(rules, { recursive: true });
  mkdirSync(hooks, { recursive: true });
  return {
    gatewayId: "gw-test",
    dataDir: join(dir, "data"),
    rulesDir: rules,
    hooksDir: hooks,
    tasksDir: join(dir, "tasks"),
    modbus: {
      buses: [{ id: "plant", transport: "tcp", host: "127.0.0.1", port: 1502 }],
      devices: [
        {
          id: "meter-01",
          bus: "plant",
          unitId: 1,
          product: "meter",
          points: [{ name: "voltage", table: "holding", address: 0, type: "float32" }],
        },
      ],
    },
    http: { host: "127.0.0.1", port: 0, token: "${API_TOKEN}" },
  };
}

describe("edge-agent binary", () => {
  test("--version prints package.json's version", async () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    const r = await cli(["--version"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${pkg.version}\n`);
  });

  test("--help prints usage on stdout, exit 0", async () => {
    const r = await cli(["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: edge-agent <command> \[options\]/);
    for (const c of ["run", "validate", "alarms", "outbox", "sim"]) assert.match(r.stdout, new RegExp(`\\n  ${c} `));
  });

  test("an unknown command prints usage on stderr, exit 2", async () => {
    const r = await cli(["frobnicate"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^edge-agent: unknown command 'frobnicate'\n\nUsage:/);
    assert.equal(r.stdout, "");
  });

  test("validate: a bad config prints every problem with file and path, exit 1", async () => {
    const cfg = goodConfig();
    const modbus = cfg.modbus as { devices: Array<Record<string, unknown>> };
    modbus.devices[0]!.bus = "plnt";
    (cfg as Record<string, unknown>).mqtt = { url: "embedded", subscribtions: [] };
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    const r = await cli(["validate", "-c", file]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.split("\n");
    // Schema problems stop before semantic checks; the missing variable is reported alongside.
    assert.ok(lines.includes(`${file}: $.http.token: environment variable API_TOKEN is not set`), r.stdout);
    assert.ok(lines.includes(`${file}: $.mqtt.subscribtions: unknown key — did you mean 'subscriptions'?`), r.stdout);
    assert.match(r.stdout, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not valid \\(2 errors\\)\\n$`));
  });

  test("validate: a JSON syntax error is reported with line:column", async () => {
    const file = join(dir, "syntax.json");
    writeFileSync(file, '{\n  "gatewayId": "gw",\n  "dataDir": "./d" "x"\n}\n');
    const r = await cli(["validate", "-c", file]);
    assert.equal(r.code, 1);
    assert.ok(r.stdout.startsWith(`${file}:3:20: $: invalid JSON: expected ',' or '}', found '"'\n`), r.stdout);
  });

  test("validate: a good config exits 0 with a one-line summary", async () => {
    const file = join(dir, "good.json");
    writeFileSync(file, JSON.stringify(goodConfig(), null, 2));
    const r = await cli(["validate", "-c", file], { API_TOKEN: "secret-token-123" });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /: valid — 1 device, 0 rules, 0 hooks, 0 tasks\n$/);
    assert.ok(!r.stdout.includes("secret-token-123"));
  });

  test("validate: the bundled demo config passes with an empty environment", async () => {
    const r = await cli(["validate"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\.\/config\/agent\.json: valid — 1 device, \d+ rules?, \d+ hooks?, \d+ tasks?\n$/);
  });
});
