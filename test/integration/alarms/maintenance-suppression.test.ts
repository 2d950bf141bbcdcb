// Alarms of a device in maintenance, through the whole agent, a real MQTT broker and the fake
// platform: a device switched to maintenance (POST /device/maintenance) that crosses a threshold
// gets its alarm recorded and announced locally with `suppressed: "maintenance"`, and nothing about
// it (add, resolve, work order, webhook) reaches the platform; an alarm that was active before
// maintenance still resolves upstream and completes its work order. Maintenance survives a restart.
// A kept-local alarm (or firing) stays local for its whole life: after the maintenance ended and
// across a restart of the alarm service, its escalation and resolve are not sent either.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { MqttClient } from "mqtt";
import { createAgent } from "../../../src/app.js";
import type { Config } from "../../../src/config/schema.js";
import { systemClock } from "../../../src/core/clock.js";
import type { CompiledRule } from "../../../src/core/ports.js";
import type { Alarm } from "../../../src/core/types.js";
import { startBroker } from "../../helpers/broker.js";
import { resolvedConfig } from "../../helpers/config.js";
import { captureLog } from "../../helpers/harness.js";
import { startUpstream } from "../../helpers/upstream.js";
import { freePort, waitFor } from "../../helpers/wait.js";
import { publisher, uniqueId } from "../sources/mqtt/fixtures.js";
import { COMPLETE, CREATE, platformRig, platformRule, SECRET } from "./platform-rig.js";
import { reading } from "./setup.js";

interface Listed {
  alerts: (Alarm & { suppressed: string | null })[];
}

test("a device in maintenance: alarms stay local; alarms from before still resolve upstream", async () => {
  const broker = await startBroker();
  const up = await startUpstream({ appSecret: SECRET });
  const root = mkdtempSync(join(tmpdir(), "ea-maintenance-alarms-"));
  const rulesDir = join(root, "rules");
  mkdirSync(rulesDir);
  writeFileSync(
    join(rulesDir, "overvoltage.json"),
    JSON.stringify({
      id: "meter-overvoltage",
      name: "overvoltage",
      title: "Over-voltage",
      key: "meter",
      type: "rule",
      level: 4,
      conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
      actions: { workOrder: { priority: 1, alarmType: "overvoltage" }, webhook: `${up.url}/hook/alarm` },
    }),
  );
  const config = resolvedConfig({
    gatewayId: "gw-maint",
    dataDir: join(root, "data"),
    rulesDir,
    devices: { "meter-a": { product: "meter", areaId: 7 }, "meter-b": { product: "meter", areaId: 7 } },
    mqtt: {
      url: broker.url,
      clientId: uniqueId("agent"),
      subscriptions: [{ topic: "maint/+/data", qos: 1, device: "{1}", product: "meter" }],
    },
    upstream: { baseUrl: up.url, token: "tok", heartbeatIntervalMs: 600_000 },
    workOrders: { enabled: true, baseUrl: up.url, appId: "edge", appSecret: SECRET, tenantId: "1" },
    http: { enabled: true, host: "127.0.0.1", port: await freePort() },
  } as Config);
  let agent = createAgent(config, { clock: systemClock, log: captureLog().log, version: "test" });
  let pub: MqttClient | null = null;
  try {
    await agent.start();
    pub = await publisher(broker.url);
    const base = `http://127.0.0.1:${config.http.port}`;
    const send = (device: string, voltage: number) =>
      pub?.publishAsync(`maint/${device}/data`, JSON.stringify({ voltage }), { qos: 1 });
    const maintenance = async (did: string, on: boolean, reason?: string) => {
      const r = await fetch(`${base}/device/maintenance`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ did, on, ...(reason ? { reason } : {}) }),
      });
      assert.equal(r.status, 200, await r.clone().text());
    };
    const list = async (): Promise<Listed> => (await (await fetch(`${base}/alert/list?status=all`)).json()) as Listed;
    const seenByHooks: Alarm[] = [];
    agent.events.on("alarmCreated", (a) => seenByHooks.push(a));

    // meter-a raises an alarm before maintenance: it reaches the platform with its work order.
    await send("meter-a", 262);
    const before = await waitFor(async () => (await list()).alerts.find((a) => a.resource.id === "meter-a"), {
      what: "meter-a's alarm",
    });
    assert.equal(before.suppressed, null);
    await waitFor(() => up.requests.some((r) => r.path === CREATE), { what: "meter-a's work order" });
    await waitFor(() => up.requests.some((r) => r.path === "/hook/alarm"), { what: "meter-a's webhook" });

    await maintenance("meter-a", true, "panel work");
    await maintenance("meter-b", true, "filter change");
    assert.equal(agent.devices.get("meter-b")?.status, "maintenance");

    // meter-b crosses the threshold in maintenance: recorded and announced locally, suppressed.
    await send("meter-b", 270);
    const kept = await waitFor(async () => (await list()).alerts.find((a) => a.resource.id === "meter-b"), {
      what: "meter-b's alarm recorded",
    });
    assert.deepEqual([kept.status, kept.suppressed], [2, "maintenance"]);
    assert.equal(seenByHooks.find((a) => a.id === kept.id)?.suppressed, "maintenance", "alarmCreated carries it");
    const got = (await (await fetch(`${base}/alert/get?id=${kept.id}`)).json()) as { suppressed: string | null };
    assert.equal(got.suppressed, "maintenance");

    // meter-a's alarm from before maintenance still resolves upstream and completes its work order.
    await send("meter-a", 230);
    await send("meter-b", 230);
    await waitFor(() => up.requests.some((r) => r.path === COMPLETE), { what: "meter-a's work order completed" });
    await waitFor(
      () => up.requests.some((r) => r.path === "/alert/update" && (r.json as { status?: number }).status === 0),
      { what: "meter-a's resolve upstream" },
    );
    await waitFor(async () => (await list()).alerts.every((a) => a.status === 0), { what: "both resolved locally" });
    await waitFor(() => (agent.outbox?.summary(Date.now()).pending ?? 1) === 0, { what: "outbox drained" });

    // Nothing about meter-b's alarm was queued or sent: no alert, no work order, no webhook.
    const rows = agent.db?.prepare("SELECT count(*) AS n FROM outbox WHERE alarm_id = ?").get(kept.id) as { n: number };
    assert.equal(rows.n, 0, "no outbox row for the suppressed alarm");
    // (The heartbeat names every device with its status: meter-b there is its maintenance status.)
    const aboutB = up.requests.filter(
      (r) => !r.path.endsWith("/heartbeat") && (r.body.includes(kept.id) || r.body.includes("meter-b")),
    );
    assert.deepEqual(
      aboutB.map((r) => r.path),
      [],
    );
    assert.equal(up.requests.filter((r) => r.path === CREATE).length, 1, "one work order: meter-a's");
    assert.equal(up.requests.filter((r) => r.path === "/hook/alarm").length, 2, "meter-a's raise and resolve");

    // Maintenance survives a restart.
    await agent.stop();
    agent = createAgent(config, { clock: systemClock, log: captureLog().log, version: "test" });
    await agent.start();
    assert.equal(agent.devices.get("meter-b")?.status, "maintenance");
    const listed = (await (await fetch(`${base}/device/maintenance/list`)).json()) as {
      data: { devices: { did: string; reason: string; by: string }[] };
    };
    assert.deepEqual(
      listed.data.devices.map((d) => [d.did, d.reason, d.by]),
      [
        ["meter-a", "panel work", "api"],
        ["meter-b", "filter change", "api"],
      ],
    );
  } finally {
    await pub?.endAsync();
    await agent.stop();
    await up.close();
    await broker.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test("a kept-local alarm and firing stay local after maintenance and across a restart", async () => {
  const r = await platformRig();
  try {
    const compiled = (over: Parameters<typeof platformRule>[1]): CompiledRule => ({
      def: platformRule(r.up, over),
      file: "rules/test.json",
      level: () => 0,
    });
    const alarmRule = compiled({ warnConditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 245 }] } });
    const firingRule = compiled({
      id: "dry-run",
      name: "dry-run",
      actions: { alarm: false, workOrder: {}, webhook: `${r.up.url}/hook/alarm` },
    });
    const d = r.devices.device("meter-01");
    d.status = "maintenance";
    r.svc.observe(alarmRule, d, 1, reading(d, { voltage: 247 }));
    r.svc.observe(firingRule, d, 2, reading(d, { voltage: 247 }));
    await r.settle();
    const [kept] = r.alarms.active();
    assert.equal(kept?.suppressed, "maintenance");
    assert.equal(r.firings.active()[0]?.suppressed, "maintenance");
    assert.equal(r.created[0]?.suppressed, "maintenance", "announced locally with the reason");

    // Maintenance over, and the agent restarted: the same alarm escalates and resolves, locally only.
    d.status = "online";
    await r.restart();
    r.svc.observe(alarmRule, d, 2, reading(d, { voltage: 262 }));
    r.svc.observe(alarmRule, d, 0, reading(d, { voltage: 230 }));
    r.svc.observe(firingRule, d, 0, reading(d, { voltage: 230 }));
    await r.settle();
    assert.deepEqual(
      [r.alarms.get(kept?.id ?? "")?.status, r.alarms.get(kept?.id ?? "")?.suppressed],
      [0, "maintenance"],
    );
    assert.equal(r.resolved.length, 1, "the resolve is announced locally");
    assert.deepEqual(
      r.up.requests.map((q) => q.path),
      [],
      "nothing reached the platform",
    );

    // A new episode on the device out of maintenance goes upstream as usual.
    r.h.clock.advance(1000);
    r.svc.observe(alarmRule, d, 2, reading(d, { voltage: 262 }));
    await r.settle();
    assert.equal(r.up.requests.filter((q) => q.path === "/alert/add").length, 1);
    assert.equal(r.up.requests.filter((q) => q.path === CREATE).length, 1);
  } finally {
    await r.close();
  }
});
