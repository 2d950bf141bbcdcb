// `npm start` as a new user sees it: the bundled config (embedded broker, simulated Modbus meter,
// sample rules and hooks) shows readings, a raised alarm and its resolution, and stops cleanly.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { type AgentProcess, makeTempDir, REPO, removeDir, startAgent } from "../helpers/agent-process.js";
import { freePort } from "../helpers/wait.js";

const agents: AgentProcess[] = [];
const dirs: string[] = [];
after(async () => {
  for (const a of agents) await a.kill();
  for (const d of dirs) removeDir(d);
});

test("the bundled demo config reads the simulated meter, raises and resolves the over-voltage alarm", async () => {
  const config = JSON.parse(readFileSync(join(REPO, "config/agent.json"), "utf8"));
  // Same config, on free ports and a temp data dir so the test never collides with a running demo.
  const dir = makeTempDir();
  dirs.push(dir);
  const [mqttPort, modbusPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  config.dataDir = join(dir, "data");
  config.rulesDir = join(REPO, "rules");
  config.hooksDir = join(REPO, "hooks");
  config.mqtt.port = mqttPort;
  config.simulator.modbusPort = modbusPort;
  for (const bus of config.modbus.buses) bus.port = modbusPort;
  config.http.port = httpPort;
  const agent = startAgent(config, { dir });
  agents.push(agent);

  const readings = await agent.waitForLog((l) => l.msg === "readings", "a readings line", 20_000);
  assert.equal(readings.deviceId, "meter-01");
  const values = readings.values as Record<string, unknown>;
  assert.equal(typeof values.voltage, "number");
  assert.equal(typeof values.energy_kwh, "number");
  assert.equal(values.breaker_on, true);

  const raised = await agent.waitForLog(
    (l) => l.msg === "alarm raised" || l.msg === "alarm escalated",
    "the over-voltage alarm",
    40_000,
  );
  assert.equal(raised.ruleId, "meter-overvoltage");
  assert.equal(raised.status, 2);

  const status = await fetch(`http://127.0.0.1:${httpPort}/status`);
  assert.equal(status.status, 200);
  const body = JSON.stringify(await status.json());
  assert.match(body, /meter-01/);

  const resolved = await agent.waitForLog(
    (l) => l.msg === "alarm resolved" && l.alarmId === raised.alarmId,
    "the alarm to resolve",
    40_000,
  );
  assert.equal(resolved.status, 0);
  assert.equal(await agent.stop(), 0);
  assert.ok(agent.lines.some((l) => l.msg === "edge-agent stopped"));
});

test("run refuses an invalid config with exit code 1 and says what is wrong", async () => {
  const dir = makeTempDir();
  dirs.push(dir);
  const agent = startAgent({ gatewayId: "gw", mqtt: { url: "embedded", subscribtions: [] } }, { dir });
  agents.push(agent);
  assert.equal(await agent.exited, 1);
  const err = agent.stderr.join("");
  assert.match(err, /\$\.mqtt\.subscribtions/);
  assert.match(err, /did you mean 'subscriptions'/);
});
