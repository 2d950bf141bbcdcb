// The configuration contract (docs/configuration.md) as one TypeBox schema: the JSON Schema that validates
// config/agent.json and the TypeScript type the rest of the agent reads. Every object is closed
// (additionalProperties: false) so a typo is an error, not a silently ignored key.
// Over 400 lines because it is one schema with a description on every field (the configuration
// reference is generated from it); splitting it per section would scatter one contract.

import { type Static, type TObject, type TProperties, Type } from "@sinclair/typebox";

const Closed = <T extends TProperties>(props: T, description?: string): TObject<T> =>
  Type.Object(props, { additionalProperties: false, ...(description !== undefined ? { description } : {}) });
const PositiveMs = (def?: number, description?: string) =>
  Type.Integer({
    minimum: 1,
    ...(def !== undefined ? { default: def } : {}),
    ...(description !== undefined ? { description } : {}),
  });
/** An id: letters, digits and `_ . : -`. */
const Id = (description: string) => Type.String({ minLength: 1, pattern: "^[A-Za-z0-9_.:-]+$", description });
const AreaId = (description: string) => Type.Union([Type.Integer(), Type.String({ minLength: 1 })], { description });

export const MqttTlsSchema = Closed(
  {
    ca: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description: "PEM file of the CA that signed the broker's certificate (read once at start)",
      }),
    ),
    cert: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description: "PEM file of the client certificate, for brokers that ask for one",
      }),
    ),
    key: Type.Optional(
      Type.Union([Type.String(), Type.Null()], { description: "PEM file of the client certificate's key" }),
    ),
    rejectUnauthorized: Type.Optional(
      Type.Boolean({
        description: "false accepts any server certificate: for a first commissioning test only (default true)",
      }),
    ),
  },
  "TLS files for mqtts:// and wss:// URLs",
);

export const SubscriptionSchema = Closed({
  topic: Type.String({
    minLength: 1,
    description: "Topic filter; + matches one level, # the rest (last level only)",
  }),
  qos: Type.Optional(
    Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], {
      description: "Subscription QoS (default 0); use 1 for readings that must survive an agent restart",
    }),
  ),
  device: Type.String({
    minLength: 1,
    description:
      "Device id: a template over topic levels ({1} is the level the first wildcard matched, text around it is kept: meter-{1}) " +
      "or a JSON path into the payload ($.meta.id)",
  }),
  product: Type.String({
    minLength: 1,
    description: "Product key of every device of this subscription; rules select devices by it",
  }),
  timestamp: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "Payload field (or JSON path) holding the device's time: epoch ms, epoch s or ISO-8601 (absent: the time the message arrived)",
    }),
  ),
  values: Type.Optional(
    Type.String({
      minLength: 1,
      description: "JSON path of the object whose keys are the reading's facts ($ = the whole payload, the default)",
    }),
  ),
  expectedIntervalMs: Type.Optional(
    PositiveMs(undefined, "How often a device publishes; enables offline detection (absent: never marked offline)"),
  ),
  offlineAfter: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: "Silence of offlineAfter × expectedIntervalMs marks the device offline",
    }),
  ),
});

export const MqttSchema = Closed(
  {
    url: Type.String({
      minLength: 1,
      description:
        'Broker URL (mqtt://, mqtts://, ws://, wss://) or "embedded": an in-process broker, for sites where the gateway is the broker',
    }),
    port: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 65535,
        description: 'Port of the embedded broker (only with url "embedded")',
      }),
    ),
    host: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Bind address of the embedded broker (only with url "embedded"); 0.0.0.0 accepts devices from the network',
      }),
    ),
    clientId: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "MQTT client id (default edge-agent-<gatewayId>). Keep it stable: the broker keeps the agent's session under it; two agents must never share one",
      }),
    ),
    username: Type.Optional(
      Type.String({
        description: 'Broker login; with "embedded", the agent\'s own login (and every client must then log in)',
      }),
    ),
    password: Type.Optional(
      Type.String({ description: 'Broker password; write "${MQTT_PASSWORD}" to take it from the environment' }),
    ),
    users: Type.Optional(
      Type.Array(
        Closed({
          username: Type.String({ minLength: 1, description: "Login of one device" }),
          password: Type.String({ description: 'Its password: "${METER17_PASSWORD}"' }),
        }),
        {
          description:
            'Embedded broker only: device logins accepted besides username/password (put passwords in variables, "${DEVICE_PASSWORD}"). ' +
            "With users or username set, the embedded broker refuses clients without valid credentials.",
        },
      ),
    ),
    tls: Type.Optional(MqttTlsSchema),
    keepaliveS: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "MQTT keep-alive in seconds; a dead connection is noticed after 1.5 × this",
      }),
    ),
    reconnectMinMs: Type.Optional(
      PositiveMs(undefined, "First reconnect delay after the connection drops; doubles after each failed attempt"),
    ),
    reconnectMaxMs: Type.Optional(PositiveMs(undefined, "Longest reconnect delay")),
    maxPayloadBytes: Type.Optional(
      Type.Integer({
        minimum: 64,
        description: "Largest accepted payload; bigger messages are dropped unread and counted as too-large",
      }),
    ),
    maxDevices: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "Most devices MQTT messages may create (devices declared in config not counted). " +
          "A message from a new device beyond it is dropped and counted (edge_mqtt_devices_refused_total); known devices keep working.",
      }),
    ),
    maxValuesPerDevice: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "Most values (facts) MQTT messages may give one device. A new key beyond it is dropped and counted " +
          '(edge_mqtt_values_dropped_total{reason="too-many-keys"}); keys the device already has keep updating.',
      }),
    ),
    subscriptions: Type.Array(SubscriptionSchema, {
      default: [],
      description:
        "What to subscribe to and how to turn a message into a reading; the first subscription matching a topic wins",
    }),
  },
  "MQTT acquisition (absent: no MQTT)",
);

export const ModbusBusSchema = Closed({
  id: Id("Name of the bus, referenced by devices and used in logs and metrics; unique"),
  transport: Type.Union([Type.Literal("tcp"), Type.Literal("rtu"), Type.Literal("rtu-over-tcp")], {
    description:
      "tcp = Modbus TCP; rtu = a serial port (RS-485); rtu-over-tcp = raw RTU frames through a serial device server in transparent mode",
  }),
  path: Type.Optional(
    Type.String({
      minLength: 1,
      description: "Serial device (/dev/ttyUSB0, better /dev/serial/by-id/…); required for rtu, not allowed otherwise",
    }),
  ),
  baudRate: Type.Optional(
    Type.Integer({
      minimum: 300,
      description:
        "Line speed (default 9600); for rtu-over-tcp the far line's speed, so the agent keeps the inter-frame gap",
    }),
  ),
  parity: Type.Optional(
    Type.Union([Type.Literal("none"), Type.Literal("even"), Type.Literal("odd")], {
      description: "Serial parity (default none)",
    }),
  ),
  dataBits: Type.Optional(
    Type.Union([Type.Literal(7), Type.Literal(8)], { description: "Serial data bits (default 8)" }),
  ),
  stopBits: Type.Optional(
    Type.Union([Type.Literal(1), Type.Literal(2)], { description: "Serial stop bits (default 1)" }),
  ),
  host: Type.Optional(
    Type.String({
      minLength: 1,
      description: "IP address or name of the meter or gateway; required for tcp and rtu-over-tcp, not allowed for rtu",
    }),
  ),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: "TCP port (tcp and rtu-over-tcp)" })),
  timeoutMs: Type.Optional(PositiveMs(undefined, "How long one request may wait for its answer")),
  interFrameDelayMs: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        "Extra silence between frames on a serial line, on top of the 3.5-character gap (default 0; some meters need 20–50 ms)",
    }),
  ),
  reopenAfterFailures: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        "Consecutive failed requests (timeout, CRC error, bad answer) after which the port or connection " +
        "is closed and reopened (default 5 on rtu and rtu-over-tcp buses, 3 on tcp)",
    }),
  ),
  reconnectMinMs: Type.Optional(
    PositiveMs(undefined, "First reconnect delay of the port or connection; doubles up to reconnectMaxMs"),
  ),
  reconnectMaxMs: Type.Optional(PositiveMs(undefined, "Longest reconnect delay")),
});

export const PointTypeSchema = Type.Union(
  [
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
  ],
  { description: "Value type: 32-bit types take 2 registers, 64-bit 4; string takes length registers" },
);

export const ModbusPointSchema = Closed({
  name: Type.String({ minLength: 1, description: "Metric name in readings; unique within the device" }),
  table: Type.Union([Type.Literal("coil"), Type.Literal("discrete"), Type.Literal("holding"), Type.Literal("input")], {
    description: "Modbus table: coil (FC1/FC5), discrete (FC2), holding (FC3/FC6/FC16), input (FC4)",
  }),
  address: Type.Integer({
    minimum: 0,
    maximum: 65535,
    description: "Zero-based register or bit address (register 40001 in a vendor's manual is holding address 0)",
  }),
  type: PointTypeSchema,
  order: Type.Optional(
    Type.Union([Type.Literal("ABCD"), Type.Literal("CDAB"), Type.Literal("BADC"), Type.Literal("DCBA")], {
      description:
        "Byte order of multi-register values (default ABCD): ABCD big-endian, CDAB word swap, BADC byte swap, DCBA little-endian",
    }),
  ),
  bit: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 15,
      description: "Bit (0 = least significant) of a holding/input register, for a bool",
    }),
  ),
  length: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 125, description: "Length of a string in registers (2 characters each)" }),
  ),
  scale: Type.Optional(Type.Number({ description: "value = raw × scale + offset (default 1)" })),
  offset: Type.Optional(Type.Number({ description: "Added after scaling (default 0)" })),
  writable: Type.Optional(
    Type.Boolean({
      description:
        'Writing is opt-in (default false): only a point with "writable": true can be written by modbus.write ' +
        "(hooks, interlocks); any other write is refused",
    }),
  ),
});

export const ModbusDeviceSchema = Closed({
  id: Id("Device id in readings, alarms and rules' did; unique"),
  bus: Id("The id of the bus (modbus.buses) the device is on"),
  unitId: Type.Integer({
    minimum: 0,
    maximum: 255,
    description: "Modbus unit (slave) id; 0 is the broadcast address and is refused on serial lines",
  }),
  product: Type.String({ minLength: 1, description: "Product key that rules select devices by" }),
  intervalMs: Type.Optional(
    PositiveMs(undefined, "Poll period; a poll still running when the next is due is skipped, never queued"),
  ),
  offlineAfter: Type.Optional(
    Type.Integer({ minimum: 1, description: "Consecutive failed polls before the device is reported offline" }),
  ),
  maxGap: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 124,
      description:
        "Largest gap (registers or bits) bridged when merging points into one read; 0 for meters that refuse gaps",
    }),
  ),
  points: Type.Array(ModbusPointSchema, { minItems: 1, description: "What to read from the device" }),
});

export const ModbusSchema = Closed(
  {
    buses: Type.Array(ModbusBusSchema, {
      default: [],
      description: "Serial lines and TCP connections; requests on one bus go one at a time, buses run in parallel",
    }),
    devices: Type.Array(ModbusDeviceSchema, { default: [], description: "Meters to poll" }),
  },
  "Modbus polling (absent: no Modbus)",
);

export const DeviceMetaSchema = Closed({
  name: Type.Optional(Type.String({ description: "Human name in alarms, work orders and on the status page" })),
  product: Type.Optional(
    Type.String({
      minLength: 1,
      description: "Product of an MQTT device (Modbus devices have theirs, and this must agree with it)",
    }),
  ),
  areaId: Type.Optional(
    AreaId(
      "Area on the platform, sent in work orders as an integer (0 when absent; validate warns for work-order rules)",
    ),
  ),
  location: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), { description: "Free-form location copied into the device's alarms" }),
  ),
  maintenance: Type.Optional(Type.Boolean({ description: "Device is in maintenance: its status is maintenance" })),
});

export const HooksSchema = Closed(
  {
    timeoutMs: Type.Optional(
      PositiveMs(
        5000,
        "Longest a single hook call (start, stop and kpis included) may take before it is logged and abandoned",
      ),
    ),
    disabled: Type.Optional(
      Type.Array(Type.String(), {
        description: 'Hooks not to load, by name or file name ("site-x" or "site-x.js")',
      }),
    ),
    queueSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: "Events waiting per observer hook; beyond it new events are dropped for that hook and counted",
      }),
    ),
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
    tickIntervalMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: 1000,
        description:
          "Period of the hooks' onTick call in ms (at least 100; 0 = never called); a hook still busy with its previous onTick is skipped",
      }),
    ),
  },
  "Hook runtime settings",
);

export const StatsSchema = Closed(
  {
    retentionDays: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 400,
        description: "Closed days of daily statistics kept in the database (GET /stats/day); older days are deleted",
      }),
    ),
  },
  "Daily statistics per device and metric",
);

export const UpstreamSchema = Closed(
  {
    baseUrl: Type.String({
      minLength: 1,
      description:
        "Platform base URL (http or https); a path prefix is kept: https://h/api/v2 → https://h/api/v2/alert/add",
    }),
    token: Type.Optional(
      Type.String({
        description:
          'Bearer token sent on alarm and heartbeat requests (never to the work-order API or webhooks): "${UPSTREAM_TOKEN}"; empty → warning',
      }),
    ),
    heartbeatIntervalMs: Type.Optional(PositiveMs(30000, "Heartbeat period")),
    timeoutMs: Type.Optional(
      PositiveMs(10000, "Per request: no complete answer within this time is a timeout (retried)"),
    ),
    concurrency: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 64,
        description: "Requests in flight at once while a backlog drains, always for different alarms",
      }),
    ),
  },
  "The platform (absent: alarms are stored and queued in the outbox, not delivered)",
);

export const WorkOrdersSchema = Closed(
  {
    enabled: Type.Optional(
      Type.Boolean({ description: "false keeps the section but creates no work orders (default true)" }),
    ),
    baseUrl: Type.String({ minLength: 1, description: "Work-order API base URL (http or https)" }),
    appId: Type.String({ minLength: 1, description: "Application id, sent as the appId header and signed" }),
    appSecret: Type.String({
      description: 'Signing secret: "${WORK_ORDER_SECRET}"; must not be empty while work orders are enabled',
    }),
    /** `tenant-id` header of every work-order request; the platform's default tenant is "1". */
    tenantId: Type.Optional(
      Type.String({
        minLength: 1,
        default: "1",
        description: "Tenant of the work-order platform, sent as the tenant-id header",
      }),
    ),
    timeoutMs: Type.Optional(PositiveMs(10000, "Per request timeout")),
  },
  "The signed work-order API (absent: no work orders)",
);

export const NotifySchema = Closed(
  {
    recipientsFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "JSON file of recipient groups and their users (watched; default ./recipients.json; absent file: no groups)",
      }),
    ),
    lang: Type.Optional(
      Type.Union([Type.Literal("en"), Type.Literal("zh")], {
        default: "en",
        description: "Language of the shipped message templates: en or zh",
      }),
    ),
    templatesDir: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Directory of the site's own message templates, overriding the shipped ones file by file",
      }),
    ),
    statusPageUrl: Type.Optional(
      Type.String({ minLength: 1, description: "Link to the status page put in every message (absent: no link)" }),
    ),
    email: Type.Optional(
      Closed(
        {
          host: Type.String({ minLength: 1, description: "SMTP server" }),
          port: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 65535, description: "SMTP port (default 465 with secure, else 587)" }),
          ),
          secure: Type.Optional(
            Type.Boolean({ description: "TLS from the first byte (port 465); false: plain, upgraded by STARTTLS" }),
          ),
          starttls: Type.Optional(
            Type.Union([Type.Literal("required"), Type.Literal("opportunistic"), Type.Literal("off")], {
              default: "opportunistic",
              description: "STARTTLS on a plain connection: required, opportunistic (when offered) or off",
            }),
          ),
          user: Type.Optional(Type.String({ description: "SMTP user (absent: no authentication)" })),
          password: Type.Optional(Type.String({ description: 'SMTP password: "${SMTP_PASSWORD}"' })),
          from: Type.String({ minLength: 3, description: "Sender address, e.g. edge-agent <alarms@example.com>" }),
          timeoutMs: Type.Optional(PositiveMs(15000, "Per message timeout")),
        },
        "E-mail over SMTP (absent: e-mail is not sent; rules and groups that need it are warned about)",
      ),
    ),
    wecom: Type.Optional(
      Closed(
        {
          corpId: Type.String({ minLength: 1, description: "WeCom (企业微信) corp id" }),
          agentId: Type.Integer({ description: "Id of the WeCom application that sends the messages" }),
          secret: Type.String({ description: 'Secret of that application: "${WECOM_SECRET}"' }),
          baseUrl: Type.Optional(
            Type.String({ minLength: 1, description: "WeCom API base URL (default https://qyapi.weixin.qq.com)" }),
          ),
          timeoutMs: Type.Optional(PositiveMs(10000, "Per request timeout")),
        },
        "WeCom application messages to users' wecomUserId (absent: not sent)",
      ),
    ),
    robot: Type.Optional(
      Closed(
        {
          baseUrl: Type.Optional(
            Type.String({
              minLength: 1,
              description:
                "Base URL of WeCom group robot webhooks, the key appended (default https://qyapi.weixin.qq.com/cgi-bin/webhook/send)",
            }),
          ),
          timeoutMs: Type.Optional(PositiveMs(10000, "Per request timeout")),
        },
        "WeCom group robots named by recipient groups (keys in the recipients file)",
      ),
    ),
  },
  "Notifications: recipients, languages and channels (docs/notifications.md)",
);

export const OutboxSchema = Closed(
  {
    maxPending: Type.Optional(
      Type.Integer({
        minimum: 10,
        description: "Bound of undelivered items; past it the oldest webhook items are dropped first, alarms never",
      }),
    ),
    retentionDays: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: "How long an undelivered item is retried, and how long settled items are kept",
      }),
    ),
  },
  "Store-and-forward limits",
);

export const TasksSchema = Closed(
  {
    runsPerTask: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: "Runs kept per task in the database (default 100); older ones are pruned",
      }),
    ),
    runRetentionDays: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: "Task runs older than this are pruned, whatever their number (default 30)",
      }),
    ),
    defaultTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "Per-try deadline of a task action when neither the action nor its task sets timeoutMs (default 10000)",
      }),
    ),
  },
  "Scheduled tasks: run history and the default action deadline",
);

export const QuotaSchema = Closed({
  id: Id("Unique name; the quota's alarm has rule id quota:<id>"),
  device: Type.String({
    minLength: 1,
    description: "A Modbus device id or a key of devices (with MQTT subscriptions any id, with a warning)",
  }),
  metric: Type.String({
    minLength: 1,
    description: "A cumulative counter of that device, e.g. energy_kwh (for a Modbus device, one of its point names)",
  }),
  period: Type.Union([Type.Literal("day"), Type.Literal("month")], {
    description: "Calendar period in the agent's local time zone (TZ)",
  }),
  limit: Type.Number({ exclusiveMinimum: 0, description: "Budget per period, in the counter's unit" }),
  warnAt: Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      description: "Fraction of limit that raises the pre-warning (absent: no pre-warning)",
    }),
  ),
  level: Type.Optional(Type.Integer({ minimum: 0, maximum: 5, description: "Level of the quota alarm (default 3)" })),
});

export const HttpSchema = Closed(
  {
    host: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Bind address; anything but a loopback address needs a non-empty token (the agent refuses to start otherwise)",
      }),
    ),
    port: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 65535, description: "TCP port (0 = any free port, for tests)" }),
    ),
    token: Type.Optional(
      Type.String({
        description: 'Bearer token for every request except GET /health and the page shell: "${API_TOKEN}"',
      }),
    ),
    enabled: Type.Optional(Type.Boolean({ description: "false: no local API and no status page (default true)" })),
    allowedHosts: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description:
          'Extra host names (or addresses) operators use to reach the API, e.g. "gw-01.plant.example" or ' +
          '"*.plant.example"; loopback names, the bound address and (when bound to 0.0.0.0/::) any IP are ' +
          "always accepted. A request whose Host header names anything else is refused (DNS-rebinding guard).",
      }),
    ),
  },
  "Local API and status page",
);

/** Built-in demo helpers, for the bundled config and tests. */
export const SimulatorSchema = Closed(
  {
    modbusPort: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 65535,
        description: "Start the simulated Modbus TCP power meter in-process on this port (as edge-agent sim)",
      }),
    ),
    mqtt: Type.Optional(
      Type.Boolean({ description: "Publish simulated MQTT meter readings to the configured broker" }),
    ),
  },
  "Built-in demo devices, for the bundled demo configuration (absent: none)",
);

export const ConfigSchema = Closed({
  gatewayId: Id("Name of this gateway in heartbeats and on the status page"),
  dataDir: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "Directory of the SQLite database edge-agent.db (alarms, outbox, hook storage); created when missing; must be on persistent storage",
    }),
  ),
  log: Type.Optional(
    Closed(
      {
        level: Type.Optional(
          Type.String({
            description:
              "fatal, error, warn, info, debug, trace or silent; the variable EDGE_AGENT_LOG_LEVEL overrides it",
          }),
        ),
        pretty: Type.Optional(
          Type.Boolean({ description: "Human-readable coloured lines instead of JSON lines (default: on a terminal)" }),
        ),
        valuesIntervalMs: Type.Optional(
          Type.Integer({
            minimum: 0,
            description: "Log each device's latest values at info at most this often (0 or absent: off)",
          }),
        ),
      },
      "Logging",
    ),
  ),
  mqtt: Type.Optional(MqttSchema),
  modbus: Type.Optional(ModbusSchema),
  devices: Type.Optional(
    Type.Record(Type.String(), DeviceMetaSchema, {
      description: "Metadata per device id, for Modbus and MQTT devices",
    }),
  ),
  timezone: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "IANA time zone of the site, e.g. Europe/Prague: rule active windows, quota periods, task schedules and the local day of daily statistics (default: the system's time zone)",
    }),
  ),
  rulesDir: Type.Optional(Type.String({ minLength: 1, description: "Directory of rule files *.json (watched)" })),
  rulesMaxFileBytes: Type.Optional(
    Type.Integer({
      minimum: 1024,
      description:
        "Largest rule file read, in bytes (default 1 MiB). A larger file is refused with a problem and its last good rules stay in force",
    }),
  ),
  hooksDir: Type.Optional(
    Type.String({ minLength: 1, description: "Directory of hook modules *.js and *.mjs (watched)" }),
  ),
  hooks: Type.Optional(HooksSchema),
  stats: Type.Optional(StatsSchema),
  tasksDir: Type.Optional(
    Type.String({ minLength: 1, description: "Directory of scheduled task files *.json (watched)" }),
  ),
  tasks: Type.Optional(TasksSchema),
  upstream: Type.Optional(UpstreamSchema),
  workOrders: Type.Optional(WorkOrdersSchema),
  outbox: Type.Optional(OutboxSchema),
  quotas: Type.Optional(Type.Array(QuotaSchema, { description: "Energy budgets per device counter and period" })),
  notify: Type.Optional(NotifySchema),
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
export type NotifyConfig = Static<typeof NotifySchema>;
export type HooksConfig = Static<typeof HooksSchema>;
export type StatsConfig = Static<typeof StatsSchema>;
export type HttpConfig = Static<typeof HttpSchema>;
export type QuotaConfig = Static<typeof QuotaSchema>;
export type TasksConfig = Static<typeof TasksSchema>;
