// The configuration contract (docs/configuration.md) as one TypeBox schema: the JSON Schema that validates
// config/agent.json and the TypeScript type the rest of the agent reads. Every object is closed
// (additionalProperties: false) so a typo is an error, not a silently ignored key.

import { type Static, type TObject, type TProperties, Type } from "@sinclair/typebox";

const Closed = <T extends TProperties>(props: T): TObject<T> => Type.Object(props, { additionalProperties: false });
const PositiveMs = (def?: number) => Type.Integer({ minimum: 1, ...(def !== undefined ? { default: def } : {}) });
const Id = Type.String({ minLength: 1, pattern: "^[A-Za-z0-9_.:-]+$" });
const AreaId = Type.Union([Type.Integer(), Type.String({ minLength: 1 })]);

export const MqttTlsSchema = Closed({
  ca: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  cert: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  key: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  rejectUnauthorized: Type.Optional(Type.Boolean()),
});

export const SubscriptionSchema = Closed({
  topic: Type.String({ minLength: 1 }),
  qos: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)])),
  /** `{N}` topic-level template or `$.json.path` into the payload. */
  device: Type.String({ minLength: 1 }),
  product: Type.String({ minLength: 1 }),
  /** Payload field holding the timestamp (epoch ms or ISO-8601). */
  timestamp: Type.Optional(Type.String({ minLength: 1 })),
  /** JSON path of the object holding the metrics; `$` = whole payload. */
  values: Type.Optional(Type.String({ minLength: 1 })),
  /** Expected publish interval; the device goes offline after `offlineAfter` × this with no message. */
  expectedIntervalMs: Type.Optional(PositiveMs()),
  offlineAfter: Type.Optional(Type.Integer({ minimum: 1 })),
});

export const MqttSchema = Closed({
  url: Type.String({ minLength: 1 }),
  /** Port of the embedded broker when url is "embedded". */
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  /** Bind address of the embedded broker (default 127.0.0.1). */
  host: Type.Optional(Type.String({ minLength: 1 })),
  clientId: Type.Optional(Type.String({ minLength: 1 })),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  users: Type.Optional(
    Type.Array(Closed({ username: Type.String({ minLength: 1 }), password: Type.String() }), {
      description:
        'Embedded broker only: device logins accepted besides username/password (put passwords in variables, "${DEVICE_PASSWORD}"). ' +
        "With users or username set, the embedded broker refuses clients without valid credentials.",
    }),
  ),
  tls: Type.Optional(MqttTlsSchema),
  keepaliveS: Type.Optional(Type.Integer({ minimum: 0 })),
  reconnectMinMs: Type.Optional(PositiveMs()),
  reconnectMaxMs: Type.Optional(PositiveMs()),
  /** Largest accepted payload; bigger ones are counted and dropped. */
  maxPayloadBytes: Type.Optional(Type.Integer({ minimum: 64 })),
  maxDevices: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        "Most devices MQTT messages may create (default 10000; devices declared in config not counted). " +
        "A message from a new device beyond it is dropped and counted (edge_mqtt_devices_refused_total); known devices keep working.",
    }),
  ),
  maxValuesPerDevice: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        "Most values (facts) MQTT messages may give one device (default 500). A new key beyond it is dropped and counted " +
        '(edge_mqtt_values_dropped_total{reason="too-many-keys"}); keys the device already has keep updating.',
    }),
  ),
  subscriptions: Type.Array(SubscriptionSchema, { default: [] }),
});

export const ModbusBusSchema = Closed({
  id: Id,
  transport: Type.Union([Type.Literal("tcp"), Type.Literal("rtu"), Type.Literal("rtu-over-tcp")]),
  path: Type.Optional(Type.String({ minLength: 1 })),
  baudRate: Type.Optional(Type.Integer({ minimum: 300 })),
  parity: Type.Optional(Type.Union([Type.Literal("none"), Type.Literal("even"), Type.Literal("odd")])),
  dataBits: Type.Optional(Type.Union([Type.Literal(7), Type.Literal(8)])),
  stopBits: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)])),
  host: Type.Optional(Type.String({ minLength: 1 })),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  timeoutMs: Type.Optional(PositiveMs()),
  /** Extra silence between frames on a serial line, on top of the 3.5-character gap. */
  interFrameDelayMs: Type.Optional(Type.Integer({ minimum: 0 })),
  reopenAfterFailures: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        "Consecutive failed requests (timeout, CRC error, bad answer) after which the port or connection " +
        "is closed and reopened (default 5 on rtu and rtu-over-tcp buses, 3 on tcp)",
    }),
  ),
  reconnectMinMs: Type.Optional(PositiveMs()),
  reconnectMaxMs: Type.Optional(PositiveMs()),
});

export const PointTypeSchema = Type.Union([
  Type.Literal("bool"),
  Type.Literal("int16"),
  Type.Literal("uint16"),
  Type.Literal("int32"),
  Type.Literal("uint32"),
  Type.Literal("int64"),
  Type.Literal("uint64"),
  Type.Literal("float32"),
  Type.Literal("float64"),
  Type.Literal("string"),
]);

export const ModbusPointSchema = Closed({
  name: Type.String({ minLength: 1 }),
  table: Type.Union([Type.Literal("coil"), Type.Literal("discrete"), Type.Literal("holding"), Type.Literal("input")]),
  address: Type.Integer({ minimum: 0, maximum: 65535 }),
  type: PointTypeSchema,
  order: Type.Optional(
    Type.Union([Type.Literal("ABCD"), Type.Literal("CDAB"), Type.Literal("BADC"), Type.Literal("DCBA")]),
  ),
  /** Bit index (0–15) for a bool read from a holding/input register. */
  bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 15 })),
  /** Length in registers, for `string`. */
  length: Type.Optional(Type.Integer({ minimum: 1, maximum: 125 })),
  scale: Type.Optional(Type.Number()),
  offset: Type.Optional(Type.Number()),
  writable: Type.Optional(
    Type.Boolean({
      description:
        'Writing is opt-in (default false): only a point with "writable": true can be written by modbus.write ' +
        "(hooks, interlocks); any other write is refused",
    }),
  ),
});

export const ModbusDeviceSchema = Closed({
  id: Id,
  bus: Id,
  unitId: Type.Integer({ minimum: 0, maximum: 255 }),
  product: Type.String({ minLength: 1 }),
  intervalMs: Type.Optional(PositiveMs()),
  /** Consecutive failed polls before the device is offline (default 3). */
  offlineAfter: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Largest gap (registers/bits) bridged when merging points into one read (default 10). */
  maxGap: Type.Optional(Type.Integer({ minimum: 0, maximum: 124 })),
  points: Type.Array(ModbusPointSchema, { minItems: 1 }),
});

export const ModbusSchema = Closed({
  buses: Type.Array(ModbusBusSchema, { default: [] }),
  devices: Type.Array(ModbusDeviceSchema, { default: [] }),
});

export const DeviceMetaSchema = Closed({
  name: Type.Optional(Type.String()),
  product: Type.Optional(Type.String({ minLength: 1 })),
  areaId: Type.Optional(AreaId),
  location: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  maintenance: Type.Optional(Type.Boolean()),
});

export const HooksSchema = Closed({
  timeoutMs: Type.Optional(PositiveMs(5000)),
  disabled: Type.Optional(Type.Array(Type.String())),
  /** Bounded queue length per observer hook; overflow is counted and dropped. */
  queueSize: Type.Optional(Type.Integer({ minimum: 1 })),
  /**
   * Seconds the event loop may stay blocked (a hook that never returns) before the watchdog logs the
   * hook and method, quarantines that hook and ends the process for the service manager to restart.
   * 0 turns the watchdog off (e.g. while a debugger is attached).
   */
  watchdogS: Type.Optional(
    Type.Number({
      minimum: 0,
      default: 30,
      description:
        "Seconds the event loop may stay blocked before the watchdog names the hook, quarantines it and ends the agent (0 = off)",
    }),
  ),
});

export const UpstreamSchema = Closed({
  baseUrl: Type.String({ minLength: 1 }),
  token: Type.Optional(Type.String()),
  heartbeatIntervalMs: Type.Optional(PositiveMs(30000)),
  timeoutMs: Type.Optional(PositiveMs(10000)),
  /** Requests in flight at once while a backlog drains (different alarms only). */
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
});

export const WorkOrdersSchema = Closed({
  enabled: Type.Optional(Type.Boolean()),
  baseUrl: Type.String({ minLength: 1 }),
  appId: Type.String({ minLength: 1 }),
  appSecret: Type.String(),
  /** `tenant-id` header of every work-order request; the platform's default tenant is "1". */
  tenantId: Type.Optional(
    Type.String({
      minLength: 1,
      default: "1",
      description: 'Tenant of the work-order platform, sent as the tenant-id header (default "1")',
    }),
  ),
  timeoutMs: Type.Optional(PositiveMs(10000)),
});

export const OutboxSchema = Closed({
  maxPending: Type.Optional(Type.Integer({ minimum: 10 })),
  retentionDays: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
});

export const QuotaSchema = Closed({
  id: Id,
  device: Type.String({ minLength: 1 }),
  metric: Type.String({ minLength: 1 }),
  period: Type.Union([Type.Literal("day"), Type.Literal("month")]),
  limit: Type.Number({ exclusiveMinimum: 0 }),
  warnAt: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  level: Type.Optional(Type.Integer({ minimum: 0, maximum: 5 })),
});

export const HttpSchema = Closed({
  host: Type.Optional(Type.String({ minLength: 1 })),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  token: Type.Optional(Type.String()),
  enabled: Type.Optional(Type.Boolean()),
  allowedHosts: Type.Optional(
    Type.Array(Type.String({ minLength: 1 }), {
      description:
        'Extra host names (or addresses) operators use to reach the API, e.g. "gw-01.plant.example" or ' +
        '"*.plant.example"; loopback names, the bound address and (when bound to 0.0.0.0/::) any IP are ' +
        "always accepted. A request whose Host header names anything else is refused (DNS-rebinding guard).",
    }),
  ),
});

/** Built-in demo helpers, for the bundled config and tests. */
export const SimulatorSchema = Closed({
  /** Start the simulated Modbus TCP meter in-process on this port. */
  modbusPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  /** Publish simulated MQTT meter readings to the configured broker. */
  mqtt: Type.Optional(Type.Boolean()),
});

export const ConfigSchema = Closed({
  gatewayId: Id,
  dataDir: Type.Optional(Type.String({ minLength: 1 })),
  log: Type.Optional(
    Closed({
      level: Type.Optional(Type.String()),
      pretty: Type.Optional(Type.Boolean()),
      /** Log each device's latest values at info at most this often (0 or absent: off). */
      valuesIntervalMs: Type.Optional(Type.Integer({ minimum: 0 })),
    }),
  ),
  mqtt: Type.Optional(MqttSchema),
  modbus: Type.Optional(ModbusSchema),
  devices: Type.Optional(Type.Record(Type.String(), DeviceMetaSchema)),
  rulesDir: Type.Optional(Type.String({ minLength: 1 })),
  rulesMaxFileBytes: Type.Optional(
    Type.Integer({
      minimum: 1024,
      description:
        "Largest rule file read, in bytes (default 1 MiB). A larger file is refused with a problem and its last good rules stay in force",
    }),
  ),
  hooksDir: Type.Optional(Type.String({ minLength: 1 })),
  hooks: Type.Optional(HooksSchema),
  upstream: Type.Optional(UpstreamSchema),
  workOrders: Type.Optional(WorkOrdersSchema),
  outbox: Type.Optional(OutboxSchema),
  quotas: Type.Optional(Type.Array(QuotaSchema)),
  http: Type.Optional(HttpSchema),
  simulator: Type.Optional(SimulatorSchema),
});

export type Config = Static<typeof ConfigSchema>;
export type MqttConfig = Static<typeof MqttSchema>;
export type SubscriptionConfig = Static<typeof SubscriptionSchema>;
export type ModbusConfig = Static<typeof ModbusSchema>;
export type ModbusBusConfig = Static<typeof ModbusBusSchema>;
export type ModbusDeviceConfig = Static<typeof ModbusDeviceSchema>;
export type ModbusPointConfig = Static<typeof ModbusPointSchema>;
export type PointType = Static<typeof PointTypeSchema>;
export type UpstreamConfig = Static<typeof UpstreamSchema>;
export type WorkOrdersConfig = Static<typeof WorkOrdersSchema>;
export type HooksConfig = Static<typeof HooksSchema>;
export type HttpConfig = Static<typeof HttpSchema>;
export type QuotaConfig = Static<typeof QuotaSchema>;
