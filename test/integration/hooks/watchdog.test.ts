// The real `edge-agent run` and `edge-agent validate` as child processes, with hooks that try to end
// or freeze the agent: process.exit at import and in a handler is refused and logged with the hook
// and method while the other hooks keep working; a hook that spins in a handler is caught by the
// watchdog (hooks.watchdogS), which logs it, quarantines it and kills the process; on restart the
// hook is not loaded (visible in /status and validate) until its file changes.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import mqtt from "mqtt";
import { type AgentProcess, makeTempDir, REPO, removeDir, startAgent } from "../../helpers/agent-process.js";
import { startBroker, type TestBroker } from "../../helpers/broker.js";
import { freePort, waitFor } from "../../helpers/wait.js";

let broker: TestBroker;
const agents: AgentProcess[] = [];
const dirs: string[] = [];

before(async () => {
  broker = await startBroker();
});
after(async () => {
  for (const a of agents) await a.kill();
  await broker?.stop();
  for (const d of dirs) removeDir(d);
});

function site(hooks: Record<string, string>, extra: Record<string, unknown> = {}) {
  const dir = makeTempDir("ea-hook-guard-");
  dirs.push(dir);
  mkdirSync(join(dir, "rules"));
  mkdirSync(join(dir, "hooks"));
  for (const [name, src] of Object.entries(hooks)) writeFileSync(join(dir, "hooks", name), src);
  const config = {
    gatewayId: "gw-guard",
    dataDir: join(dir, "data"),
    rulesDir: join(dir, "rules"),
    hooksDir: join(dir, "hooks"),
    mqtt: {
      url: broker.url,
      clientId: `edge-agent-guard-${process.pid}-${dirs.length}`,
      subscriptions: [{ topic: `guard${dirs.length}/+/telemetry`, device: "{1}", product: "meter", values: "$" }],
    },
    http: { enabled: false },
    ...extra,
  };
  return { dir, config, topic: (device: string) => `guard${dirs.length}/${device}/telemetry` };
}

async function publish(topic: string, voltage: number): Promise<void> {
  const pub = await mqtt.connectAsync(broker.url, { clientId: `pub-guard-${process.pid}-${Math.random()}` });
  try {
    await pub.publishAsync(topic, JSON.stringify({ voltage }), { qos: 1 });
  } finally {
    await pub.endAsync();
  }
}

function validate(configFile: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(REPO, "src/main.ts"), "validate", "-c", configFile],
      { cwd: REPO, env: { PATH: process.env.PATH }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? -1) : 0, stdout, stderr }),
    );
  });
}

const GOOD = `export default { onReading(r, d, ctx) { ctx.log.info({ voltage: r.values.voltage }, "good hook saw a reading"); } };`;

test("process.exit at import and in handlers is refused and logged with hook and method; the agent runs on", async () => {
  const s = site({
    "a-exit-import.mjs": "process.exit(1);\nexport default { onReading() {} };",
    "b-exit-handler.mjs": "export default { onReading() { process.exit(3); } };",
    "c-kill-async.mjs":
      "export default { async onReading() { await new Promise((r) => setTimeout(r, 5)); process.kill(process.pid, 'SIGKILL'); } };",
    "z-good.mjs": GOOD,
  });
  const a = startAgent(s.config, { dir: s.dir });
  agents.push(a);
  await a.waitForLog((l) => l.msg === "MQTT subscriptions active", "MQTT subscriptions");
  const refusal = (hook: string, method: string) =>
    a.lines.find((l) => l.hook === hook && l.method === method && /^process\.\w+\(.*\) refused: hook /.test(l.msg));
  assert.match(String(refusal("a-exit-import", "import")?.msg), /process\.exit\(1\) refused: hook a-exit-import/);
  for (const v of [231, 232]) {
    await publish(s.topic("m1"), v);
    await a.waitForLog((l) => l.msg === "good hook saw a reading" && l.voltage === v, `reading ${v} handled`);
  }
  await a.waitForLog((l) => refusal("b-exit-handler", "onReading") === l, "b-exit-handler refusal");
  await a.waitForLog((l) => refusal("c-kill-async", "onReading") === l, "c-kill-async refusal");
  assert.match(String(refusal("b-exit-handler", "onReading")?.msg), /process\.exit\(3\) refused/);
  // The agent's own shutdown still ends the process cleanly.
  assert.equal(await a.stop(), 0);
});

test("a hook that spins in a handler: watchdog kills the agent naming it; quarantined on restart until its file changes", async () => {
  const httpPort = await freePort();
  const spin = "export default { onReading(r) { if (r.values.voltage > 900) { while (true) {} } } };";
  const s = site(
    { "spin.mjs": spin, "z-good.mjs": GOOD },
    { hooks: { watchdogS: 2 }, http: { host: "127.0.0.1", port: httpPort } },
  );
  const a = startAgent(s.config, { dir: s.dir });
  agents.push(a);
  await a.waitForLog((l) => l.msg === "MQTT subscriptions active", "MQTT subscriptions");
  await publish(s.topic("m1"), 230);
  await a.waitForLog((l) => l.msg === "good hook saw a reading", "first reading");
  const t0 = Date.now();
  await publish(s.topic("m1"), 999);
  await waitFor(() => a.child.exitCode !== null || a.child.signalCode !== null, {
    what: "the watchdog ends the frozen agent",
    timeoutMs: 15_000,
  });
  assert.ok(Date.now() - t0 < 15_000);
  assert.equal(a.child.signalCode, "SIGKILL", "a failure for the service manager (status=9/KILL)");
  const fatal = await waitFor(() => a.lines.find((l) => l.level === 60 && l.hook === "spin"), { what: "fatal line" });
  assert.equal(fatal.method, "onReading");
  assert.match(fatal.msg, /event loop blocked for [\d.]+ s by hook spin \(onReading, .*spin\.mjs\)/);
  assert.match(fatal.msg, /quarantined/);
  const q = JSON.parse(readFileSync(join(s.dir, "data", "hook-quarantine.json"), "utf8")) as {
    hooks: Record<string, { method: string; sha256: string }>;
  };
  assert.equal(q.hooks.spin?.method, "onReading");

  // Restart: spin is quarantined, the good hook runs.
  const b = startAgent(s.config, { dir: s.dir });
  agents.push(b);
  await b.waitForLog((l) => l.msg === "edge-agent started", "restart");
  assert.ok(b.lines.some((l) => l.hook === "spin" && /quarantined since .*onReading/.test(l.msg)));
  const status = (await (await fetch(`http://127.0.0.1:${httpPort}/status`)).json()) as {
    data: { hooks: { name: string; state: string; lastError?: string }[] };
  };
  const hooks = Object.fromEntries(status.data.hooks.map((h) => [h.name, h]));
  assert.equal(hooks.spin?.state, "quarantined");
  assert.match(String(hooks.spin?.lastError), /blocked the event loop .* in onReading/);
  assert.equal(hooks["z-good"]?.state, "running");
  await publish(s.topic("m1"), 999);
  await b.waitForLog((l) => l.msg === "good hook saw a reading" && l.voltage === 999, "the agent runs on");

  const v = await validate(b.configFile);
  assert.equal(v.code, 1, v.stdout + v.stderr);
  assert.match(v.stdout, /spin\.mjs.*quarantined since .*onReading/);

  // An edited file leaves the quarantine and loads (the running agent picks it up).
  writeFileSync(join(s.dir, "hooks", "spin.mjs"), spin.replace("while (true) {}", "return;"));
  await b.waitForLog((l) => l.hook === "spin" && l.msg === "hook loaded", "spin loaded again", 15_000);
  const after = (await (await fetch(`http://127.0.0.1:${httpPort}/status`)).json()) as typeof status;
  assert.equal(after.data.hooks.find((h) => h.name === "spin")?.state, "running");
  assert.equal((await validate(b.configFile)).code, 0);
  assert.equal(await b.stop(), 0);
});

test("validate with a hook that exits at import prints a problem naming it and exits 1", async () => {
  const s = site({ "bad.mjs": "process.exit(0);\nexport default { onReading() {} };", "z-good.mjs": GOOD });
  const configFile = join(s.dir, "agent.json");
  writeFileSync(configFile, JSON.stringify(s.config));
  const v = await validate(configFile);
  assert.equal(v.code, 1);
  assert.match(v.stdout, /bad\.mjs.*cannot import hook: process\.exit\(0\) refused/);
  assert.match(v.stderr, /checking hook .*bad\.mjs\n/);
});

test("a hook that spins at import: the watchdog names it (import) and the restarted agent starts without it", async () => {
  const s = site(
    { "stuck.mjs": "while (true) {}\nexport default { onReading() {} };", "z-good.mjs": GOOD },
    {
      hooks: { watchdogS: 2 },
    },
  );
  const a = startAgent(s.config, { dir: s.dir });
  agents.push(a);
  await waitFor(() => a.child.signalCode !== null || a.child.exitCode !== null, {
    what: "the watchdog ends the agent stuck at start",
    timeoutMs: 20_000,
  });
  assert.equal(a.child.signalCode, "SIGKILL");
  const fatal = await waitFor(() => a.lines.find((l) => l.level === 60 && l.hook === "stuck"), { what: "fatal line" });
  assert.equal(fatal.method, "import");
  const b = startAgent(s.config, { dir: s.dir });
  agents.push(b);
  await b.waitForLog((l) => l.msg === "edge-agent started", "restart without the stuck hook");
  assert.ok(b.lines.some((l) => l.hook === "stuck" && /quarantined since .* in import/.test(l.msg)));
  assert.equal(await b.stop(), 0);
});
