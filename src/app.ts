// Composition root: builds every part from the resolved config and the injected collaborators, in
// dependency order, and starts them in order (stopping them in reverse, each within a deadline).
// Built when the agent starts (the parts need the database); the device registry, rule set, events
// and metrics exist from createAgent on. A reading flows sources → pipeline → rules → alarms →
// outbox (same transaction) → dispatcher → platform; hooks and the local API observe.
// Longer than a module should be: it is the one place that names every part and the order they
// start in, read top to bottom; what can live beside it does (src/app/).

import { join } from "node:path";
import { Agent as HttpClient } from "undici";
import { OpenAlarms } from "./alarms/open-alarms.js";
import { AlarmService } from "./alarms/service.js";
import { agentHealth } from "./app/health.js";
import { mqttParts } from "./app/mqtt.js";
import { notifyParts, recipientParts } from "./app/notify.js";
import { logAlarmEvents, logDeviceValues } from "./app/operator-log.js";
import { taskParts } from "./app/tasks.js";
import { DATABASE_FILE, DEFAULTS, type ResolvedConfig } from "./config/defaults.js";
import { configSecrets, redactConfig } from "./config/redact-config.js";
import type { Clock } from "./core/clock.js";
import { EventBus } from "./core/events.js";
import { LifecycleRunner, lifecycle, type Part, STOP_DEADLINE_MS } from "./core/lifecycle.js";
import type { Logger } from "./core/log.js";
import { MetricsRegistry } from "./core/metrics.js";
import type { DeviceInfo } from "./core/types.js";
import type { HookActivity } from "./hooks/activity.js";
import { KpiCache } from "./hooks/kpi-cache.js";
import { HookManager } from "./hooks/manager.js";
import { HttpApi } from "./http/server.js";
import type { RecipientDirectory } from "./notify/recipients.js";
import { TemplateDir } from "./notify/template-dir.js";
import { DeviceRegistry } from "./pipeline/device-registry.js";
import { Pipeline } from "./pipeline/ingest.js";
import { Maintenance } from "./pipeline/maintenance.js";
import { QuotaTracker } from "./quotas/tracker.js";
import { RuleFiles } from "./rules/admin.js";
import { RulesLoader } from "./rules/loader.js";
import { RuleSet } from "./rules/rule-set.js";
import { SimulatedMeter } from "./sources/modbus/sim.js";
import { ModbusSource } from "./sources/modbus/source.js";
import { ModbusWrites } from "./sources/modbus/writes.js";
import { DayStatistics } from "./stats/day-stats.js";
import { AlarmsRepo } from "./store/alarms-repo.js";
import { type Db, openDatabase } from "./store/db.js";
import { MaintenanceRepo } from "./store/maintenance-repo.js";
import { OutboxRepo } from "./store/outbox-repo.js";
import { OutboxWriter } from "./store/outbox-writer.js";
import type { TaskRuntime, TaskSet } from "./tasks/types.js";
import { Dispatcher } from "./upstream/dispatcher.js";
import { Heartbeat } from "./upstream/heartbeat.js";
import { DeliveryWake } from "./upstream/wake.js";

export interface AgentDeps {
  clock: Clock;
  log: Logger;
  version: string;
  /** Secret values from the config loader (values under secret keys, substituted secret variables),
   *  masked wherever they could be shown; the config's own secret-key values are always added. */
  secrets?: readonly string[];
  /** Shared record of the hook code running now (read by the event-loop watchdog of `run`). */
  hookActivity?: HookActivity;
  /** The environment `${VAR}` references of the recipients file read (default: none set). */
  env?: NodeJS.ProcessEnv;
}

export function databasePath(config: Pick<ResolvedConfig, "dataDir">): string {
  return join(config.dataDir, DATABASE_FILE);
}

export interface Agent {
  readonly config: ResolvedConfig;
  readonly events: EventBus;
  readonly metrics: MetricsRegistry;
  readonly devices: DeviceRegistry;
  /** Built by start(); reading it before throws. */
  readonly pipeline: Pipeline;
  readonly rules: RuleSet;
  readonly alarms: AlarmService | null;
  readonly hooks: HookManager | null;
  readonly outbox: OutboxRepo | null;
  readonly http: HttpApi | null;
  /** The scheduled tasks' runtime and the tasks in force; null before start(). */
  readonly tasks: { runtime: TaskRuntime; set: TaskSet } | null;
  /** The recipient groups in force; null before start(). */
  readonly recipients: RecipientDirectory | null;
  /** Open between start() and stop(). */
  readonly db: Db | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What exists before start(): the parts every other one reads or reports to. */
interface Core {
  config: ResolvedConfig;
  deps: AgentDeps;
  /** Every secret the agent knows, masked on every output path. */
  secrets: readonly string[];
  /** The config without secrets: hooks' ctx.config and /status. */
  publicConfig: ResolvedConfig;
  events: EventBus;
  metrics: MetricsRegistry;
  openAlarms: OpenAlarms;
  devices: DeviceRegistry;
  ruleSet: RuleSet;
  /** For the uptime the heartbeat reports. */
  startedAt: number;
}

type Built = ReturnType<typeof build>;

export function createAgent(config: ResolvedConfig, deps: AgentDeps): Agent {
  const { clock, log } = deps;
  const secrets = [...new Set([...(deps.secrets ?? []), ...configSecrets(config)])];
  const events = new EventBus(log.child({ module: "events" }));
  const metrics = new MetricsRegistry();
  // Which devices have an open alarm: kept by the alarm service, read by the registry for `alarm`.
  const openAlarms = new OpenAlarms(log.child({ module: "alarms" }));
  const devices = new DeviceRegistry({
    meta: config.devices,
    events,
    alarms: openAlarms,
    log: log.child({ module: "devices" }),
  });
  for (const d of config.modbus?.devices ?? []) devices.declare({ id: d.id, product: d.product }, "modbus");
  for (const [id, meta] of Object.entries(config.devices)) {
    if (meta.product) devices.declare({ id, product: meta.product } as DeviceInfo, "mqtt");
  }
  const ruleSet = new RuleSet();
  const ruleEvaluations = metrics.counter("edge_rule_evaluations_total", "Rule evaluations (rules × readings)").bind();
  metrics.onCollect(() => ruleEvaluations.set(ruleSet.evaluations));
  logAlarmEvents(events, log.child({ module: "alarms" }));
  logDeviceValues(events, clock, log.child({ module: "readings" }), config.log.valuesIntervalMs);
  // Hooks get no secrets: what a hook legitimately needs (HTTP to the platform, Modbus writes)
  // goes through ctx.http / ctx.modbus, never through a token read from the config.
  const core: Core = {
    config,
    deps,
    secrets,
    publicConfig: redactConfig(config, secrets),
    events,
    metrics,
    openAlarms,
    devices,
    ruleSet,
    startedAt: clock.now(),
  };

  let built: Built | null = null;
  let db: Db | null = null;
  let runner: LifecycleRunner | null = null;

  async function start(): Promise<void> {
    if (runner) return;
    runner = new LifecycleRunner({ clock, log });
    db = openDatabase(databasePath(config));
    try {
      built = build(core, db);
    } catch (err) {
      db.close();
      db = null;
      runner = null;
      throw err;
    }
    await runner.start(built.parts);
    log.info(
      {
        gatewayId: config.gatewayId,
        devices: devices.list().length,
        rules: ruleSet.rules().length,
        hooks: built.hooks.list().filter((h) => h.state === "running").length,
        http: built.http ? `http://${config.http.host}:${built.http.port}/` : "disabled",
      },
      "edge-agent started",
    );
  }

  async function stop(): Promise<void> {
    if (!runner) return;
    const r = runner;
    runner = null;
    await r.stop();
    db = null;
    log.info("edge-agent stopped");
  }

  return {
    config,
    events,
    metrics,
    devices,
    rules: ruleSet,
    get pipeline() {
      if (!built) throw new Error("the agent's pipeline is built by start(): start the agent first");
      return built.pipeline;
    },
    get alarms() {
      return built?.alarms ?? null;
    },
    get hooks() {
      return built?.hooks ?? null;
    },
    get outbox() {
      return built?.outbox ?? null;
    },
    get http() {
      return built?.http ?? null;
    },
    get tasks() {
      return built ? { runtime: built.tasks.scheduler, set: built.tasks.set } : null;
    },
    get recipients() {
      return built?.recipients ?? null;
    },
    get db() {
      return db;
    },
    start,
    stop,
  };
}

/** Every part, each built after what it needs, and the order they start in. */
function build(core: Core, db: Db) {
  const { config, events, metrics, devices, ruleSet, secrets } = core;
  const { clock, log, version } = core.deps;
  const logFor = (module: string) => log.child({ module });
  // One keep-alive connection per request the dispatcher may have in flight to a host.
  const httpClient = new HttpClient({
    keepAliveTimeout: 10_000,
    connections: config.upstream?.concurrency ?? DEFAULTS.upstreamConcurrency,
  });

  const outbox = new OutboxRepo({ db });
  const outboxWriter = new OutboxWriter({ db, clock, workOrders: config.workOrders, log: logFor("outbox") });
  // Alarm queries read the committed alarms from the table, not through the alarm service.
  const alarmRecords = new AlarmsRepo(db);
  const rulesLoader = new RulesLoader({
    dir: config.rulesDir,
    ruleSet,
    log: logFor("rules"),
    clock,
    events,
    ...(config.rulesMaxFileBytes !== undefined ? { maxFileBytes: config.rulesMaxFileBytes } : {}),
  });
  const ruleFiles = new RuleFiles({ dir: config.rulesDir, ruleSet, log: logFor("rules") });
  // Recipient groups rules name (watched file; the local API edits it).
  const recipientsPart = recipientParts({ config, env: core.deps.env ?? {}, clock, log: logFor("recipients") });
  const recipients = recipientsPart.recipients;

  // A hook may write to a Modbus device whose readings raise the alarms hooks intercept: hooks hold
  // this writer, built here, and the Modbus source (built below, after the pipeline it feeds)
  // attaches to it while it polls.
  const hasModbus = config.modbus !== undefined && config.modbus.devices.length > 0;
  const modbusWrites = new ModbusWrites({ configured: hasModbus });
  // Maintenance switched at run time (API, CLI, page, hooks), kept across restarts in the database.
  const maintenance = new Maintenance({ devices, store: new MaintenanceRepo(db), clock, log: logFor("maintenance") });
  const hooks = new HookManager({
    dir: config.hooksDir,
    config: core.publicConfig,
    hooksConfig: config.hooks,
    db,
    clock,
    log: logFor("hooks"),
    events,
    metrics,
    devices,
    alarms: alarmRecords,
    maintenance,
    http: httpClient,
    modbus: modbusWrites,
    activity: core.deps.hookActivity,
    dataDir: config.dataDir,
  });
  // A beforeDeviceStatus hook sees every status change, maintenance requests included.
  devices.interceptStatus(hooks.statusInterceptor);
  // Who is told of an alarm and when (planned in the alarm's transaction), and the channels that tell them.
  const templates = config.notify.templatesDir
    ? new TemplateDir({ dir: config.notify.templatesDir, clock, log: logFor("notify") })
    : undefined;
  const notify = notifyParts({
    config,
    db,
    clock,
    log: logFor("notify"),
    metrics,
    http: httpClient,
    recipients,
    devices,
    templates,
    hooks: { interceptor: hooks.notifyHooks, channels: hooks.notifyHooks },
  });
  outboxWriter.setPlanner(notify.planner);
  const dispatcher = new Dispatcher({
    db,
    clock,
    log: logFor("upstream"),
    metrics,
    events,
    http: httpClient,
    upstream: config.upstream,
    workOrders: config.workOrders,
    outbox: config.outbox,
    interceptor: hooks.uploadInterceptor,
    notify: notify.delivery,
    secrets,
  });
  const wake = new DeliveryWake({ events, kick: () => dispatcher.kick() });
  const alarms = new AlarmService({
    db,
    clock,
    log: logFor("alarms"),
    events,
    metrics,
    changeSink: outboxWriter,
    interceptor: hooks.alarmInterceptor,
    devices,
    openAlarms: core.openAlarms,
    // Firings (actions.alarm false) write work orders and webhooks without an alarm event.
    onOutboxWritten: () => dispatcher.kick(),
  });
  const quotas = new QuotaTracker({
    quotas: config.quotas,
    db,
    clock,
    log: logFor("quotas"),
    events,
    alarms,
    devices,
  });
  // Per device and metric min/max/avg/count of the local day, and the quotas' usage that day.
  const dayStats = new DayStatistics({
    db,
    clock,
    log: logFor("stats"),
    events,
    timezone: config.timezone,
    retentionDays: config.stats.retentionDays,
    quotas: config.quotas.length > 0 ? quotas : null,
  });
  // The heartbeat and /status ask for today, month and year each time: hooks compute each at its pace.
  const kpis = new KpiCache({ source: hooks, clock, timezone: config.timezone });
  const pipeline = new Pipeline({
    devices,
    rules: ruleSet,
    events,
    log: logFor("pipeline"),
    metrics,
    bounds: config.mqtt,
    clock,
    alarms,
    observers: config.quotas.length > 0 ? [quotas, dayStats] : [dayStats],
  });
  const heartbeat = config.upstream
    ? new Heartbeat({
        clock,
        log: logFor("heartbeat"),
        metrics,
        http: httpClient,
        upstream: config.upstream,
        gatewayId: config.gatewayId,
        version,
        devices,
        alarms: alarmRecords,
        outbox,
        kpis,
        interceptor: hooks.uploadInterceptor,
        startedAt: core.startedAt,
      })
    : null;

  const sim = config.simulator?.modbusPort ? new SimulatedMeter({ port: config.simulator.modbusPort, clock }) : null;
  const mqtt = config.mqtt
    ? mqttParts({
        mqtt: config.mqtt,
        gatewayId: config.gatewayId,
        sink: pipeline,
        devices,
        events,
        clock,
        log,
        metrics,
      })
    : null;
  const modbus =
    config.modbus && hasModbus
      ? new ModbusSource({
          config: config.modbus,
          devices: config.devices,
          sink: pipeline,
          events,
          clock,
          log: logFor("modbus"),
          metrics,
          writes: modbusWrites,
        })
      : null;

  // Task files in force and the scheduler that runs them.
  const tasks = taskParts({
    config,
    db,
    clock,
    log,
    events,
    modbus: hasModbus ? modbusWrites : undefined,
    mqtt: mqtt?.publisher,
    http: httpClient,
    hooks,
    alarms: { operator: alarms, queries: alarmRecords },
  });

  const http = config.http.enabled
    ? new HttpApi({
        config: config.http,
        gatewayId: config.gatewayId,
        version,
        clock,
        log: logFor("http"),
        metrics,
        events,
        devices,
        alarms: alarmRecords,
        tracker: alarms,
        rules: Object.assign(ruleFiles, { problems: () => ruleSet.problems() }),
        hooks,
        maintenance,
        outbox,
        kpis,
        stats: dayStats,
        tasks: { tasks: tasks.files, runtime: tasks.scheduler },
        recipients: recipientsPart.files,
        notify: { ...notify.delivery, recipients, gateway: config.gatewayId },
        health: agentHealth({ db, clock, outbox, mqtt: mqtt?.client ?? null }),
        publicConfig: () => core.publicConfig,
        secrets,
        requestInterceptor: hooks.requestInterceptor,
      })
    : null;

  // Start order. Stop is the reverse: sources first (no new readings), then the local API's
  // neighbours, pending alarm changes committed, hooks stopped, and the database closed last.
  const parts: Part[] = [
    { name: "database", part: lifecycle({ stop: () => db.close() }) },
    { name: "HTTP client", part: lifecycle({ stop: () => httpClient.close() }) },
    // Whatever the parts stopped after it still queued (e.g. a quota's last alarm) is committed.
    { name: "alarm commits", part: lifecycle({ stop: () => alarms.flush().catch(() => undefined) }) },
    { name: "maintenance", part: maintenance },
    { name: "rules", part: rulesLoader },
    recipientsPart.part,
    { name: "alarms", part: alarmsPart(alarms, ruleSet, events) },
    { name: "hooks", part: hooks, stopDeadlineMs: config.hooks.timeoutMs + STOP_DEADLINE_MS },
    { name: "quotas", part: quotas },
    // After the quotas (their usage restored), before the sources (no reading before the day is restored).
    { name: "daily statistics", part: dayStats },
    { name: "delivery wake-up", part: wake },
    ...(templates ? [{ name: "message templates", part: lifecycle(templates) }] : []),
    // Stopped after the dispatcher: its last sends still use the connections.
    { name: "notification channels", part: lifecycle({ stop: () => notify.close() }) },
    { name: "upstream", part: lifecycle(dispatcher) },
    ...(heartbeat ? [{ name: "heartbeat", part: lifecycle(heartbeat) }] : []),
    ...(sim ? [{ name: "Modbus simulator", part: sim }] : []),
    ...(mqtt?.parts ?? []),
    ...(modbus ? [{ name: "Modbus", part: modbus }] : []),
    // After hooks and the sources: Modbus writes and the MQTT client are attached when a task runs.
    ...tasks.parts,
    ...(http ? [{ name: "local API", part: http }] : []),
  ];
  return { parts, pipeline, alarms, hooks, outbox, http, tasks, recipients };
}

/** The alarm service follows the rules in force; rules deleted while the agent was down resolve their alarms at start. */
function alarmsPart(alarms: AlarmService, ruleSet: RuleSet, events: EventBus): Part["part"] {
  let off: (() => void) | null = null;
  return {
    start: async () => {
      off = events.on("rulesChanged", () => alarms.rulesChanged(ruleSet.rules()));
      await alarms.start();
      alarms.rulesChanged(ruleSet.rules());
    },
    stop: async () => {
      off?.();
      await alarms.stop();
    },
  };
}
