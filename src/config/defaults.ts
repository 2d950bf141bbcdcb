// Defaults of every optional setting that has one (docs/configuration.md), applied once after validation so
// the rest of the agent reads one complete, frozen config. Relative directories resolve against
// the working directory of the process (documented in the README, Configuration).

import { isAbsolute, resolve } from "node:path";
import type { Config } from "./schema.js";

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
  workOrdersTimeoutMs: 10_000,
  /** The work-order platform's default tenant (its own client sends "1" unless told otherwise). */
  workOrdersTenantId: "1",
} as const;

/** File name of the agent's SQLite database inside dataDir. */
export const DATABASE_FILE = "edge-agent.db";

export function resolvePath(p: string, cwd: string): string {
  return isAbsolute(p) ? p : resolve(cwd, p);
}

/** A copy of a validated config with defaults filled in and directories made absolute. */
export function resolveDefaults(c: Config, cwd: string): Config {
  const out: Config = {
    ...c,
    dataDir: resolvePath(c.dataDir ?? DEFAULTS.dataDir, cwd),
    rulesDir: resolvePath(c.rulesDir ?? DEFAULTS.rulesDir, cwd),
    hooksDir: resolvePath(c.hooksDir ?? DEFAULTS.hooksDir, cwd),
    log: { ...c.log, level: c.log?.level ?? DEFAULTS.logLevel },
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
    const embedded = c.mqtt.url === "embedded";
    const tls = c.mqtt.tls;
    out.mqtt = {
      ...c.mqtt,
      ...(embedded
        ? { port: c.mqtt.port ?? DEFAULTS.embeddedMqttPort, host: c.mqtt.host ?? DEFAULTS.embeddedMqttHost }
        : {}),
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
