// The whole agent as a site runs it: MQTT readings raise and resolve alarms while the upstream is
// unreachable, the agent is killed with SIGKILL, restarted, and when the upstream answers again
// every alarm, update and work order arrives exactly as produced, in order, signed.

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import mqtt from "mqtt";
import { type AgentProcess, makeTempDir, removeDir, startAgent } from "../helpers/agent-process.js";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { type FakeUpstream, perAlarmSequence } from "../helpers/upstream.js";
import { freePort, waitFor } from "../helpers/wait.js";

const SECRET = "wo-secret-3f9a1c";
const TOKEN = "upstream-token-77aa";
const DEVICES = 12;

let broker: TestBroker | undefined;
let upstream: FakeUpstream | undefined;
const agents: AgentProcess[] = [];
const dirs: string[] = [];

after(async () => {
  for (const a of agents) await a.kill();
  await upstream?.close();
  await broker?.stop();
  for (const d of dirs) removeDir(d);
});

function publish(client: mqtt.MqttClient, device: string, voltage: number): Promise<void> {
  return new Promise((resolve, reject) =>
    client.publish(`meters/${device}/telemetry`, JSON.stringify({ voltage }), { qos: 1 }, (err) =>
      err ? reject(err) : resolve(),
    ),
  );
}

test("alarms raised and resolved during an uplink outage and a kill -9 are all delivered once, in order", async () => {
  broker = await startBroker();
  const upstreamPort = await freePort();
  const dir = makeTempDir();
  dirs.push(dir);
  mkdirSync(join(dir, "rules"));
  mkdirSync(join(dir, "hooks"));
  writeFileSync(
    join(dir, "rules", "overvoltage.json"),
    JSON.stringify({
      id: "overvoltage",
      name: "overvoltage",
      title: "过压告警 Over-voltage",
      key: "meter",
      type: "rule",
      level: 4,
      conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
      actions: { alarm: true, workOrder: { alarmType: "overvoltage" } },
    }),
  );
  const base = `http://127.0.0.1:${upstreamPort}`;
  const config = {
    gatewayId: "gw-e2e",
    dataDir: join(dir, "data"),
    rulesDir: join(dir, "rules"),
    hooksDir: join(dir, "hooks"),
    mqtt: {
      url: broker.url,
      clientId: `edge-agent-e2e-${process.pid}`,
      subscriptions: [{ topic: "meters/+/telemetry", qos: 1, device: "{1}", product: "meter", values: "$" }],
    },
    devices: { "meter-00": { name: "Incomer", areaId: 12, location: { building: "A" } } },
    upstream: { baseUrl: base, token: "${UP_TOKEN}", heartbeatIntervalMs: 60_000, timeoutMs: 2_000 },
    workOrders: { enabled: true, baseUrl: base, appId: "edge", appSecret: "${WO_SECRET}", tenantId: "7" },
    http: { enabled: false },
  };
  const env = { UP_TOKEN: TOKEN, WO_SECRET: SECRET };

  // Run 1: upstream unreachable. Raise on every device, resolve half, re-raise a few.
  const a = startAgent(config, { dir, env });
  agents.push(a);
  await a.waitForLog((l) => l.msg === "MQTT subscriptions active", "MQTT subscriptions");
  const pub = await mqtt.connectAsync(broker.url, { clientId: `pub-${process.pid}` });
  try {
    const ids = (i: number) => `meter-${String(i).padStart(2, "0")}`;
    for (let i = 0; i < DEVICES; i++) await publish(pub, ids(i), 260);
    await waitFor(() => a.lines.filter((l) => l.msg === "alarm raised").length >= DEVICES, {
      what: "all alarms raised",
      timeoutMs: 15_000,
    });
    for (let i = 0; i < DEVICES / 2; i++) await publish(pub, ids(i), 230);
    await waitFor(() => a.lines.filter((l) => l.msg === "alarm resolved").length >= DEVICES / 2, {
      what: "half resolved",
      timeoutMs: 15_000,
    });
    for (let i = 0; i < 3; i++) await publish(pub, ids(i), 270);
    await waitFor(() => a.lines.filter((l) => l.msg === "alarm raised").length >= DEVICES + 3, {
      what: "re-raised",
      timeoutMs: 15_000,
    });
  } finally {
    await pub.endAsync();
  }
  const raisedIds = a.lines.filter((l) => l.msg === "alarm raised").map((l) => String(l.alarmId));
  const resolvedIds = a.lines.filter((l) => l.msg === "alarm resolved").map((l) => String(l.alarmId));
  await a.kill();

  // Every alarm the log reported is on disk after the kill.
  const dbFile = join(dir, "data", "edge-agent.db");
  {
    const db = new Database(dbFile, { readonly: true });
    const rows = db.prepare("SELECT id, status FROM alarms").all() as { id: string; status: number }[];
    db.close();
    const stored = new Map(rows.map((r) => [r.id, r.status]));
    for (const id of raisedIds) assert.ok(stored.has(id), `alarm ${id} reported raised but not in the database`);
    for (const id of resolvedIds) assert.equal(stored.get(id), 0, `alarm ${id} reported resolved but not stored so`);
    assert.equal(rows.length, DEVICES + 3);
  }

  // Run 2: the upstream is back; the agent restarts and drains the outbox.
  upstream = new (await import("../helpers/upstream.js")).FakeUpstream({ appSecret: SECRET, token: TOKEN });
  await upstream.start(upstreamPort);
  const b = startAgent(config, { dir, env });
  agents.push(b);
  const up = upstream;
  await waitFor(
    () =>
      up.paths("/alert/add").length >= DEVICES + 3 &&
      up.paths("/alert/update").length >= DEVICES / 2 &&
      up.paths("/open-api/ops/security/order/create").length >= DEVICES + 3 &&
      up.paths("/open-api/ops/security/order/auto-complete").length >= DEVICES / 2,
    { what: "everything delivered", timeoutMs: 30_000 },
  );

  // Alarm API: each alarm added once, its resolve after its add, with the upstream id.
  const seq = perAlarmSequence(up);
  assert.equal(seq.size, DEVICES + 3);
  for (const id of raisedIds) {
    const expected = resolvedIds.includes(id) ? ["add", "update:0"] : ["add"];
    assert.deepEqual(seq.get(id), expected, `sequence of ${id}`);
  }
  for (const r of up.paths("/alert/add")) {
    const body = r.json as Record<string, unknown>;
    assert.equal(r.headers["idempotency-key"], body.id);
    assert.equal(r.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(body.level, 4);
    assert.equal(body.ruleId, "overvoltage");
  }
  // Work orders: every request signed; each completion carries the exact 64-bit id its create returned.
  const creates = up.paths("/open-api/ops/security/order/create");
  const completes = up.paths("/open-api/ops/security/order/auto-complete");
  for (const r of [...creates, ...completes]) assert.equal(r.signatureOk, true, `signature of ${r.path}`);
  const orderIdByAlarm = new Map<string, string>();
  for (const r of creates) {
    const body = r.json as { alarmId: string; title: string; priority: number; triggerSource: string };
    assert.equal(body.title.startsWith("过压告警"), true);
    assert.equal(body.priority, 1, "level 4 maps to priority 1");
    assert.match(r.body, /"triggerSource":"自动上报"/);
    assert.equal(orderIdByAlarm.has(body.alarmId), false, "one create per alarm");
    orderIdByAlarm.set(body.alarmId, "");
  }
  assert.equal(creates.length, DEVICES + 3);
  const exactIds = new Set<string>();
  for (const r of completes) {
    const m = /"orderId":(\d+)/.exec(r.body);
    assert.ok(m, `completion body has a bare integer orderId: ${r.body}`);
    assert.ok(BigInt(m[1] as string) >= 1234567890123456789n, "orderId kept exact beyond 2^53");
    exactIds.add(m[1] as string);
  }
  assert.equal(exactIds.size, DEVICES / 2);
  const db = new Database(dbFile, { readonly: true });
  const withOrders = db.prepare("SELECT id, work_order_id FROM alarms WHERE status = 0").all() as {
    id: string;
    work_order_id: string;
  }[];
  db.close();
  for (const row of withOrders) assert.ok(exactIds.has(row.work_order_id), `stored order id ${row.work_order_id}`);

  assert.equal(await b.stop(), 0, "clean shutdown exits 0");
});
