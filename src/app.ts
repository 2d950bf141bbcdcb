// Composition root: builds every subsystem from the validated config and the injected
// collaborators, wires them along the one-way flow, and owns start/stop order.
// Start: store → rules → alarms → hooks → quotas → delivery → sources → local API.
// Stop is the reverse, so in-flight readings finish, pending alarms commit, hooks stop, and the
// database closes last.

import { join, resolve } from "node:path";
import { Agent as HttpDispatcher } from "undici";
import { AlarmService } from "./alarms/service.js";
import { DATABASE_FILE } from "./config/load.js";
import { configSecrets, redactConfig } from "./config/redact-config.js";
import type { Config } from "./config/schema.js";
import type { Clock } from "./core/clock.js";
import { EventBus } from "./core/events.js";
import type { Logger } from "./core/log.js";
import { MetricsRegistry } from "./core/metrics.js";
import type { Alarm, DeviceInfo } from "./core/types.js";
import type { HookActivity } from "./hooks/activity.js";
import { HookManager } from "./hooks/manager.js";
import { HttpApi } from "./http/server.js";
import { DeviceRegistry } from "./pipeline/device-registry.js";
import { Pipeline } from "./pipeline/ingest.js";
import { QuotaTracker } from "./quotas/tracker.js";
import { RuleFiles } from "./rules/admin.js";
import { RulesLoader } from "./rules/loader.js";
import { RuleSet } from "./rules/rule-set.js";
import { SimulatedMeter } from "./sources/modbus/sim.js";
import { ModbusSource } from "./sources/modbus/source.js";
import { type BrokerLogin, EmbeddedBroker, embeddedBrokerLogins } from "./sources/mqtt/embedded-broker.js";
import { MqttSource } from "./sources/mqtt/source.js";
import { type Db, openDatabase } from "./store/db.js";
import { DEFAULT_CONCURRENCY, Dispatcher } from "./upstream/dispatcher.js";
import { Heartbeat } from "./upstream/heartbeat.js";
import { OutboxRepo } from "./upstream/outbox-repo.js";
import { OutboxWriter } from "./upstream/outbox-writer.js";

export interface AgentDeps {
  clock: Clock;
  log: Logger;
  version: string;
  /** Secret values from the config loader (values under secret keys, substituted secret variables),
   *  masked wherever they could be shown; the config's own secret-key values are always added. */
  secrets?: readonly string[];
  /** Shared record of the hook code running now (read by the event-loop watchdog of `run`). */
  hookActivity?: HookActivity;
}

export function databasePath(config: Config): string {
  return join(resolve(config.dataDir ?? "./data"), DATABASE_FILE);
}

export interface Agent {
  readonly config: Config;
  readonly events: EventBus;
  readonly metrics: MetricsRegistry;
  readonly devices: DeviceRegistry;
  readonly pipeline: Pipeline;
  readonly rules: RuleSet;
  readonly alarms: AlarmService | null;
  readonly hooks: HookManager | null;
  readonly outbox: OutboxRepo | null;
  readonly http: HttpApi | null;
  readonly db: Db | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createAgent(config: Config, deps: AgentDeps): Agent {
  const { clock, log, version } = deps;
  // One list for every output path: API answers, SSE, dispatcher error reasons, hooks' config.
  const secrets = [...new Set([...(deps.secrets ?? []), ...configSecrets(config)])];
  // Hooks get no secrets: what a hook legitimately needs (HTTP to the platform, Modbus writes)
  // goes through ctx.http / ctx.modbus, never through a token read from the config.
  const hookConfig = redactConfig(config, secrets);
  const events = new EventBus(log.child({ module: "events" }));
  const metrics = new MetricsRegistry();
  const startedAt = clock.now();
  let db: Db | null = null;
  const requireDb = (): Db => {
    if (db === null) db = openDatabase(databasePath(config));
    return db;
  };
  // One keep-alive connection per request the dispatcher may have in flight to a host.
  const httpClient = new HttpDispatcher({
    keepAliveTimeout: 10_000,
    connections: config.upstream?.concurrency ?? DEFAULT_CONCURRENCY,
  });

  const devices = new DeviceRegistry({ meta: config.devices ?? {}, events });
  for (const d of config.modbus?.devices ?? []) devices.declare({ id: d.id, product: d.product }, "modbus");
  for (const [id, meta] of Object.entries(config.devices ?? {})) {
    if (meta.product) devices.declare({ id, product: meta.product } as DeviceInfo, "mqtt");
  }

  const ruleSet = new RuleSet();
  const ruleEvaluations = metrics.counter("edge_rule_evaluations_total", "Rule evaluations (rules × readings)").bind();
  metrics.onCollect(() => ruleEvaluations.set(ruleSet.evaluations));
  const rulesDir = resolve(config.rulesDir ?? "./rules");
  const hooksDir = resolve(config.hooksDir ?? "./hooks");
  const pipeline = new Pipeline({
    devices,
    rules: ruleSet,
    events,
    log: log.child({ module: "pipeline" }),
    metrics,
    bounds: config.mqtt,
    clock,
  });

  // Built lazily in start(): they need the database.
  let alarms: AlarmService | null = null;
  let hooks: HookManager | null = null;
  let quotas: QuotaTracker | null = null;
  let dispatcher: Dispatcher | null = null;
  let heartbeat: Heartbeat | null = null;
  let outbox: OutboxRepo | null = null;
  let rulesLoader: RulesLoader | null = null;
  let ruleFiles: RuleFiles | null = null;
  let broker: EmbeddedBroker | null = null;
  let mqtt: MqttSource | null = null;
  let modbus: ModbusSource | null = null;
  let sim: SimulatedMeter | null = null;
  let http: HttpApi | null = null;
  let started = false;

  const stoppers: (() => Promise<void> | void)[] = [];
  logAlarmEvents(events, log.child({ module: "alarms" }));
  if ((config.log?.valuesIntervalMs ?? 0) > 0) {
    logDeviceValues(events, clock, log.child({ module: "readings" }), config.log?.valuesIntervalMs ?? 0);
  }

  async function start(): Promise<void> {
    if (started) return;
    started = true;
    const theDb = requireDb();

    outbox = new OutboxRepo({ db: theDb });
    const writer = new OutboxWriter({
      db: theDb,
      clock,
      workOrders: config.workOrders,
      log: log.child({ module: "outbox" }),
    });

    rulesLoader = new RulesLoader({
      dir: rulesDir,
      ruleSet,
      log: log.child({ module: "rules" }),
      clock,
      events,
      ...(config.rulesMaxFileBytes !== undefined ? { maxFileBytes: config.rulesMaxFileBytes } : {}),
    });
    ruleFiles = new RuleFiles({ dir: rulesDir, ruleSet, log: log.child({ module: "rules" }) });

    // Hooks and alarms know each other: hooks intercept alarms and query them. The manager is
    // given the alarm queries through a late-bound view.
    const alarmView = {
      get: (id: string) => alarms?.get(id),
      list: (q: Parameters<AlarmService["list"]>[0]) => alarms?.list(q) ?? { total: 0, alarms: [] },
      active: () => alarms?.active() ?? [],
    };
    hooks = new HookManager({
      dir: hooksDir,
      config: hookConfig,
      hooksConfig: config.hooks,
      db: theDb,
      clock,
      log: log.child({ module: "hooks" }),
      events,
      metrics,
      devices,
      alarms: alarmView,
      http: httpClient,
      modbus: {
        write: (deviceId, point, value) => {
          if (!modbus) return Promise.reject(new Error("no Modbus buses are configured"));
          return modbus.writer.write(deviceId, point, value);
        },
      },
      activity: deps.hookActivity,
      dataDir: resolve(config.dataDir ?? "./data"),
    });
    alarms = new AlarmService({
      db: theDb,
      clock,
      log: log.child({ module: "alarms" }),
      events,
      metrics,
      changeSink: writer,
      interceptor: hooks.alarmInterceptor,
      devices,
      onActiveChanged: (deviceId, has) => devices.setHasAlarm(deviceId, has),
      // Firings (actions.alarm false) write work orders and webhooks without an alarm event.
      onOutboxWritten: () => dispatcher?.kick(),
    });
    quotas = new QuotaTracker({
      quotas: config.quotas ?? [],
      db: theDb,
      clock,
      log: log.child({ module: "quotas" }),
      events,
      alarms,
      devices,
    });
    pipeline.connect({ alarms, observers: (config.quotas?.length ?? 0) > 0 ? [quotas] : [] });

    await rulesLoader.start();
    stoppers.push(() => rulesLoader?.stop());
    events.on("rulesChanged", () => alarms?.rulesChanged(ruleSet.rules()));
    await alarms.start();
    stoppers.push(() => alarms?.stop());
    // Rules deleted while the agent was down: their open alarms resolve now, not at the next reload.
    alarms.rulesChanged(ruleSet.rules());
    await hooks.start();
    stoppers.push(() => hooks?.stop());
    await quotas.start();
    stoppers.push(() => quotas?.stop());

    dispatcher = new Dispatcher({
      db: theDb,
      clock,
      log: log.child({ module: "upstream" }),
      metrics,
      events,
      http: httpClient,
      upstream: config.upstream,
      workOrders: config.workOrders,
      outbox: config.outbox,
      interceptor: hooks.uploadInterceptor,
      secrets,
    });
    // A committed batch emits one event per alarm change: wake the dispatcher once per batch.
    let kickQueued = false;
    const kick = () => {
      if (kickQueued) return;
      kickQueued = true;
      setImmediate(() => {
        kickQueued = false;
        dispatcher?.kick();
      });
    };
    events.on("alarmCreated", kick);
    events.on("alarmUpdated", kick);
    events.on("alarmResolved", kick);
    await dispatcher.start();
    stoppers.push(() => dispatcher?.stop());
    if (config.upstream) {
      heartbeat = new Heartbeat({
        clock,
        log: log.child({ module: "heartbeat" }),
        metrics,
        http: httpClient,
        upstream: config.upstream,
        gatewayId: config.gatewayId,
        version,
        devices,
        alarms,
        outbox,
        kpis: hooks,
        startedAt,
      });
      await heartbeat.start();
      stoppers.push(() => heartbeat?.stop());
    }

    if (config.simulator?.modbusPort) {
      sim = new SimulatedMeter({ port: config.simulator.modbusPort, clock });
      await sim.start();
      stoppers.push(() => sim?.stop());
    }
    if (config.mqtt) {
      let agentLogin: BrokerLogin | null = null;
      if (config.mqtt.url === "embedded") {
        const { logins, agent } = embeddedBrokerLogins(config.mqtt);
        agentLogin = agent;
        broker = new EmbeddedBroker({
          port: config.mqtt.port ?? 1883,
          host: config.mqtt.host ?? "127.0.0.1",
          log: log.child({ module: "broker" }),
          logins,
          clock,
        });
        await broker.start();
        stoppers.push(() => broker?.stop());
      }
      // The agent's own client logs in to its broker like any device (a generated login when only
      // device users are configured), at the address the broker really listens on.
      const mqttConfig =
        config.mqtt.url === "embedded" && broker
          ? { ...config.mqtt, url: broker.url, ...(agentLogin ?? {}) }
          : config.mqtt;
      mqtt = new MqttSource({
        config: mqttConfig,
        gatewayId: config.gatewayId,
        sink: pipeline,
        devices,
        events,
        clock,
        log: log.child({ module: "mqtt" }),
        metrics,
      });
      await mqtt.start();
      stoppers.push(() => mqtt?.stop());
    }
    if (config.modbus && config.modbus.devices.length > 0) {
      modbus = new ModbusSource({
        config: config.modbus,
        devices: config.devices,
        sink: pipeline,
        events,
        clock,
        log: log.child({ module: "modbus" }),
        metrics,
      });
      await modbus.start();
      stoppers.push(() => modbus?.stop());
    }

    if (config.http?.enabled !== false) {
      http = new HttpApi({
        config: config.http ?? {},
        gatewayId: config.gatewayId,
        version,
        clock,
        log: log.child({ module: "http" }),
        metrics,
        events,
        devices,
        alarms,
        tracker: alarms,
        rules: Object.assign(ruleFiles, { problems: () => ruleSet.problems() }),
        hooks,
        outbox,
        kpis: hooks,
        health: () => health(),
        publicConfig: () => hookConfig,
        secrets,
      });
      await http.start();
      stoppers.push(() => http?.stop());
    }
    log.info(
      {
        gatewayId: config.gatewayId,
        devices: devices.list().length,
        rules: ruleSet.rules().length,
        hooks: hooks.list().filter((h) => h.state === "running").length,
        http: http ? `http://${config.http?.host ?? "127.0.0.1"}:${http.port}/` : "disabled",
      },
      "edge-agent started",
    );
  }

  function health(): { ok: boolean; parts: Record<string, { ok: boolean; detail?: string }> } {
    const parts: Record<string, { ok: boolean; detail?: string }> = {};
    parts.database = { ok: db?.open === true };
    if (mqtt) parts.mqtt = mqtt.connected ? { ok: true } : { ok: false, detail: "broker not connected" };
    if (outbox) {
      const s = outbox.summary(clock.now());
      parts.outbox = s.paused
        ? { ok: false, detail: "delivery paused: upstream refused the credentials" }
        : { ok: true };
    }
    const ok = Object.values(parts).every((p) => p.ok);
    return { ok, parts };
  }

  async function stop(): Promise<void> {
    if (!started) return;
    started = false;
    // Sources first (no new readings), then the rest in reverse start order.
    for (const s of stoppers.reverse()) {
      try {
        await s();
      } catch (err) {
        log.error({ err }, "error while stopping");
      }
    }
    stoppers.length = 0;
    await alarms?.flush().catch(() => undefined);
    await httpClient.close().catch(() => undefined);
    db?.close();
    db = null;
    log.info("edge-agent stopped");
  }

  return {
    config,
    events,
    metrics,
    devices,
    pipeline,
    rules: ruleSet,
    get alarms() {
      return alarms;
    },
    get hooks() {
      return hooks;
    },
    get outbox() {
      return outbox;
    },
    get http() {
      return http;
    },
    get db() {
      return db;
    },
    start,
    stop,
  };
}

/** The config with every secret removed, for /status and the status page (see config/redact-config). */
export function publicConfig(config: Config, secrets: readonly string[] = []): Config {
  return redactConfig(config, secrets);
}

/** The operator's view of alarm changes in the log: one line per committed change. */
function logAlarmEvents(events: EventBus, log: Logger): void {
  const fields = (a: Alarm) => ({
    alarmId: a.id,
    ruleId: a.ruleId,
    deviceId: a.resource.id,
    status: a.status,
    level: a.level,
    message: a.message,
  });
  events.on("alarmCreated", (a) => log.info(fields(a), a.status === 2 ? "alarm raised" : "pre-warning raised"));
  events.on("alarmUpdated", (a) => log.info(fields(a), a.status === 2 ? "alarm escalated" : "alarm de-escalated"));
  events.on("alarmResolved", (a) => log.info(fields(a), "alarm resolved"));
}

/** Latest values per device at most every `everyMs` (the demo shows live readings this way). */
function logDeviceValues(events: EventBus, clock: Clock, log: Logger, everyMs: number): void {
  const last = new Map<string, number>();
  events.on("reading", (reading, device) => {
    const now = clock.monotonic();
    const prev = last.get(device.id);
    if (prev !== undefined && now - prev < everyMs) return;
    last.set(device.id, now);
    log.info({ deviceId: device.id, status: device.status, values: reading.values }, "readings");
  });
}
