// Device state from MQTT is bounded, through the whole agent and a real broker: facts per device
// (mqtt.maxValuesPerDevice: new keys past it refused and counted, known keys still update), devices
// created from MQTT (mqtt.maxDevices: new ids past it refused and counted, known devices keep
// working), /status paged with values per device truncated, and ids such as `constructor`,
// `__proto__` and `toString` are ordinary devices with readings and alarms.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { MqttClient } from "mqtt";
import { createAgent } from "../../../../src/app.js";
import type { Config } from "../../../../src/config/schema.js";
import { systemClock } from "../../../../src/core/clock.js";
import { STATUS_VALUES_PER_DEVICE } from "../../../../src/pipeline/device-page.js";
import { startBroker } from "../../../helpers/broker.js";
import { resolvedConfig } from "../../../helpers/config.js";
import { captureLog } from "../../../helpers/harness.js";
import { runStatusPage } from "../../../helpers/status-page-runner.js";
import { freePort, waitFor } from "../../../helpers/wait.js";
import { publisher, uniqueId } from "./fixtures.js";

interface StatusDevice {
  id: string;
  name?: string;
  product: string;
  status: string;
  values: Record<string, unknown>;
  valuesTruncated?: number;
}
interface StatusBody {
  data: { devices: StatusDevice[]; devicesTotal: number; devicesOffset: number; devicesLimit: number };
}

const MAX_DEVICES = 250;
const MAX_VALUES = 150;
const ODD_IDS = ["constructor", "__proto__", "toString"];

test("MQTT device state is bounded and counted; /status pages; odd ids are ordinary devices", async () => {
  const broker = await startBroker();
  const root = mkdtempSync(join(tmpdir(), "ea-mqtt-bounds-"));
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
    }),
  );
  const logs = captureLog();
  const config = {
    gatewayId: "gw-bounds",
    dataDir: join(root, "data"),
    rulesDir,
    mqtt: {
      url: broker.url,
      clientId: uniqueId("agent"),
      maxDevices: MAX_DEVICES,
      maxValuesPerDevice: MAX_VALUES,
      subscriptions: [{ topic: "bounds/+/data", qos: 1, device: "{1}", product: "meter", expectedIntervalMs: 60_000 }],
    },
    http: { enabled: true, host: "127.0.0.1", port: await freePort() },
  } as Config;
  const agent = createAgent(resolvedConfig(config), {
    clock: systemClock,
    log: logs.log,
    version: "test",
  });
  let pub: MqttClient | null = null;
  try {
    await agent.start();
    pub = await publisher(broker.url);
    const base = `http://127.0.0.1:${agent.http?.port}`;
    const status = async (query = ""): Promise<{ body: StatusBody; bytes: number }> => {
      const text = await (await fetch(`${base}/status${query}`)).text();
      return { body: JSON.parse(text) as StatusBody, bytes: Buffer.byteLength(text) };
    };
    const send = (device: string, values: Record<string, unknown>) =>
      pub?.publishAsync(`bounds/${device}/data`, JSON.stringify(values), { qos: 1 });
    const dropped = () => agent.metrics.counter("edge_mqtt_values_dropped_total", "").get({ reason: "too-many-keys" });
    const refused = () => agent.metrics.counter("edge_mqtt_devices_refused_total", "").get();

    // ---- values per device: 1 + 299 keys, 150 kept, the rest refused and counted ----
    const many: Record<string, number> = { voltage: 230 };
    for (let i = 0; i < 299; i++) many[`k${i}`] = i;
    await send("dev-1", many);
    await waitFor(() => dropped() === 150, { what: `150 keys refused (got ${dropped()})` });
    const dev1 = agent.devices.get("dev-1");
    assert.equal(Object.keys(dev1?.values ?? {}).length, MAX_VALUES);
    // Known keys update; new ones are still refused.
    await send("dev-1", { voltage: 231, k0: 1000, extra1: 1, extra2: 2 });
    await waitFor(() => dev1?.values.voltage === 231, { what: "a known key updates" });
    assert.equal(dev1?.values.k0, 1000);
    assert.equal(dropped(), 152);
    assert.equal(Object.hasOwn(dev1?.values ?? {}, "extra1"), false);

    // ---- odd ids: ordinary devices, with readings and alarms ----
    for (const id of ODD_IDS) await send(id, { voltage: 262 });
    await waitFor(() => ODD_IDS.every((id) => agent.devices.get(id)?.values.voltage === 262), {
      what: "readings of constructor, __proto__ and toString",
    });
    const alarmed = await waitFor(
      async () => {
        const r = (await (await fetch(`${base}/alert/list?status=active`)).json()) as {
          alerts: { resource: { id: string } }[];
        };
        const ids = r.alerts.map((a) => a.resource.id).sort();
        return ids.length === 3 ? ids : null;
      },
      { what: "an alarm for each odd id" },
    );
    assert.deepEqual(alarmed, [...ODD_IDS].sort());
    await waitFor(() => ODD_IDS.every((id) => agent.devices.get(id)?.status === "alarm"), { what: "alarm status" });
    const odd = (await status()).body.data.devices.filter((d) => ODD_IDS.includes(d.id));
    assert.deepEqual(
      odd.map((d) => [d.id, d.name, d.product, d.status, d.values.voltage]),
      ODD_IDS.map((id) => [id, undefined, "meter", "alarm", 262]),
    );

    // ---- devices: 300 new ids, only up to maxDevices created; the rest refused and counted ----
    const known = agent.devices.list().length;
    await Promise.all(Array.from({ length: 300 }, (_, i) => send(`bulk-${i}`, { voltage: 230 })));
    const expectRefused = 300 - (MAX_DEVICES - known);
    await waitFor(() => refused() === expectRefused, { what: `${expectRefused} devices refused (got ${refused()})` });
    assert.equal(agent.devices.list().length, MAX_DEVICES);
    assert.equal(agent.devices.get("bulk-299"), undefined);
    // A known device keeps working after the bound was reached.
    await send("dev-1", { voltage: 232 });
    await waitFor(() => dev1?.values.voltage === 232, { what: "dev-1 still updates" });
    const refusalLines = logs.lines.filter((l) => l.msg.includes("refused: mqtt.maxDevices"));
    assert.equal(refusalLines.length, 1, "refusals are logged at a bounded rate");

    // ---- /status: paged, values per device truncated with a marker ----
    const first = await status();
    assert.equal(first.body.data.devicesTotal, MAX_DEVICES);
    assert.equal(first.body.data.devices.length, 200, "default page of 200 devices");
    const d1 = first.body.data.devices.find((d) => d.id === "dev-1");
    assert.equal(Object.keys(d1?.values ?? {}).length, STATUS_VALUES_PER_DEVICE);
    assert.equal(d1?.valuesTruncated, MAX_VALUES - STATUS_VALUES_PER_DEVICE);
    assert.ok(first.bytes < 200_000, `/status stays small (${first.bytes} bytes)`);
    const rest = await status("?devicesOffset=200&devicesLimit=100");
    assert.equal(rest.body.data.devices.length, MAX_DEVICES - 200);
    assert.equal(rest.body.data.devicesOffset, 200);
    const bad = await fetch(`${base}/status?devicesLimit=abc`);
    assert.equal(bad.status, 400);

    // ---- the status page renders a page of devices, odd ids included, and pages on ----
    const page = runStatusPage(base);
    try {
      const cards = () => page.byId("devices").children;
      await waitFor(() => cards().length === 200, { what: `200 device cards (got ${cards().length})` });
      const shown = cards().map((c) => c.getAttribute("data-device-id"));
      for (const id of ODD_IDS) assert.ok(shown.includes(id), `a card for ${id}`);
      assert.equal(page.byId("device-count").textContent, String(MAX_DEVICES));
      assert.equal(page.byId("device-pager").hidden, false);
      assert.equal(page.byId("devices-range").textContent, `1–200 of ${MAX_DEVICES}`);
      const card1 = cards().find((c) => c.getAttribute("data-device-id") === "dev-1");
      const more = card1?.findAll((e) => e.getAttribute("class") === "muted more-values")[0];
      assert.equal(more?.textContent, `… and ${MAX_VALUES - STATUS_VALUES_PER_DEVICE} more values (not shown)`);
      page.byId("devices-next").click();
      await waitFor(() => cards().length === MAX_DEVICES - 200, { what: "the second page" });
      assert.equal(page.byId("devices-range").textContent, `201–${MAX_DEVICES} of ${MAX_DEVICES}`);
      assert.equal(page.byId("devices-next").disabled, true);
    } finally {
      page.close();
    }
  } finally {
    await pub?.endAsync();
    await agent.stop();
    await broker.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
