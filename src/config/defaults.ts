// Defaults of every optional setting that has one (docs/configuration.md), applied once after validation so
// the rest of the agent reads one complete, frozen config. Relative directories resolve against
// the working directory of the process (documented in the README, Configuration).

import { isAbsolute, resolve } from "node:path";
import type {
  Config,
  HooksConfig,
  HttpConfig,
  ModbusDeviceConfig,
  MqttConfig,
  QuotaConfig,
  UpstreamConfig,
  WorkOrdersConfig,
} from "./schema.js";

export const DEFAULTS = {
  dataDir: "./data",
  rulesDir: "./rules",
  hooksDir: "./hooks",
  logLevel: "info",
  hooksTimeoutMs: 5000,
  hooksWatchdogS: 30,
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
  modbusOfflineAfter: 3,
  modbusMaxGap: 10,
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

export type ResolvedMqttConfig = With<MqttConfig, "subscriptions" | "maxDevices" | "maxValuesPerDevice">;
export type ResolvedModbusDeviceConfig = With<ModbusDeviceConfig, "offlineAfter" | "maxGap">;
export type ResolvedUpstreamConfig = With<UpstreamConfig, "heartbeatIntervalMs" | "timeoutMs" | "concurrency">;
export type ResolvedWorkOrdersConfig = With<WorkOrdersConfig, "enabled" | "tenantId" | "timeoutMs">;
export type ResolvedHooksConfig = With<HooksConfig, "timeoutMs" | "disabled" | "watchdogS">;
export type ResolvedHttpConfig = With<HttpConfig, "host" | "port" | "enabled">;

/**
 * The config the agent runs with: what resolveDefaults returns. Every setting that has a default is
 * present, directories are absolute, and sections that are off when absent (mqtt, modbus, upstream,
 * workOrders, simulator) stay optional. Still assignable to Config, so parts that take a section of
 * Config accept it unchanged.
 */
export type ResolvedConfig = Omit<
  Config,
  | "dataDir"
  | "rulesDir"
  | "hooksDir"
  | "log"
  | "devices"
  | "hooks"
  | "outbox"
  | "quotas"
  | "http"
  | "mqtt"
  | "modbus"
  | "upstream"
  | "workOrders"
> & {
  dataDir: string;
  rulesDir: string;
  hooksDir: string;
  log: With<Section<"log">, "level" | "valuesIntervalMs">;
  devices: Section<"devices">;
  hooks: ResolvedHooksConfig;
  outbox: With<Section<"outbox">, "maxPending" | "retentionDays">;
  quotas: QuotaConfig[];
  http: ResolvedHttpConfig;
  mqtt?: ResolvedMqttConfig;
  modbus?: { buses: Section<"modbus">["buses"]; devices: ResolvedModbusDeviceConfig[] };
  upstream?: ResolvedUpstreamConfig;
  workOrders?: ResolvedWorkOrdersConfig;
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
    rulesDir: resolvePath(c.rulesDir ?? DEFAULTS.rulesDir, cwd),
    hooksDir: resolvePath(c.hooksDir ?? DEFAULTS.hooksDir, cwd),
    log: {
      ...c.log,
      level: c.log?.level ?? DEFAULTS.logLevel,
      valuesIntervalMs: c.log?.valuesIntervalMs ?? DEFAULTS.logValuesIntervalMs,
    },
    devices: c.devices ?? {},
    hooks: {
      ...c.hooks,
      timeoutMs: c.hooks?.timeoutMs ?? DEFAULTS.hooksTimeoutMs,
      disabled: c.hooks?.disabled ?? [],
      watchdogS: c.hooks?.watchdogS ?? DEFAULTS.hooksWatchdogS,
    },
    outbox: {
      maxPending: c.outbox?.maxPending ?? DEFAULTS.outboxMaxPending,
      retentionDays: c.outbox?.retentionDays ?? DEFAULTS.outboxRetentionDays,
    },
    quotas: c.quotas ?? [],
    http: {
      ...c.http,
      host: c.http?.host ?? DEFAULTS.httpHost,
      port: c.http?.port ?? DEFAULTS.httpPort,
      enabled: c.http?.enabled ?? true,
    },
  };
  if (c.mqtt) {
    const tls = c.mqtt.tls;
    out.mqtt = {
      ...c.mqtt,
      ...embeddedBrokerAddress(c.mqtt),
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
      subscriptions: c.mqtt.subscriptions ?? [],
      maxDevices: c.mqtt.maxDevices ?? DEFAULTS.mqttMaxDevices,
      maxValuesPerDevice: c.mqtt.maxValuesPerDevice ?? DEFAULTS.mqttMaxValuesPerDevice,
    };
  }
  if (c.modbus) {
    out.modbus = {
      buses: c.modbus.buses ?? [],
      devices: (c.modbus.devices ?? []).map((d) => ({
        ...d,
        offlineAfter: d.offlineAfter ?? DEFAULTS.modbusOfflineAfter,
        maxGap: d.maxGap ?? DEFAULTS.modbusMaxGap,
      })),
    };
  }
  if (c.upstream) {
    out.upstream = {
      ...c.upstream,
      heartbeatIntervalMs: c.upstream.heartbeatIntervalMs ?? DEFAULTS.upstreamHeartbeatIntervalMs,
      timeoutMs: c.upstream.timeoutMs ?? DEFAULTS.upstreamTimeoutMs,
      concurrency: c.upstream.concurrency ?? DEFAULTS.upstreamConcurrency,
    };
  }
  if (c.workOrders) {
    out.workOrders = {
      ...c.workOrders,
      enabled: c.workOrders.enabled ?? true,
      tenantId: c.workOrders.tenantId ?? DEFAULTS.workOrdersTenantId,
      timeoutMs: c.workOrders.timeoutMs ?? DEFAULTS.workOrdersTimeoutMs,
    };
  }
  return out;
}

export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
