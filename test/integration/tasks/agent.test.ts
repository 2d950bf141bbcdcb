// Scheduled tasks inside the whole agent: a task in force runs on its slot through the agent's own
// parts — the Modbus writer its source attached, the MQTT client of the embedded broker, the alarm
// store — and its runs are in the agent's database.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import mqtt from "mqtt";
import { createAgent } from "../../../src/app.js";
import type { Config } from "../../../src/config/schema.js";
import { systemClock } from "../../../src/core/clock.js";
import { AlarmsRepo } from "../../../src/store/alarms-repo.js";
import type { TaskDefinition } from "../../../src/tasks/types.js";
import { resolvedConfig } from "../../helpers/config.js";
import { captureLog } from "../../helpers/harness.js";
import { startModbusServer } from "../../helpers/modbus.js";
import { freePort, waitFor } from "../../helpers/wait.js";

test("a task runs every second through the agent's Modbus writer, MQTT client and alarm store", async () => {
  const root = mkdtempSync(join(tmpdir(), "ea-tasks-agent-"));
  mkdirSync(join(root, "rules"));
  const modbus = await startModbusServer();
  modbus.slave.memory.coils[3] = 0;
  const mqttPort = await freePort();
  const logs = captureLog();
  const config = {
    gatewayId: "gw-tasks",
    dataDir: join(root, "data"),
    rulesDir: join(root, "rules"),
    hooksDir: join(root, "hooks"),
    tasksDir: join(root, "tasks"),
    timezone: "UTC",
    http: { enabled: false },
    mqtt: {
      url: "embedded",
      port: mqttPort,
      subscriptions: [{ topic: "meters/+/telemetry", device: "{1}", product: "meter", values: "$" }],
    },
    modbus: {
      buses: [{ id: "plant", transport: "tcp", host: "127.0.0.1", port: modbus.port, timeoutMs: 500 }],
      devices: [
        {
          id: "panel-01",
          bus: "plant",
          unitId: 1,
          product: "panel",
          intervalMs: 60_000,
          points: [{ name: "lights", table: "coil", address: 3, type: "bool", writable: true }],
        },
      ],
    },
  } as Config;
  const agent = createAgent(resolvedConfig(config), { clock: systemClock, log: logs.log, version: "test" });
  let subscriber: mqtt.MqttClient | null = null;
  try {
    await agent.start();
    subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: "tasks-sub" });
    const got: string[] = [];
    subscriber.on("message", (_t, p) => got.push(p.toString()));
    await subscriber.subscribeAsync("site/lights", { qos: 1 });
    const tasks = agent.tasks;
    assert.ok(tasks, "the agent exposes its tasks once started");
    const def: TaskDefinition = {
      id: "lights",
      name: "lights",
      isEnable: true,
      schedule: { every: 1 },
      misfire: "skip",
      timeoutMs: 2000,
      actions: [
        { type: "modbus.write", device: "panel-01", point: "lights", value: true },
        { type: "mqtt.publish", topic: "site/lights", payload: { on: true } },
        { type: "alarm.raise", name: "lights-on", device: "panel-01", level: 1 },
      ],
    };
    tasks.set.replace([{ def, file: "lights.json" }]);
    const run = await waitFor(
      () => tasks.runtime.runs("lights", 10).find((r) => r.status !== "running" && r.trigger === "schedule"),
      { what: "a scheduled run of the task", timeoutMs: 10_000 },
    );
    assert.equal(run.status, "ok", JSON.stringify(run.actions));
    assert.equal(run.started - run.slot < 1000, true, "started within a second of its slot");
    assert.equal(modbus.slave.memory.coils[3], 1);
    await waitFor(() => got.includes('{"on":true}'), { what: "the message at a subscriber" });
    const db = agent.db;
    assert.ok(db);
    assert.ok(new AlarmsRepo(db).active().some((a) => a.name === "lights-on" && a.resource.id === "panel-01"));
    assert.ok(logs.lines.some((l) => l.msg === "task lights ran: ok" && l.taskId === "lights"));
  } finally {
    await subscriber?.endAsync();
    await agent.stop();
    await modbus.close();
    rmSync(root, { recursive: true, force: true });
  }
});
