// `edge-agent validate` warns about work-order rules whose devices have no areaId (orders would go
// out with areaId 0); a warning, never an error.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { CliIO } from "../../../src/cli/io.js";
import { main as validate } from "../../../src/cli/validate.js";
import type { Config } from "../../../src/config/schema.js";
import { checkWorkOrderAreas } from "../../../src/rules/work-order-areas.js";

const dir = mkdtempSync(join(tmpdir(), "ea-areas-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const rule = (extra: Record<string, unknown> = {}) => ({
  id: "ov",
  name: "overvoltage",
  title: "Over-voltage",
  key: "meter",
  type: "rule",
  level: 4,
  conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
  actions: { workOrder: { alarmType: "overvoltage" } },
  ...extra,
});

const withoutWorkOrders = (c: Config): Config => {
  const { workOrders: _off, ...rest } = c;
  return rest;
};
const config = (extra: Partial<Config> = {}): Config =>
  ({
    gatewayId: "gw",
    workOrders: { baseUrl: "https://ops.example.com", appId: "edge", appSecret: "s3cret-value" },
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
        {
          id: "meter-02",
          bus: "plant",
          unitId: 2,
          product: "meter",
          points: [{ name: "voltage", table: "holding", address: 0, type: "float32" }],
        },
      ],
    },
    devices: { "meter-01": { areaId: 12 }, "pump-1": { product: "pump" }, "hall-7": { areaId: "A-7" } },
    mqtt: { url: "mqtt://127.0.0.1:1883", subscriptions: [{ topic: "m/+", device: "{1}", product: "meter" }] },
    ...extra,
  }) as Config;

test("a work-order rule's devices without an (integer) areaId are warnings with file and path", () => {
  const p = checkWorkOrderAreas(config(), [
    { file: "rules/a.json", doc: rule() },
    {
      file: "rules/b.json",
      doc: [rule({ id: "x", actions: { webhook: "http://h" } }), rule({ id: "y", did: "pump-1" })],
    },
  ]);
  assert.deepEqual(
    p.map((x) => `${x.file} ${x.path} ${x.severity}: ${x.message}`),
    [
      "rules/a.json $.actions.workOrder warning: device 'meter-02' has no areaId: its work orders are sent with areaId 0 (no area)",
      "rules/a.json $.actions.workOrder warning: device 'hall-7' has areaId 'A-7', which is not an integer: the work-order platform expects one",
      "rules/b.json $[1].actions.workOrder warning: device 'pump-1' has no areaId: its work orders are sent with areaId 0 (no area)",
    ],
  );
  assert.match(p[0]?.hint ?? "", /devices\.meter-02\.areaId/);
  // work orders off: nothing to say
  assert.deepEqual(checkWorkOrderAreas(withoutWorkOrders(config()), [{ file: "a", doc: rule() }]), []);
});

test("only the config's own device entries count: a device id like 'constructor' finds nothing inherited", () => {
  const meter = (id: string) => ({
    id,
    bus: "plant",
    unitId: 3,
    product: "meter",
    points: [{ name: "voltage", table: "holding" as const, address: 0, type: "float32" as const }],
  });
  const base = config();
  // An entry reachable only through the prototype is not a configured device.
  const devices = Object.assign(Object.create({ "meter-03": { areaId: 3 } }) as NonNullable<Config["devices"]>, {
    "meter-01": { areaId: 12 },
  });
  const p = checkWorkOrderAreas(
    config({
      modbus: { ...base.modbus!, devices: [meter("meter-01"), meter("constructor"), meter("meter-03")] },
      devices,
    }),
    [{ file: "rules/a.json", doc: rule() }],
  );
  assert.deepEqual(
    p.map((x) => x.message),
    [
      "device 'constructor' has no areaId: its work orders are sent with areaId 0 (no area)",
      "device 'meter-03' has no areaId: its work orders are sent with areaId 0 (no area)",
    ],
  );
});

test("edge-agent validate prints the warning and still exits 0", async () => {
  const base = join(dir, "site");
  mkdirSync(join(base, "rules"), { recursive: true });
  mkdirSync(join(base, "hooks"), { recursive: true });
  writeFileSync(join(base, "rules", "ov.json"), JSON.stringify(rule()));
  const file = join(base, "agent.json");
  writeFileSync(
    file,
    JSON.stringify({
      gatewayId: "gw",
      rulesDir: join(base, "rules"),
      hooksDir: join(base, "hooks"),
      workOrders: { baseUrl: "https://ops.example.com", appId: "edge", appSecret: "s3cret-value" },
      devices: { "meter-09": { product: "meter", name: "Spare" } },
    }),
  );
  const out: string[] = [];
  const io: CliIO = { stdout: (s) => out.push(s), stderr: (s) => out.push(s), env: {}, cwd: base };
  const code = await validate(["-c", file], io);
  const text = out.join("");
  assert.equal(code, 0, text);
  assert.match(text, /ov\.json: \$\.actions\.workOrder: warning: device 'meter-09' has no areaId/);
  assert.match(text, /: valid — .*\d warnings?\n$/);
});
