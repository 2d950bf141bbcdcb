// Small in-memory implementations of the ports the local API reads (alarm store, rule admin, hook
// admin, outbox stats), backed by plain maps, plus a helper that starts a real HttpApi on a free
// loopback port. They stand in for the SQLite-backed classes so the API can be tested on its own.

import { resolveHttp } from "../../../src/config/defaults.js";
import { ManualClock } from "../../../src/core/clock.js";
import type { Problem } from "../../../src/core/errors.js";
import type { EventBus } from "../../../src/core/events.js";
import type { MetricsRegistry } from "../../../src/core/metrics.js";
import type {
  AdminResult,
  AlarmListQuery,
  AlarmOperator,
  AlarmQueries,
  AlarmRemoval,
  HookAdmin,
  HookInfo,
  ManualAlarmInput,
  OutboxStats,
  OutboxSummary,
  RuleAdmin,
  RuleEntry,
} from "../../../src/core/ports.js";
import type { Alarm, DeviceState, RuleDefinition } from "../../../src/core/types.js";
import { type HealthReport, HttpApi, type HttpApiOptions } from "../../../src/http/server.js";
import { DeviceRegistry } from "../../../src/pipeline/device-registry.js";
import { captureLog, type LogCapture, testBus, testMetrics } from "../../helpers/harness.js";

export const TOKEN = "s3cret-api-token-0123456789";
export const APP_SECRET = "wo-app-secret-ABCDEF987654";
export const MQTT_PASSWORD = "mqtt-pass-XYZ-13579";

export function makeAlarm(id: string, over: Partial<Alarm> = {}): Alarm {
  return {
    id,
    ruleId: "meter-overvoltage",
    name: "overvoltage",
    title: "Over-voltage on incomer",
    message: "voltage 262 > 250",
    type: "rule",
    level: 4,
    status: 2,
    resource: { id: "meter-01", name: "Main incomer", product: "meter", areaId: 12 },
    location: { building: "A" },
    details: { voltage: 262, threshold: 250 },
    period: 300,
    created: 1_000,
    updated: 1_000,
    resolvedAt: null,
    upstreamId: null,
    workOrderId: null,
    ...over,
  };
}

/** The alarm store as the SQLite repo exposes it, over a Map; resolve() emits like the real tracker. */
export class MemoryAlarms implements AlarmQueries, AlarmOperator {
  readonly byId = new Map<string, Alarm>();
  readonly resolves: { id: string; by: string; remark: string }[] = [];
  constructor(
    private readonly events: EventBus,
    private readonly devices: DeviceRegistry,
    private readonly clock: ManualClock,
  ) {}

  put(a: Alarm): void {
    this.byId.set(a.id, a);
  }
  get(id: string): Alarm | undefined {
    return this.byId.get(id);
  }
  active(): Alarm[] {
    return [...this.byId.values()].filter((a) => a.status > 0);
  }
  list(q: AlarmListQuery): { total: number; alarms: Alarm[] } {
    let rows = [...this.byId.values()];
    const st = q.status ?? "all";
    if (st === "active") rows = rows.filter((a) => a.status > 0);
    else if (st !== "all") rows = rows.filter((a) => a.status === st);
    if (q.did) rows = rows.filter((a) => a.resource.id === q.did);
    if (q.q) {
      const t = q.q.toLowerCase();
      rows = rows.filter((a) => [a.name, a.title, a.message, a.resource.id].some((s) => s.toLowerCase().includes(t)));
    }
    if (q.key) rows = rows.filter((a) => a.resource.product === q.key);
    const since = q.recurringSince;
    if (since !== undefined) rows = rows.filter((a) => (a.lastRecurrence ?? -1) >= since);
    const key = q.orderBy ?? "created";
    const dir = q.order === "desc" ? -1 : 1;
    const cmp = (x: unknown, y: unknown) =>
      typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    rows.sort((a, b) => cmp(a[key], b[key]) * dir || a.id.localeCompare(b.id) * dir);
    const offset = q.offset ?? 0;
    return { total: rows.length, alarms: rows.slice(offset, offset + (q.limit ?? 100)) };
  }
  async raise(input: ManualAlarmInput): Promise<Alarm> {
    const now = this.clock.now();
    const a = makeAlarm(`op-${this.byId.size + 1}`, {
      ruleId: "",
      name: input.name,
      title: input.title ?? input.name,
      message: input.message ?? input.name,
      type: "operator",
      level: input.level ?? 2,
      status: input.status ?? 2,
      resource: { id: input.deviceId ?? "", product: "" },
      details: input.details ?? {},
      created: now,
      updated: now,
      origin: "operator",
    });
    this.byId.set(a.id, a);
    return a;
  }
  async amend(id: string, changes: { level?: number; title?: string; message?: string }): Promise<Alarm | undefined> {
    const a = this.byId.get(id);
    if (!a) return undefined;
    const next = { ...a, ...changes, updated: this.clock.now() };
    this.byId.set(id, next);
    return next;
  }
  async remove(id: string): Promise<AlarmRemoval> {
    const a = this.byId.get(id);
    if (!a) return { ok: false, reason: "not-found" };
    if (a.status > 0) return { ok: false, reason: "active", alarm: a };
    this.byId.delete(id);
    return { ok: true, alarm: a };
  }
  async resolve(id: string, by: string, remark: string): Promise<Alarm | null> {
    const a = this.byId.get(id);
    if (!a || a.status === 0) return null;
    const now = this.clock.now();
    const resolved: Alarm = { ...a, status: 0, updated: now, resolvedAt: now };
    this.byId.set(id, resolved);
    this.resolves.push({ id, by, remark });
    const device = this.devices.get(a.resource.id);
    if (device) this.events.emit("alarmResolved", resolved, device);
    return resolved;
  }
}

/** Rule admin over a Map with the same refusal shape as the file-backed one (src/rules/admin.ts). */
export class MemoryRules implements RuleAdmin {
  readonly byId = new Map<string, RuleEntry>();
  problemList: Problem[] = [];

  problems(): readonly Problem[] {
    return this.problemList;
  }
  entries(): RuleEntry[] {
    return [...this.byId.values()];
  }
  get(id: string): RuleEntry | undefined {
    return this.byId.get(id);
  }
  #validate(raw: unknown): AdminResult<RuleEntry> {
    const file = "api";
    const problems: Problem[] = [];
    const r = raw as Record<string, unknown>;
    for (const k of ["id", "key", "conditions"]) {
      if (r[k] === undefined) problems.push({ file, path: `$.${k}`, message: "required key is missing" });
    }
    if (r.level !== undefined && (typeof r.level !== "number" || r.level < 0 || r.level > 5)) {
      problems.push({ file, path: "$.level", message: "must be an integer 0–5" });
    }
    if (problems.length) return { ok: false, problems };
    const def = { type: "rule", level: 2, ...r } as unknown as RuleDefinition;
    return { ok: true, value: { def, doc: { ...r }, file: `rules/${def.id}.json`, problems: [] } };
  }
  async add(raw: unknown): Promise<AdminResult<RuleEntry>> {
    const v = this.#validate(raw);
    if (!v.ok) return v;
    if (this.byId.has(v.value.def.id)) {
      return {
        ok: false,
        problems: [{ file: "api", path: "$.id", message: `a rule with id "${v.value.def.id}" exists` }],
      };
    }
    this.byId.set(v.value.def.id, v.value);
    return v;
  }
  async update(raw: unknown): Promise<AdminResult<RuleEntry>> {
    const v = this.#validate(raw);
    if (!v.ok) return v;
    if (!this.byId.has(v.value.def.id)) return { ok: false, problems: [], notFound: true };
    this.byId.set(v.value.def.id, v.value);
    return v;
  }
  async del(id: string): Promise<AdminResult<RuleEntry>> {
    const e = this.byId.get(id);
    if (!e) return { ok: false, problems: [], notFound: true };
    this.byId.delete(id);
    return { ok: true, value: e };
  }
}

export class MemoryHooks implements HookAdmin {
  readonly byName = new Map<string, HookInfo>();
  readonly available = new Set<string>(["audit", "kpi"]);
  list(): HookInfo[] {
    return [...this.byName.values()];
  }
  async load(name: string): Promise<AdminResult<HookInfo>> {
    if (!this.available.has(name)) return { ok: false, problems: [], notFound: true };
    const info: HookInfo = {
      name,
      file: `${name}.mjs`,
      state: "running",
      methods: ["onAlarmCreated"],
      errors: 0,
      timeouts: 0,
      dropped: 0,
    };
    this.byName.set(name, info);
    return { ok: true, value: info };
  }
  async unload(name: string): Promise<AdminResult<{ name: string }>> {
    if (!this.byName.delete(name)) return { ok: false, problems: [], notFound: true };
    return { ok: true, value: { name } };
  }
}

export class FixedOutbox implements OutboxStats {
  value: OutboxSummary = {
    pending: 7,
    delivered: 40,
    deadLetters: 1,
    oldestPendingAgeS: 93,
    dropped: 0,
    paused: false,
    lastErrors: { alarm: { at: 500, message: `upstream said 503 (token ${TOKEN})` } },
  };
  summary(): OutboxSummary {
    return this.value;
  }
}

export interface Harness {
  api: HttpApi;
  base: string;
  clock: ManualClock;
  events: EventBus;
  devices: DeviceRegistry;
  alarms: MemoryAlarms;
  rules: MemoryRules;
  hooks: MemoryHooks;
  outbox: FixedOutbox;
  metrics: MetricsRegistry;
  logs: LogCapture;
  healthy: { ok: boolean };
  /** fetch with the bearer token. */
  get(path: string, init?: RequestInit): Promise<Response>;
  post(path: string, body: unknown, init?: RequestInit): Promise<Response>;
}

export async function startHarness(over: Partial<HttpApiOptions> = {}): Promise<Harness> {
  const clock = new ManualClock(Date.UTC(2026, 10, 24, 12));
  const logs = captureLog({ level: "debug" });
  const log = logs.log;
  const events = testBus(log);
  const devices = new DeviceRegistry({ events });
  const dev: DeviceState = devices.declare({ id: "meter-01", product: "meter", name: "Main incomer" }, "modbus");
  devices.markSeen(dev, clock.now());
  dev.values.voltage = 231.5;
  const alarms = new MemoryAlarms(events, devices, clock);
  const rules = new MemoryRules();
  const hooks = new MemoryHooks();
  const outbox = new FixedOutbox();
  const metrics = testMetrics();
  const healthy = { ok: true };
  const api = new HttpApi({
    config: resolveHttp({ host: "127.0.0.1", port: 0, token: TOKEN }),
    gatewayId: "gw-test",
    version: "9.9.9",
    clock,
    log,
    metrics,
    events,
    devices,
    alarms,
    tracker: alarms,
    rules,
    hooks,
    outbox,
    health: (): HealthReport =>
      healthy.ok
        ? { ok: true, parts: { database: { ok: true } } }
        : { ok: false, parts: { database: { ok: true }, mqtt: { ok: false, detail: "broker not connected" } } },
    // Deliberately unredacted: the API must mask secrets even when a caller forgets.
    publicConfig: () => ({
      gatewayId: "gw-test",
      mqtt: { url: "mqtt://127.0.0.1", password: MQTT_PASSWORD },
      workOrders: { appId: "edge", appSecret: APP_SECRET },
      http: { token: TOKEN },
    }),
    secrets: [APP_SECRET, MQTT_PASSWORD],
    ...over,
  });
  await api.start();
  const base = `http://127.0.0.1:${api.port}`;
  const auth = { Authorization: `Bearer ${TOKEN}` };
  return {
    api,
    base,
    clock,
    events,
    devices,
    alarms,
    rules,
    hooks,
    outbox,
    metrics,
    logs,
    healthy,
    get: (path, init) => fetch(base + path, { ...init, headers: { ...auth, ...(init?.headers ?? {}) } }),
    post: (path, body, init) =>
      fetch(base + path, {
        method: "POST",
        ...init,
        headers: { ...auth, "Content-Type": "application/json", ...(init?.headers ?? {}) },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
  };
}
