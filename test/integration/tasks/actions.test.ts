// Task actions through the agent's real parts: a Modbus TCP server written through the checked write
// path, a real MQTT broker and subscriber, an HTTP server on 127.0.0.1, the alarm service over a
// SQLite file, and a loaded hook. Each task is started with runNow and its recorded run is checked
// together with what arrived on the other side.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { Agent as HttpClient } from "undici";
import { systemClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import { ModbusSource } from "../../../src/sources/modbus/source.js";
import type { MqttSource } from "../../../src/sources/mqtt/source.js";
import { TasksRepo } from "../../../src/store/tasks-repo.js";
import { TaskScheduler } from "../../../src/tasks/scheduler.js";
import { type TaskAction, type TaskDefinition, type TaskRun, TaskSet } from "../../../src/tasks/types.js";
import { type Harness, harness } from "../../fixtures/hooks/harness.js";
import { startBroker, type TestBroker } from "../../helpers/broker.js";
import { testBus, testMetrics } from "../../helpers/harness.js";
import { RecordingSink, startModbusServer, type TestModbusServer } from "../../helpers/modbus.js";
import { waitFor } from "../../helpers/wait.js";
import { type Rig, rig, tempDir } from "../alarms/setup.js";
import { makeSource, uniqueId } from "../sources/mqtt/fixtures.js";

let modbusServer: TestModbusServer;
let modbus: ModbusSource;
let broker: TestBroker;
let agentMqtt: MqttSource;
let subscriber: MqttClient;
let web: Server;
let webUrl: string;
const received: { method: string; url: string; body: string }[] = [];
let webStatus = 200;
let httpClient: HttpClient;
let alarms: Rig;
let hooks: Harness;
let tmp: { dir: string; cleanup: () => void };
const set = new TaskSet();
let scheduler: TaskScheduler;

before(async () => {
  tmp = tempDir();
  modbusServer = await startModbusServer();
  modbusServer.slave.memory.coils[0] = 0;
  modbusServer.slave.memory.coils[1] = 0;
  const log = silentLogger();
  modbus = new ModbusSource({
    config: {
      buses: [{ id: "plant", transport: "tcp", host: "127.0.0.1", port: modbusServer.port, timeoutMs: 1000 }],
      devices: [
        {
          id: "meter-01",
          bus: "plant",
          unitId: 1,
          product: "meter",
          intervalMs: 60_000,
          points: [
            { name: "lights", table: "coil", address: 0, type: "bool", writable: true },
            { name: "trip_relay", table: "coil", address: 1, type: "bool" },
          ],
        },
      ],
    },
    sink: new RecordingSink(),
    events: testBus(log),
    clock: systemClock,
    log,
    metrics: testMetrics(),
  });
  await modbus.start();

  broker = await startBroker();
  agentMqtt = makeSource({ url: broker.url }).source;
  await agentMqtt.start();
  subscriber = await mqtt.connectAsync(broker.url, { clientId: uniqueId("sub") });
  await subscriber.subscribeAsync("site/#", { qos: 1 });

  web = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (d: Buffer) => {
      body += d.toString();
    });
    req.on("end", () => {
      received.push({ method: req.method ?? "", url: req.url ?? "", body });
      res.statusCode = webStatus;
      res.end("{}");
    });
  });
  web.listen(0, "127.0.0.1");
  await once(web, "listening");
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  httpClient = new HttpClient();

  alarms = await rig(join(tmp.dir, "alarms.db"), { clock: systemClock });

  hooks = harness({ clock: systemClock });
  hooks.write(
    "lighting.mjs",
    `export default {
      onReading() {},
      async scene(args, ctx) { return { scene: args.name, gateway: ctx.config.gatewayId }; },
      async broken() { throw new Error("DALI gateway offline"); },
    };`,
  );
  await hooks.manager.start();

  scheduler = new TaskScheduler({
    tasks: set,
    repo: new TasksRepo(alarms.db),
    clock: systemClock,
    log,
    ports: {
      modbus: modbus.writer,
      mqtt: agentMqtt,
      http: httpClient,
      hooks: hooks.manager,
      alarms: { operator: alarms.svc, queries: alarms.alarms },
    },
    timezone: "UTC",
  });
  await scheduler.start();
});

after(async () => {
  await scheduler?.stop();
  await hooks?.close();
  await alarms?.close();
  await httpClient?.close();
  web?.close();
  await subscriber?.endAsync();
  await agentMqtt?.stop();
  await broker?.stop();
  await modbus?.stop();
  await modbusServer?.close();
  tmp?.cleanup();
});

/** Loads one task alongside nothing else, runs it now and answers its finished run. */
async function runTask(id: string, actions: TaskAction[]): Promise<TaskRun> {
  const def: TaskDefinition = {
    id,
    name: id,
    isEnable: true,
    schedule: { cron: "0 0 1 1 *" },
    misfire: "skip",
    timeoutMs: 5000,
    actions,
  };
  set.replace([{ def, file: `${id}.json` }]);
  const started = await scheduler.runNow(id);
  assert.equal(started?.status, "running");
  return waitFor(
    () => {
      const [run] = scheduler.runs(id, 1);
      return run !== undefined && run.status !== "running" ? run : false;
    },
    { what: `the run of ${id} to end` },
  );
}

describe("modbus.write", () => {
  test("writes a writable coil on the device and refuses a point that is not writable", async () => {
    const before = modbusServer.slave.requests;
    const run = await runTask("lights-on", [
      { type: "modbus.write", device: "meter-01", point: "lights", value: true },
      { type: "modbus.write", device: "meter-01", point: "trip_relay", value: true },
    ]);
    assert.equal(run.status, "partial");
    assert.equal(run.actions[0]?.ok, true);
    assert.equal(modbusServer.slave.memory.coils[0], 1);
    assert.equal(run.actions[1]?.ok, false);
    assert.match(run.actions[1]?.error ?? "", /point "trip_relay" of Modbus device "meter-01" is not writable/);
    assert.equal(modbusServer.slave.memory.coils[1], 0);
    assert.equal(modbusServer.slave.requests, before + 1, "the refused write never reached the device");
  });
});

describe("mqtt.publish", () => {
  test("a subscriber receives a string as is and an object as JSON", async () => {
    const got: { topic: string; payload: string }[] = [];
    const onMessage = (topic: string, payload: Buffer) => got.push({ topic, payload: payload.toString() });
    subscriber.on("message", onMessage);
    try {
      const run = await runTask("announce", [
        { type: "mqtt.publish", topic: "site/text", payload: "night mode", qos: 1 },
        { type: "mqtt.publish", topic: "site/json", payload: { mode: "night", level: 2 } },
      ]);
      assert.equal(run.status, "ok");
      await waitFor(() => got.length === 2, { what: "both messages at the subscriber" });
      assert.deepEqual(
        got.sort((a, b) => a.topic.localeCompare(b.topic)),
        [
          { topic: "site/json", payload: '{"mode":"night","level":2}' },
          { topic: "site/text", payload: "night mode" },
        ],
      );
    } finally {
      subscriber.off("message", onMessage);
    }
  });
});

describe("webhook", () => {
  test("posts the run's summary by default; a non-2xx answer fails with its status", async () => {
    received.length = 0;
    webStatus = 200;
    const run = await runTask("notify", [
      { type: "mqtt.publish", topic: "site/pre", payload: "x" },
      { type: "webhook", url: `${webUrl}/hook?site=1` },
    ]);
    assert.equal(run.status, "ok");
    assert.deepEqual(run.actions[1]?.result, { status: 200 });
    assert.equal(received.length, 1);
    assert.equal(received[0]?.method, "POST");
    assert.equal(received[0]?.url, "/hook?site=1");
    const body = JSON.parse(received[0]?.body ?? "{}") as Record<string, unknown>;
    assert.deepEqual(body.task, { id: "notify", name: "notify" });
    assert.equal(body.trigger, "manual");
    assert.equal((body.results as { type: string; ok: boolean }[])[0]?.type, "mqtt.publish");

    webStatus = 503;
    const failed = await runTask("notify-down", [
      { type: "webhook", url: `${webUrl}/down`, body: { hello: 1 }, retry: { attempts: 2, delayMs: 10 } },
    ]);
    assert.equal(failed.status, "failed");
    assert.equal(failed.actions[0]?.attempts, 2);
    assert.match(failed.actions[0]?.error ?? "", /answered HTTP 503/);
    assert.deepEqual(failed.actions[0]?.result, { status: 503 });
    assert.deepEqual(
      received.slice(1).map((r) => r.body),
      ['{"hello":1}', '{"hello":1}'],
    );
  });
});

describe("alarm.raise and alarm.resolve", () => {
  test("a raised alarm is in the alarms table; resolve closes the open one of that name only", async () => {
    const raised = await runTask("door-watch", [
      { type: "alarm.raise", name: "door-open", device: "meter-01", level: 3, title: "Door open after hours" },
    ]);
    assert.equal(raised.status, "ok");
    const alarmId = (raised.actions[0]?.result as { alarmId?: string } | undefined)?.alarmId ?? "";
    const row = alarms.alarms.get(alarmId);
    assert.equal(row?.status, 2);
    assert.equal(row?.name, "door-open");
    assert.equal(row?.title, "Door open after hours");
    assert.equal(row?.resource.id, "meter-01");

    const other = await runTask("door-watch-elsewhere", [
      { type: "alarm.resolve", name: "door-open", device: "meter-99" },
    ]);
    assert.deepEqual(other.actions[0]?.result, { resolved: [] });
    assert.equal(alarms.alarms.get(alarmId)?.status, 2);

    const resolved = await runTask("door-close", [{ type: "alarm.resolve", name: "door-open" }]);
    assert.equal(resolved.status, "ok");
    assert.deepEqual(resolved.actions[0]?.result, { resolved: [alarmId] });
    assert.equal(alarms.alarms.get(alarmId)?.status, 0);
  });
});

describe("hook", () => {
  test("calls a named method of a running hook with the args; its failures are reported by name", async () => {
    const run = await runTask("evening", [
      { type: "hook", hook: "lighting", method: "scene", args: { name: "evening" } },
      { type: "hook", hook: "lighting", method: "broken" },
      { type: "hook", hook: "lighting", method: "onReading" },
      { type: "hook", hook: "heating", method: "scene" },
    ]);
    assert.equal(run.status, "partial");
    assert.deepEqual(run.actions[0]?.result, { scene: "evening", gateway: "gw-test" });
    assert.equal(run.actions[1]?.error, "hook lighting: broken threw: DALI gateway offline");
    assert.match(run.actions[2]?.error ?? "", /onReading cannot be called by a task/);
    assert.match(run.actions[3]?.error ?? "", /no hook named "heating" is loaded/);
  });
});
