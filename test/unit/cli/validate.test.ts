// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the fixtures are config text with ${ENV} references
// `validate` in-process: config, rules and hooks problems together, exit codes, summary counts.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import type { CliIO } from "../../../src/cli/io.js";
import { main } from "../../../src/cli/validate.js";

const dir = mkdtempSync(join(tmpdir(), "ea-validate-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function capture(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env, cwd: dir };
  return { io, out: () => out.join(""), err: () => err.join("") };
}

function site(name: string, config: Record<string, unknown>, hooks: Record<string, string> = {}): string {
  const base = join(dir, name);
  mkdirSync(join(base, "rules"), { recursive: true });
  mkdirSync(join(base, "hooks"), { recursive: true });
  for (const [f, text] of Object.entries(hooks)) writeFileSync(join(base, "hooks", f), text);
  const file = join(base, "agent.json");
  writeFileSync(
    file,
    JSON.stringify({ rulesDir: join(base, "rules"), hooksDir: join(base, "hooks"), ...config }, null, 2),
  );
  return file;
}

describe("edge-agent validate", () => {
  test("valid config with a hook and a warning: exit 0, the warning printed, counts in the summary", async () => {
    const file = site(
      "ok",
      {
        gatewayId: "gw",
        mqtt: {
          url: "mqtt://127.0.0.1:1883",
          port: 1884,
          subscriptions: [{ topic: "env/+/data", device: "{1}", product: "env" }],
        },
        devices: { "sensor-1": { product: "env", name: "Hall" } },
      },
      { "notify.mjs": "export default { onAlarmCreated() {} };\n", "_draft.mjs": "throw new Error('x');\n" },
    );
    // Task files are checked too, and counted.
    const tasksDir = join(dirname(file), "tasks");
    mkdirSync(tasksDir);
    const task = {
      name: "ping",
      schedule: { every: 60 },
      actions: [{ type: "mqtt.publish", topic: "t", payload: "x" }],
    };
    writeFileSync(join(tasksDir, "ping.json"), JSON.stringify(task));
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), tasksDir }));
    const c = capture();
    const code = await main(["-c", file], c.io);
    assert.equal(code, 0, c.out());
    const lines = c.out().trimEnd().split("\n");
    assert.ok(
      lines.includes(`${file}: $.mqtt.port: warning: only used by the embedded broker — put the port in mqtt.url`),
    );
    assert.equal(lines.at(-1), `${file}: valid — 1 device, 0 rules, 1 hook, 1 task, 1 warning`);

    // A task that names an unknown device fails validation, with its file and path.
    writeFileSync(
      join(tasksDir, "bad.json"),
      JSON.stringify({ ...task, actions: [{ type: "modbus.write", device: "pump-01", point: "run", value: false }] }),
    );
    const c2 = capture();
    assert.equal(await main(["-c", file], c2.io), 1, c2.out());
    assert.match(c2.out(), /bad\.json.*\$\.actions\[0\]/);
  });

  test("config and hook problems are reported together; exit 1", async () => {
    const file = site(
      "bad",
      { gatewayId: "gw", http: { host: "0.0.0.0" } },
      { "broken.mjs": "export default { onAlarmCreated( {} };\n" },
    );
    const c = capture();
    const code = await main(["-c", file], c.io);
    assert.equal(code, 1);
    const out = c.out();
    assert.ok(out.includes(`${file}: $.http.token: required when http.host is '0.0.0.0'`), out);
    assert.match(out, /broken\.mjs: \$: cannot import hook: /);
    assert.match(out, /: not valid \(2 errors\)\n$/);
  });

  test("hooks are still checked when the config is invalid, in the directory the file names", async () => {
    const file = site(
      "partly",
      { gatewayId: "gw", upstream: { baseUrl: "https://x.example", token: "${NOT_SET_TOKEN}" } },
      { "broken.mjs": "export default {;\n" },
    );
    const c = capture();
    assert.equal(await main(["-c", file], c.io), 1);
    assert.ok(c.out().includes(`${file}: $.upstream.token: environment variable NOT_SET_TOKEN is not set\n`));
    assert.match(c.out(), /partly\/hooks\/broken\.mjs: \$: cannot import hook/);
  });

  test("an unknown option is a usage error", async () => {
    const c = capture();
    assert.equal(await main(["--plna"], c.io), 2);
    assert.match(c.err(), /Usage: edge-agent validate/);
  });

  test("--plan prints the plan or says the planner is missing", async () => {
    const file = site("plan", {
      gatewayId: "gw",
      modbus: {
        buses: [{ id: "b", transport: "tcp", host: "127.0.0.1" }],
        devices: [
          {
            id: "m",
            bus: "b",
            unitId: 1,
            product: "meter",
            points: [{ name: "v", table: "holding", address: 0, type: "uint16" }],
          },
        ],
      },
    });
    const c = capture();
    assert.equal(await main(["-c", file, "--plan"], c.io), 0, c.out());
    assert.ok(/note: no Modbus request plan/.test(c.out()) || /\bm\b/.test(c.out()), c.out());
  });

  test("recipients: a rule naming an unknown group or a bad e-mail address warns (exit 0); a bad recipients file fails", async () => {
    const file = site("recipients", { gatewayId: "gw", notify: { recipientsFile: "notify/recipients.json" } });
    const base = dirname(file);
    const recipients = join(dir, "notify", "recipients.json");
    mkdirSync(dirname(recipients), { recursive: true });
    writeFileSync(
      recipients,
      JSON.stringify({
        users: [{ id: "u1", realname: "Li Lei", phone: "+86 138 0000 0001" }],
        recipients: [{ id: "day", name: "Day shift", users: ["u1"] }],
      }),
    );
    const rule = (id: string, over: Record<string, unknown>) => ({
      id,
      name: id,
      key: "pump",
      conditions: { all: [{ fact: "running", operator: "equal", value: false }] },
      ...over,
    });
    writeFileSync(
      join(base, "rules", "pumps.json"),
      JSON.stringify([
        rule("pumpStopped", { recipient: "ops-night" }),
        rule("pumpDry", { recipient: "day", actions: { email: "ops.example.com" } }),
      ]),
    );
    const c = capture();
    assert.equal(await main(["-c", file], c.io), 0, c.out());
    const lines = c.out().split("\n");
    const rules = join(base, "rules", "pumps.json");
    assert.ok(
      lines.includes(
        `${rules}: $[0].recipient: warning: recipient 'ops-night' unknown here: nobody is told of this rule's alarms — add it to ${recipients} or remove the field`,
      ),
      c.out(),
    );
    assert.ok(
      lines.some((l) =>
        l.startsWith(`${rules}: $[1].actions.email: warning: 'ops.example.com' is not an e-mail address`),
      ),
      c.out(),
    );
    assert.equal(
      lines.some((l) => l.includes("$[1].recipient")),
      false,
      "a known group is not warned about",
    );

    writeFileSync(
      recipients,
      JSON.stringify({ users: [{ id: "u1", email: "u1@example" }], recipients: [{ id: "day", users: ["u2"] }] }),
    );
    const c2 = capture();
    assert.equal(await main(["-c", file], c2.io), 1, c2.out());
    assert.match(
      c2.out(),
      /recipients\.json: \$\.recipients\[0\]\.users\[0\]: unknown user 'u2' — did you mean 'u1'\?/,
    );
  });
});
