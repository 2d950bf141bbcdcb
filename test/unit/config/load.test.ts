// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the fixtures are config text with ${ENV} references
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { formatProblemLine } from "../../../src/config/format.js";
import { isLoopback, loadConfig } from "../../../src/config/load.js";

const dir = mkdtempSync(join(tmpdir(), "ea-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes `text` to a temp file and loads it; returns the printed problem lines. */
async function load(text: string, env: NodeJS.ProcessEnv = {}) {
  const file = join(dir, `c${n++}.json`);
  writeFileSync(file, text);
  const r = await loadConfig(file, env, { cwd: dir });
  const lines = r.problems.map((p) => formatProblemLine(p).replace(`${file}`, "agent.json"));
  return { ...r, lines, file };
}
const json = (v: unknown) => JSON.stringify(v, null, 2);

const MINIMAL = { gatewayId: "gw-01" };
const TCP_BUS = { id: "plant", transport: "tcp", host: "192.0.2.10", port: 502 };
const DEVICE = {
  id: "meter-01",
  bus: "plant",
  unitId: 1,
  product: "meter",
  points: [{ name: "voltage", table: "holding", address: 0, type: "float32" }],
};

describe("JSON syntax", () => {
  test("a trailing comma is reported with line and column", async () => {
    const r = await load('{\n  "gatewayId": "gw",\n  "log": { "level": "info", },\n}\n');
    assert.equal(r.config, null);
    assert.deepEqual(r.lines, ["agent.json:3:29: $: invalid JSON: trailing comma before '}'"]);
  });

  test("a missing comma points at the next key", async () => {
    const r = await load('{\n  "gatewayId": "gw"\n  "dataDir": "./d"\n}');
    assert.deepEqual(r.lines, ["agent.json:3:3: $: invalid JSON: expected ',' or '}', found '\"'"]);
  });

  test("an unterminated document and single quotes", async () => {
    assert.deepEqual((await load('{"gatewayId": "gw"')).lines, [
      "agent.json:1:19: $: invalid JSON: unexpected end of file, expected ',' or '}'",
    ]);
    assert.deepEqual((await load("{'gatewayId': 1}")).lines, [
      "agent.json:1:2: $: invalid JSON: expected a double-quoted key",
    ]);
  });

  test("a duplicate key is an error (JSON.parse would keep only the last)", async () => {
    const r = await load('{\n  "gatewayId": "a",\n  "gatewayId": "b"\n}');
    assert.equal(r.config, null);
    assert.deepEqual(r.lines, [
      "agent.json:3:3: $: duplicate key 'gatewayId' — JSON keeps only the last one; remove the other",
    ]);
  });

  test("a missing file", async () => {
    const r = await loadConfig(join(dir, "nope.json"), {}, { cwd: dir });
    assert.equal(r.config, null);
    assert.match(formatProblemLine(r.problems[0]!), /nope\.json: \$: file not found — pass the file with -c FILE$/);
  });
});

describe("schema", () => {
  test("unknown key with did-you-mean", async () => {
    const r = await load(json({ ...MINIMAL, mqtt: { url: "embedded", subscribtions: [] } }));
    assert.deepEqual(r.lines, ["agent.json: $.mqtt.subscribtions: unknown key — did you mean 'subscriptions'?"]);
  });

  test("unknown key without a close match lists the allowed keys", async () => {
    const r = await load(json({ ...MINIMAL, outbox: { zzz: 1 } }));
    assert.deepEqual(r.lines, ["agent.json: $.outbox.zzz: unknown key — allowed keys: 'maxPending', 'retentionDays'"]);
  });

  test("wrong type", async () => {
    const r = await load(json({ ...MINIMAL, mqtt: { url: "embedded", port: "1883" } }));
    assert.deepEqual(r.lines, ["agent.json: $.mqtt.port: must be an integer, got string '1883'"]);
  });

  test("bad enum lists the allowed values and suggests the closest", async () => {
    const bad = { ...DEVICE, points: [{ name: "v", table: "holding", address: 0, type: "float33" }] };
    const r = await load(
      json({ ...MINIMAL, modbus: { buses: [{ ...TCP_BUS, transport: "serial" }], devices: [bad] } }),
    );
    assert.deepEqual(r.lines, [
      "agent.json: $.modbus.buses[0].transport: must be one of 'tcp', 'rtu', 'rtu-over-tcp', got 'serial'",
      "agent.json: $.modbus.devices[0].points[0].type: must be one of 'bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string', got 'float33' — did you mean 'float32'?",
    ]);
  });

  test("union of types, missing required key, bad id, range", async () => {
    const r = await load(
      json({
        gatewayId: "gw 1",
        devices: { "meter-01": { areaId: true } },
        quotas: [{ id: "q", device: "meter-01", period: "day", limit: 0 }],
        http: { port: 70000 },
      }),
    );
    assert.deepEqual(r.lines, [
      "agent.json: $.gatewayId: may contain only letters, digits and _ . : -, got 'gw 1'",
      'agent.json: $.devices["meter-01"].areaId: must be an integer or a string, got boolean true',
      "agent.json: $.quotas[0].metric: required key is missing",
      "agent.json: $.quotas[0].limit: must be greater than 0, got 0",
      "agent.json: $.http.port: must be at most 65535, got 70000",
    ]);
  });
});

describe("environment substitution", () => {
  test("a missing variable names the variable and the JSON path", async () => {
    const r = await load(
      json({ ...MINIMAL, upstream: { baseUrl: "https://iot.example.com", token: "${UPSTREAM_TOKEN}" } }),
    );
    assert.equal(r.config, null);
    assert.deepEqual(r.lines, ["agent.json: $.upstream.token: environment variable UPSTREAM_TOKEN is not set"]);
  });

  test("values are substituted, inside longer strings too, and secrets are returned", async () => {
    const r = await load(
      json({
        ...MINIMAL,
        gatewayId: "gw-${SITE}",
        mqtt: { url: "mqtt://${BROKER}:1883", username: "agent", password: "${MQTT_PASSWORD}" },
        upstream: { baseUrl: "https://iot.example.com", token: "Bearer-${UPSTREAM_TOKEN}" },
      }),
      { SITE: "07", BROKER: "10.0.0.5", MQTT_PASSWORD: "pw-1234", UPSTREAM_TOKEN: "tok-5678" },
    );
    assert.deepEqual(r.lines, []);
    assert.equal(r.config?.gatewayId, "gw-07");
    assert.equal(r.config?.mqtt?.url, "mqtt://10.0.0.5:1883");
    assert.equal(r.config?.upstream?.token, "Bearer-tok-5678");
    assert.deepEqual(new Set(r.secrets), new Set(["pw-1234", "Bearer-tok-5678", "tok-5678"]));
    assert.ok(!r.secrets.includes("10.0.0.5"), "a non-secret value is not masked");
  });

  test("${NAME:-default} uses the default when unset or empty, the value when set", async () => {
    const doc = json({ ...MINIMAL, dataDir: "${DATA_DIR:-./var}", http: { token: "${API_TOKEN:-}" } });
    const unset = await load(doc, {});
    assert.deepEqual(unset.lines, []);
    assert.equal(unset.config?.dataDir, resolve(dir, "var"));
    assert.equal(unset.config?.http?.token, "");
    const empty = await load(doc, { DATA_DIR: "" });
    assert.equal(empty.config?.dataDir, resolve(dir, "var"));
    const set = await load(doc, { DATA_DIR: "/srv/ea", API_TOKEN: "t0k3n-abc" });
    assert.equal(set.config?.dataDir, "/srv/ea");
    assert.equal(set.config?.http?.token, "t0k3n-abc");
    assert.deepEqual(set.secrets, ["t0k3n-abc"]);
  });

  test("$${ is a literal ${ and a malformed reference is a problem", async () => {
    const ok = await load(json({ ...MINIMAL, log: { level: "info" }, devices: { d: { name: "cost $${X}" } } }));
    assert.equal(ok.config?.devices?.d?.name, "cost ${X}");
    const bad = await load(json({ ...MINIMAL, devices: { d: { name: "${ X }" } } }));
    assert.deepEqual(bad.lines.slice(0, 1), [
      "agent.json: $.devices.d.name: invalid variable reference '${ X }' — names use letters, digits and _; write $${ for a literal ${",
    ]);
  });
});

describe("semantic checks", () => {
  test("dangling bus reference", async () => {
    const r = await load(json({ ...MINIMAL, modbus: { buses: [TCP_BUS], devices: [{ ...DEVICE, bus: "plnt" }] } }));
    assert.deepEqual(r.lines, ["agent.json: $.modbus.devices[0].bus: unknown bus 'plnt' — did you mean 'plant'?"]);
  });

  test("duplicate ids", async () => {
    const r = await load(
      json({
        ...MINIMAL,
        modbus: { buses: [TCP_BUS, TCP_BUS], devices: [DEVICE, { ...DEVICE, unitId: 2 }] },
        quotas: [
          { id: "q1", device: "meter-01", metric: "voltage", period: "day", limit: 1 },
          { id: "q1", device: "meter-01", metric: "voltage", period: "month", limit: 9 },
        ],
      }),
    );
    assert.deepEqual(r.lines, [
      "agent.json: $.modbus.buses[1].id: duplicate bus id 'plant' — already used by $.modbus.buses[0]",
      "agent.json: $.modbus.devices[1].id: duplicate device id 'meter-01' — already used by $.modbus.devices[0]",
      "agent.json: $.quotas[1].id: duplicate quota id 'q1' — already used by $.quotas[0]",
    ]);
  });

  test("non-loopback http without a token refuses; loopback without one is allowed", async () => {
    const r = await load(json({ ...MINIMAL, http: { host: "0.0.0.0", port: 8080 } }));
    assert.equal(r.config, null);
    assert.deepEqual(r.lines, [
      "agent.json: $.http.token: required when http.host is '0.0.0.0' (not a loopback address) — set a token, e.g. \"${API_TOKEN}\", or bind to 127.0.0.1",
    ]);
    const ok = await load(json({ ...MINIMAL, http: { host: "::1" } }));
    assert.deepEqual(ok.lines, []);
    const withToken = await load(json({ ...MINIMAL, http: { host: "0.0.0.0", token: "x".repeat(20) } }));
    assert.deepEqual(withToken.lines, []);
  });

  test("transport and point rules", async () => {
    const r = await load(
      json({
        ...MINIMAL,
        modbus: {
          buses: [
            { id: "rs485", transport: "rtu", baudRate: 9600 },
            { id: "plant", transport: "tcp" },
          ],
          devices: [
            {
              ...DEVICE,
              bus: "rs485",
              points: [
                { name: "a", table: "holding", address: 0, type: "string" },
                { name: "b", table: "holding", address: 8, type: "uint16", order: "CDAB" },
                { name: "c", table: "input", address: 9, type: "bool" },
                { name: "d", table: "coil", address: 0, type: "int16" },
                { name: "a", table: "holding", address: 20, type: "int16", length: 2 },
              ],
            },
          ],
        },
      }),
    );
    assert.deepEqual(r.lines, [
      "agent.json: $.modbus.buses[0].path: required for transport 'rtu' — the serial port, e.g. /dev/ttyUSB0",
      "agent.json: $.modbus.buses[1].host: required for transport 'tcp' — the IP address or name of the device",
      "agent.json: $.modbus.devices[0].points[0].length: required for type 'string' — the length in registers (2 characters each)",
      "agent.json: $.modbus.devices[0].points[1].order: only used with multi-register types, not 'uint16'",
      "agent.json: $.modbus.devices[0].points[2].bit: required for a bool read from an input register — the bit index 0–15",
      "agent.json: $.modbus.devices[0].points[3].type: must be 'bool' for table 'coil' (single bits), got 'int16'",
      "agent.json: $.modbus.devices[0].points[4].name: duplicate point name 'a' — already used by points[0]",
      "agent.json: $.modbus.devices[0].points[4].length: only used with type 'string'",
    ]);
  });

  test("mqtt url, subscription templates, work-order secret", async () => {
    const r = await load(
      json({
        ...MINIMAL,
        mqtt: {
          url: "tcp://broker:1883",
          subscriptions: [
            { topic: "meters/+/telemetry", device: "{2}", product: "meter" },
            { topic: "site/#", device: "$.meta.id", product: "sensor", values: "data" },
          ],
        },
        workOrders: { baseUrl: "https://ops.example.com", appId: "edge", appSecret: "", tenantId: "1" },
      }),
    );
    assert.deepEqual(r.lines, [
      "agent.json: $.mqtt.url: unsupported broker URL 'tcp://broker:1883' — use mqtt://, mqtts://, ws://, wss:// or \"embedded\"",
      "agent.json: $.mqtt.subscriptions[0].device: {2} refers to wildcard 2 but topic 'meters/+/telemetry' has 1 wildcard — use {1}",
      "agent.json: $.mqtt.subscriptions[1].values: invalid JSON path 'data' — '$' is the whole payload, '$.data' a field",
      "agent.json: $.workOrders.appSecret: must not be empty when work orders are enabled — every request is signed with it",
    ]);
  });

  test("a quota on a metric the Modbus device does not read", async () => {
    const quota = { id: "q", device: "meter-01", metric: "voltge", period: "day", limit: 10 };
    const r = await load(json({ ...MINIMAL, modbus: { buses: [TCP_BUS], devices: [DEVICE] }, quotas: [quota] }));
    assert.deepEqual(r.lines, [
      "agent.json: $.quotas[0].metric: Modbus device 'meter-01' has no point 'voltge' — did you mean 'voltage'?",
    ]);
  });

  test("a quota on an unknown device: error without MQTT, warning with subscriptions", async () => {
    const quota = { id: "q", device: "meter-02", metric: "energy_kwh", period: "day", limit: 10 };
    const modbus = { buses: [TCP_BUS], devices: [DEVICE] };
    const err = await load(json({ ...MINIMAL, modbus, quotas: [quota] }));
    assert.equal(err.config, null);
    assert.deepEqual(err.lines, [
      "agent.json: $.quotas[0].device: unknown device 'meter-02' — did you mean 'meter-01'?",
    ]);
    const mqtt = { url: "embedded", subscriptions: [{ topic: "m/+/t", device: "{1}", product: "meter" }] };
    const warn = await load(json({ ...MINIMAL, modbus, mqtt, quotas: [quota] }));
    assert.notEqual(warn.config, null);
    assert.deepEqual(warn.lines, [
      "agent.json: $.quotas[0].device: warning: 'meter-02' is not configured; expecting it from MQTT — did you mean 'meter-01'?",
    ]);
  });
});

describe("result", () => {
  test("defaults applied, directories resolved against cwd, deep-frozen", async () => {
    const r = await load(
      json({ ...MINIMAL, mqtt: { url: "embedded" }, modbus: { buses: [TCP_BUS], devices: [DEVICE] } }),
    );
    const c = r.config!;
    assert.equal(c.dataDir, resolve(dir, "data"));
    assert.equal(c.rulesDir, resolve(dir, "rules"));
    assert.equal(c.hooksDir, resolve(dir, "hooks"));
    assert.deepEqual(c.hooks, {
      timeoutMs: 5000,
      disabled: [],
      watchdogS: 30,
      queueSize: 1000,
      tickIntervalMs: 1000,
    });
    assert.deepEqual(c.outbox, { maxPending: 100000, retentionDays: 7 });
    assert.deepEqual(c.stats, { retentionDays: 400 });
    assert.deepEqual(c.http, { host: "127.0.0.1", port: 8080, enabled: true });
    assert.equal(c.mqtt?.port, 1883);
    assert.deepEqual(c.mqtt?.subscriptions, []);
    assert.equal(c.modbus?.devices[0]?.offlineAfter, 3);
    assert.equal(c.modbus?.devices[0]?.maxGap, 10);
    assert.equal(c.modbus?.devices[0]?.intervalMs, 1000);
    assert.deepEqual(
      [c.modbus?.buses[0]?.port, c.modbus?.buses[0]?.timeoutMs, c.modbus?.buses[0]?.reopenAfterFailures],
      [502, 1000, 3],
    );
    assert.deepEqual([c.mqtt?.keepaliveS, c.mqtt?.reconnectMinMs, c.mqtt?.maxPayloadBytes], [30, 1000, 262144]);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.modbus?.devices[0]?.points[0]));
    assert.throws(() => {
      (c as { gatewayId: string }).gatewayId = "x";
    }, TypeError);
  });

  test("isLoopback", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"])
      assert.ok(isLoopback(h), h);
    for (const h of ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com", "128.0.0.1"])
      assert.ok(!isLoopback(h), h);
  });
});

describe("bundled configurations", () => {
  test("config/agent.json validates with an empty environment and has no warnings", async () => {
    const r = await loadConfig("config/agent.json", {}, { cwd: process.cwd() });
    assert.deepEqual(r.problems, []);
    assert.equal(r.config?.gatewayId, "demo-gw");
    assert.equal(r.config?.http?.token, "");
    assert.equal(r.config?.mqtt?.url, "embedded");
  });

  test("config/example-full.json validates when its secrets are set, and names each one when not", async () => {
    const env = {
      MQTT_PASSWORD: "m-pass",
      UPSTREAM_TOKEN: "u-token",
      WORK_ORDER_SECRET: "w-secret",
      SMTP_PASSWORD: "s-pass",
      WECOM_SECRET: "wc-secret",
      API_TOKEN: "a-token",
    };
    const r = await loadConfig("config/example-full.json", env);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(new Set(r.secrets), new Set(Object.values(env)));
    const missing = await loadConfig("config/example-full.json", {});
    assert.deepEqual(
      missing.problems.map((p) => `${p.path}: ${p.message}`),
      [
        "$.mqtt.password: environment variable MQTT_PASSWORD is not set",
        "$.upstream.token: environment variable UPSTREAM_TOKEN is not set",
        "$.workOrders.appSecret: environment variable WORK_ORDER_SECRET is not set",
        "$.notify.email.password: environment variable SMTP_PASSWORD is not set",
        "$.notify.wecom.secret: environment variable WECOM_SECRET is not set",
        "$.http.token: environment variable API_TOKEN is not set",
      ],
    );
  });
});
