// Defaults of every optional setting that has one (docs/configuration.md), applied once after validation so
// the rest of the agent reads one complete, frozen config. Relative directories resolve against
// the working directory of the process (documented in the README, Configuration).

import { isAbsolute, resolve } from "node:path";
import type {
  Config,
  HooksConfig,
  HttpConfig,
  ModbusBusConfig,
  ModbusConfig,
  ModbusDeviceConfig,
  MqttConfig,
  NotifyConfig,
  QuotaConfig,
  StatsConfig,
  SubscriptionConfig,
  TasksConfig,
  UpstreamConfig,
  WorkOrdersConfig,
} from "./schema.js";

export const DEFAULTS = {
  dataDir: "./data",
  rulesDir: "./rules",
  hooksDir: "./hooks",
  recipientsFile: "./recipients.json",
  tasksDir: "./tasks",
  /** Runs kept per task. */
  tasksRunsPerTask: 100,
  tasksRunRetentionDays: 30,
  /** Per-try deadline of a task action that sets none (nor its task). */
  tasksDefaultTimeoutMs: 10_000,
  logLevel: "info",
  hooksTimeoutMs: 5000,
  hooksWatchdogS: 30,
  /** Events waiting per observer hook. */
  hooksQueueSize: 1000,
  /** Period of the hooks' onTick (0: off). */
  hooksTickIntervalMs: 1000,
  /** Closed days of daily statistics kept. */
  statsRetentionDays: 400,
  outboxMaxPending: 100_000,
  outboxRetentionDays: 7,
  httpHost: "127.0.0.1",
  httpPort: 8080,
  embeddedMqttPort: 1883,
  embeddedMqttHost: "127.0.0.1",
  /** Devices MQTT readings may create (declared devices not counted). */
  mqttMaxDevices: 10_000,
  /** Facts MQTT readings may add to one device; existing facts always update. */
  mqttMaxValuesPerDevice: 500,
  mqttKeepaliveS: 30,
  mqttReconnectMinMs: 1000,
  mqttReconnectMaxMs: 30_000,
  /** 256 KiB */
  mqttMaxPayloadBytes: 256 * 1024,
  /** Silences of expectedIntervalMs before an MQTT device is offline. */
  mqttOfflineAfter: 3,
  modbusIntervalMs: 1000,
  modbusOfflineAfter: 3,
  modbusMaxGap: 10,
  /** Per request, on every bus. */
  modbusTimeoutMs: 1000,
  /** TCP port of tcp and rtu-over-tcp buses. */
  modbusPort: 502,
  modbusReconnectMinMs: 500,
  modbusReconnectMaxMs: 30_000,
  /** Consecutive failed requests before a bus is reopened: a serial line sees more transient noise than TCP. */
  modbusReopenAfterFailures: { tcp: 3, rtu: 5, "rtu-over-tcp": 5 },
  upstreamHeartbeatIntervalMs: 30_000,
  upstreamTimeoutMs: 10_000,
  /** Requests in flight at once to one host (upstream deliveries, and hooks' ctx.http on the same client). */
  upstreamConcurrency: 32,
  workOrdersTimeoutMs: 10_000,
  /** The work-order platform's default tenant (its own client sends "1" unless told otherwise). */
  workOrdersTenantId: "1",
  /** 0: the latest values of devices are not logged. */
  logValuesIntervalMs: 0,
} as const;

/** `T` with the keys `K` present and defined. */
type With<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: Exclude<T[P], undefined> };
type Section<K extends keyof Config> = NonNullable<Config[K]>;

export type ResolvedSubscriptionConfig = With<SubscriptionConfig, "offlineAfter">;
export type ResolvedMqttConfig = Omit<
  With<
    MqttConfig,
    | "subscriptions"
    | "maxDevices"
    | "maxValuesPerDevice"
    | "keepaliveS"
    | "reconnectMinMs"
    | "reconnectMaxMs"
    | "maxPayloadBytes"
  >,
  "subscriptions"
> & { subscriptions: ResolvedSubscriptionConfig[] };
/** `port` is filled in on tcp and rtu-over-tcp buses only (a serial line has none). */
export type ResolvedModbusBusConfig = With<
  ModbusBusConfig,
  "timeoutMs" | "reconnectMinMs" | "reconnectMaxMs" | "reopenAfterFailures"
>;
export type ResolvedModbusDeviceConfig = With<ModbusDeviceConfig, "offlineAfter" | "maxGap" | "intervalMs">;
export interface ResolvedModbusConfig {
  buses: ResolvedModbusBusConfig[];
  devices: ResolvedModbusDeviceConfig[];
}
export type ResolvedUpstreamConfig = With<UpstreamConfig, "heartbeatIntervalMs" | "timeoutMs" | "concurrency">;
export type ResolvedWorkOrdersConfig = With<WorkOrdersConfig, "enabled" | "tenantId" | "timeoutMs">;
export type ResolvedHooksConfig = With<
  HooksConfig,
  "timeoutMs" | "disabled" | "watchdogS" | "queueSize" | "tickIntervalMs"
>;
export type ResolvedStatsConfig = With<StatsConfig, "retentionDays">;
export type ResolvedHttpConfig = With<HttpConfig, "host" | "port" | "enabled">;
export type ResolvedOutboxConfig = With<Section<"outbox">, "maxPending" | "retentionDays">;
export type ResolvedTasksConfig = With<TasksConfig, "runsPerTask" | "runRetentionDays" | "defaultTimeoutMs">;

/**
 * The config the agent runs with: what resolveDefaults returns. Every setting that has a default is
 * present, directories are absolute, and sections that are off when absent (mqtt, modbus, upstream,
 * workOrders, simulator) stay optional. Still assignable to Config, so parts that take a section of
 * Config accept it unchanged.
 */
export type ResolvedConfig = Omit<
  Config,
  | "dataDir"
  | "timezone"
  | "rulesDir"
  | "hooksDir"
  | "tasksDir"
  | "tasks"
  | "log"
  | "devices"
  | "hooks"
  | "stats"
  | "outbox"
  | "quotas"
  | "http"
  | "mqtt"
  | "modbus"
  | "upstream"
  | "workOrders"
  | "notify"
> & {
  dataDir: string;
  /** IANA name; the system's when the config gives none. */
  timezone: string;
  rulesDir: string;
  hooksDir: string;
  tasksDir: string;
  tasks: ResolvedTasksConfig;
  log: With<Section<"log">, "level" | "valuesIntervalMs">;
  devices: Section<"devices">;
  hooks: ResolvedHooksConfig;
  stats: ResolvedStatsConfig;
  outbox: ResolvedOutboxConfig;
  quotas: QuotaConfig[];
  http: ResolvedHttpConfig;
  mqtt?: ResolvedMqttConfig;
  modbus?: ResolvedModbusConfig;
  upstream?: ResolvedUpstreamConfig;
  workOrders?: ResolvedWorkOrdersConfig;
  notify: ResolvedNotifyConfig;
};

/** Notifications: the recipients file and template directory absolute, the language decided. */
export type ResolvedNotifyConfig = Omit<NotifyConfig, "recipientsFile" | "lang"> & {
  recipientsFile: string;
  lang: "en" | "zh";
};

/** Where the embedded broker listens (`"url": "embedded"`), or null when the agent connects to another broker. */
export function embeddedBrokerAddress(mqtt: MqttConfig): { port: number; host: string } | null {
  if (mqtt.url !== "embedded") return null;
  return { port: mqtt.port ?? DEFAULTS.embeddedMqttPort, host: mqtt.host ?? DEFAULTS.embeddedMqttHost };
}

/** File name of the agent's SQLite database inside dataDir. */
export const DATABASE_FILE = "edge-agent.db";

export function resolvePath(p: string, cwd: string): string {
  return isAbsolute(p) ? p : resolve(cwd, p);
}

/** A copy of a validated config with defaults filled in and directories made absolute. */
export function resolveDefaults(c: Config, cwd: string): ResolvedConfig {
  // The optional sections are resolved below, each only when present.
  const { mqtt: _mqtt, modbus: _modbus, upstream: _upstream, workOrders: _workOrders, ...rest } = c;
  const out: ResolvedConfig = {
    ...rest,
    dataDir: resolvePath(c.dataDir ?? DEFAULTS.dataDir, cwd),
    timezone: c.timezone ?? systemTimeZone(),
    rulesDir: resolvePath(c.rulesDir ?? DEFAULTS.rulesDir, cwd),
    hooksDir: resolvePath(c.hooksDir ?? DEFAULTS.hooksDir, cwd),
    tasksDir: resolvePath(c.tasksDir ?? DEFAULTS.tasksDir, cwd),
    tasks: resolveTasks(c.tasks),
    log: {
      ...c.log,
      level: c.log?.level ?? DEFAULTS.logLevel,
      valuesIntervalMs: c.log?.valuesIntervalMs ?? DEFAULTS.logValuesIntervalMs,
    },
    devices: c.devices ?? {},
    hooks: resolveHooks(c.hooks),
    stats: resolveStats(c.stats),
    outbox: resolveOutbox(c.outbox),
    quotas: c.quotas ?? [],
    http: resolveHttp(c.http),
    notify: resolveNotify(c.notify, cwd),
  };
  if (c.mqtt) out.mqtt = resolveMqtt(c.mqtt, cwd);
  if (c.modbus) out.modbus = resolveModbus(c.modbus);
  if (c.upstream) out.upstream = resolveUpstream(c.upstream);
  if (c.workOrders) out.workOrders = resolveWorkOrders(c.workOrders);
  return out;
}

/** The time zone of the process (TZ, or the system's), "UTC" when the runtime cannot tell. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

// One resolver per section, used by resolveDefaults and by the parts that tests (and benches) build
// from a section written by hand. Each is idempotent: a resolved section resolves to an equal one.

export function resolveNotify(n: NotifyConfig | undefined, cwd: string): ResolvedNotifyConfig {
  const out: ResolvedNotifyConfig = {
    ...n,
    recipientsFile: resolvePath(n?.recipientsFile ?? DEFAULTS.recipientsFile, cwd),
    lang: n?.lang ?? "en",
  };
  if (n?.templatesDir !== undefined) out.templatesDir = resolvePath(n.templatesDir, cwd);
  return out;
}

export function resolveHooks(h: HooksConfig | undefined): ResolvedHooksConfig {
  return {
    ...h,
    timeoutMs: h?.timeoutMs ?? DEFAULTS.hooksTimeoutMs,
    disabled: h?.disabled ?? [],
    watchdogS: h?.watchdogS ?? DEFAULTS.hooksWatchdogS,
    queueSize: h?.queueSize ?? DEFAULTS.hooksQueueSize,
    tickIntervalMs: h?.tickIntervalMs ?? DEFAULTS.hooksTickIntervalMs,
  };
}

export function resolveStats(s: StatsConfig | undefined): ResolvedStatsConfig {
  return { ...s, retentionDays: s?.retentionDays ?? DEFAULTS.statsRetentionDays };
}

export function resolveOutbox(o: Config["outbox"]): ResolvedOutboxConfig {
  return {
    maxPending: o?.maxPending ?? DEFAULTS.outboxMaxPending,
    retentionDays: o?.retentionDays ?? DEFAULTS.outboxRetentionDays,
  };
}

export function resolveTasks(t: TasksConfig | undefined): ResolvedTasksConfig {
  return {
    ...t,
    runsPerTask: t?.runsPerTask ?? DEFAULTS.tasksRunsPerTask,
    runRetentionDays: t?.runRetentionDays ?? DEFAULTS.tasksRunRetentionDays,
    defaultTimeoutMs: t?.defaultTimeoutMs ?? DEFAULTS.tasksDefaultTimeoutMs,
  };
}

export function resolveHttp(h: HttpConfig | undefined): ResolvedHttpConfig {
  return {
    ...h,
    host: h?.host ?? DEFAULTS.httpHost,
    port: h?.port ?? DEFAULTS.httpPort,
    enabled: h?.enabled ?? true,
  };
}

/** TLS file paths resolve against `cwd`, the working directory of the process. */
export function resolveMqtt(m: MqttConfig, cwd: string): ResolvedMqttConfig {
  const tls = m.tls;
  return {
    ...m,
    ...embeddedBrokerAddress(m),
    ...(tls
      ? {
          tls: {
            ...tls,
            ...(typeof tls.ca === "string" ? { ca: resolvePath(tls.ca, cwd) } : {}),
            ...(typeof tls.cert === "string" ? { cert: resolvePath(tls.cert, cwd) } : {}),
            ...(typeof tls.key === "string" ? { key: resolvePath(tls.key, cwd) } : {}),
          },
        }
      : {}),
    subscriptions: (m.subscriptions ?? []).map((s) => ({
      ...s,
      offlineAfter: s.offlineAfter ?? DEFAULTS.mqttOfflineAfter,
    })),
    maxDevices: m.maxDevices ?? DEFAULTS.mqttMaxDevices,
    maxValuesPerDevice: m.maxValuesPerDevice ?? DEFAULTS.mqttMaxValuesPerDevice,
    keepaliveS: m.keepaliveS ?? DEFAULTS.mqttKeepaliveS,
    reconnectMinMs: m.reconnectMinMs ?? DEFAULTS.mqttReconnectMinMs,
    reconnectMaxMs: m.reconnectMaxMs ?? DEFAULTS.mqttReconnectMaxMs,
    maxPayloadBytes: m.maxPayloadBytes ?? DEFAULTS.mqttMaxPayloadBytes,
  };
}

export function resolveModbus(m: Partial<ModbusConfig>): ResolvedModbusConfig {
  return { buses: (m.buses ?? []).map(resolveModbusBus), devices: (m.devices ?? []).map(resolveModbusDevice) };
}

export function resolveModbusBus(b: ModbusBusConfig): ResolvedModbusBusConfig {
  return {
    ...b,
    ...(b.transport !== "rtu" ? { port: b.port ?? DEFAULTS.modbusPort } : {}),
    timeoutMs: b.timeoutMs ?? DEFAULTS.modbusTimeoutMs,
    reconnectMinMs: b.reconnectMinMs ?? DEFAULTS.modbusReconnectMinMs,
    reconnectMaxMs: b.reconnectMaxMs ?? DEFAULTS.modbusReconnectMaxMs,
    reopenAfterFailures: b.reopenAfterFailures ?? DEFAULTS.modbusReopenAfterFailures[b.transport],
  };
}

export function resolveModbusDevice(d: ModbusDeviceConfig): ResolvedModbusDeviceConfig {
  return {
    ...d,
    intervalMs: d.intervalMs ?? DEFAULTS.modbusIntervalMs,
    offlineAfter: d.offlineAfter ?? DEFAULTS.modbusOfflineAfter,
    maxGap: d.maxGap ?? DEFAULTS.modbusMaxGap,
  };
}

export function resolveUpstream(u: UpstreamConfig): ResolvedUpstreamConfig {
  return {
    ...u,
    heartbeatIntervalMs: u.heartbeatIntervalMs ?? DEFAULTS.upstreamHeartbeatIntervalMs,
    timeoutMs: u.timeoutMs ?? DEFAULTS.upstreamTimeoutMs,
    concurrency: u.concurrency ?? DEFAULTS.upstreamConcurrency,
  };
}

export function resolveWorkOrders(w: WorkOrdersConfig): ResolvedWorkOrdersConfig {
  return {
    ...w,
    enabled: w.enabled ?? true,
    tenantId: w.tenantId ?? DEFAULTS.workOrdersTenantId,
    timeoutMs: w.timeoutMs ?? DEFAULTS.workOrdersTimeoutMs,
  };
}

export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
