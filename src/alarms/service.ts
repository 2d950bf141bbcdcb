// The alarm lifecycle (SPEC §5, §6, §7): turns rule levels into alarm episodes and commits every
// change together with its outbox rows in one SQLite transaction per batch.
// Invariants: observe() is synchronous and allocation-free unless a transition happens; nothing is
// emitted (events, onActiveChanged, metrics) before its transaction committed; a failed commit
// keeps the batch in memory, in order, and retries it with backoff — no change is ever dropped.

import type { Clock, TimerHandle } from "../core/clock.js";
import { AgentError, errorMessage } from "../core/errors.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type {
  AlarmChange,
  AlarmChangeSink,
  AlarmInterceptor,
  AlarmListQuery,
  AlarmQueries,
  AlarmTracker,
  CompiledRule,
  ConditionLevel,
  DeviceView,
} from "../core/ports.js";
import type { Alarm, AlarmStatus, DeviceState, Reading } from "../core/types.js";
import { AlarmsRepo } from "../store/alarms-repo.js";
import type { Db } from "../store/db.js";
import { buildAlarm, describe } from "./describe.js";
import { AlarmIdGenerator } from "./ids.js";
import { closeByOperator, type EpisodeState, newEpisodeState, step, Transition } from "./state.js";

export interface AlarmServiceOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  events: EventBus;
  metrics: MetricsRegistry;
  /** Writes the outbox rows of a batch of changes inside the alarm transaction. */
  changeSink?: AlarmChangeSink;
  /** `beforeAlarm` hooks; consulted only for new episodes and only while `active`. */
  interceptor?: AlarmInterceptor;
  devices: DeviceView;
  /** Called after commit when a device gains its first open alarm or loses its last one. */
  onActiveChanged?: (deviceId: string, hasActiveAlarm: boolean) => void;
  /** Longest wait before a queued change is committed; 0 = at the next turn of the event loop. Default 5. */
  batchMaxDelayMs?: number;
  /** Queued changes that trigger a commit without waiting for the delay. Default 500. */
  batchMaxSize?: number;
}

interface Episode extends EpisodeState {
  readonly ruleId: string;
  readonly deviceId: string;
  rule: CompiledRule | null;
  /** The open alarm as last queued (may be ahead of the database by one batch). */
  alarm: Alarm | null;
  /** A `beforeAlarm` call is in flight; transitions meanwhile are reconciled when it answers. */
  asking: boolean;
  /** The rule was removed: a late `beforeAlarm` answer must not create anything. */
  removed: boolean;
}

interface Pending {
  change: AlarmChange;
  done: ((alarm: Alarm) => void) | undefined;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 10_000;

export class AlarmService implements AlarmTracker, AlarmQueries {
  readonly #o: AlarmServiceOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #ids: AlarmIdGenerator;
  readonly #delayMs: number;
  readonly #maxBatch: number;
  /** rule id → device id → episode: two lookups and no key string per reading. */
  readonly #episodes = new Map<string, Map<string, Episode>>();
  readonly #byAlarmId = new Map<string, Episode>();
  /** Committed open alarms per device (drives onActiveChanged). */
  readonly #activeByDevice = new Map<string, number>();
  #repo: AlarmsRepo | null = null;
  #tx: ((batch: readonly Pending[]) => void) | null = null;
  #queue: Pending[] = [];
  #scheduled = false;
  #timer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #retryMs = 0;
  #running = false;
  #asks = 0;
  #askWaiters: (() => void)[] = [];
  #activeCount = 0;

  readonly #m: {
    created: { inc(by?: number): void };
    updated: { inc(by?: number): void };
    resolved: { inc(by?: number): void };
    suppressed: { inc(by?: number): void };
    failures: { inc(by?: number): void };
    batches: { inc(by?: number): void };
    active: { set(v: number): void };
    pending: { set(v: number): void };
  };

  constructor(opts: AlarmServiceOptions) {
    this.#o = opts;
    this.#log = opts.log;
    this.#clock = opts.clock;
    this.#ids = new AlarmIdGenerator(() => opts.clock.now());
    this.#delayMs = Math.max(0, opts.batchMaxDelayMs ?? 5);
    this.#maxBatch = Math.max(1, opts.batchMaxSize ?? 500);
    const transitions = opts.metrics.counter("edge_alarm_transitions_total", "Committed alarm changes, by kind");
    this.#m = {
      created: transitions.bind({ kind: "created" }),
      updated: transitions.bind({ kind: "updated" }),
      resolved: transitions.bind({ kind: "resolved" }),
      suppressed: opts.metrics
        .counter("edge_alarms_suppressed_total", "New alarms suppressed by a beforeAlarm hook")
        .bind(),
      failures: opts.metrics
        .counter("edge_alarm_commit_failures_total", "Alarm transactions that failed (retried, never dropped)")
        .bind(),
      batches: opts.metrics.counter("edge_alarm_commits_total", "Alarm transactions committed").bind(),
      active: opts.metrics.gauge("edge_alarms_active", "Open alarms (status 1 or 2), committed").bind(),
      pending: opts.metrics.gauge("edge_alarm_pending_changes", "Alarm changes waiting for their commit").bind(),
    };
  }

  async start(): Promise<void> {
    if (this.#running) return;
    const db = this.#o.db;
    const repo = new AlarmsRepo(db);
    this.#repo = repo;
    const sink = this.#o.changeSink;
    this.#tx = db.transaction((batch: readonly Pending[]) => {
      for (let i = 0; i < batch.length; i++) {
        const c = (batch[i] as Pending).change;
        if (c.kind !== "created") {
          // Delivery may have stored the platform's ids since we loaded the alarm: carry them on.
          const l = repo.links(c.alarm.id);
          if (l) {
            c.alarm.upstreamId = l.upstreamId;
            c.alarm.workOrderId = l.workOrderId;
            if (c.previous) {
              c.previous.upstreamId = l.upstreamId;
              c.previous.workOrderId = l.workOrderId;
            }
          }
        }
        repo.write(c.alarm);
      }
      if (sink) sink.writeInTransaction(batch.map((p) => p.change));
    });
    this.#ids.seed(repo.maxId());
    // Open alarms are the current episodes: a condition that persists across a restart is the
    // same alarm, not a second one (its `for` window restarts, since that is not persisted).
    const open = repo.open();
    // The database is the truth at start (also after a stop/start in the same process).
    this.#episodes.clear();
    this.#byAlarmId.clear();
    this.#activeByDevice.clear();
    for (const a of open) {
      const ep = this.#episode(a.ruleId, a.resource.id);
      ep.status = a.status;
      ep.alarm = a;
      this.#byAlarmId.set(a.id, ep);
      this.#activeByDevice.set(a.resource.id, (this.#activeByDevice.get(a.resource.id) ?? 0) + 1);
    }
    this.#activeCount = open.length;
    this.#m.active.set(this.#activeCount);
    for (const deviceId of this.#activeByDevice.keys()) this.#notifyActive(deviceId, true);
    this.#running = true;
    if (open.length > 0) this.#log.info({ open: open.length }, "open alarms resumed");
    if (this.#queue.length > 0) this.#schedule();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    try {
      await this.flush();
    } catch (err) {
      this.#log.error(
        { err, pending: this.#queue.length },
        `alarm changes could not be committed at shutdown: ${errorMessage(err)}`,
      );
    }
    this.#running = false;
    this.#clock.clearTimeout(this.#timer);
    this.#clock.clearTimeout(this.#retryTimer);
    this.#timer = undefined;
    this.#retryTimer = undefined;
  }

  // ---- hot path ------------------------------------------------------------------------------

  observe(rule: CompiledRule, device: DeviceState, level: ConditionLevel, reading: Reading): void {
    const ruleId = rule.def.id;
    let byDevice = this.#episodes.get(ruleId);
    if (byDevice === undefined) {
      if (level === 0) return;
      byDevice = new Map();
      this.#episodes.set(ruleId, byDevice);
    }
    let ep = byDevice.get(device.id);
    if (ep === undefined) {
      if (level === 0) return;
      ep = this.#episode(ruleId, device.id);
    } else if (level === 0 && ep.since1 < 0 && ep.status === 0 && !ep.suppressed) {
      return;
    }
    ep.rule = rule;
    const t = step(ep, level, this.#clock.monotonic(), (rule.def.for ?? 0) * 1000);
    if (t === Transition.None || ep.asking) return;
    try {
      if (t === Transition.Create) this.#create(ep, rule, device, reading);
      else if (t === Transition.Resolve) this.#close(ep, device, { by: causeOf(rule), remark: "condition cleared" });
      else this.#change(ep, rule, device, reading, t === Transition.Escalate ? "escalated" : "de-escalated");
    } catch (err) {
      this.#log.error({ err, ruleId, deviceId: device.id }, "alarm transition failed");
    }
  }

  // ---- transitions ---------------------------------------------------------------------------

  #episode(ruleId: string, deviceId: string): Episode {
    let byDevice = this.#episodes.get(ruleId);
    if (byDevice === undefined) {
      byDevice = new Map();
      this.#episodes.set(ruleId, byDevice);
    }
    let ep = byDevice.get(deviceId);
    if (ep === undefined) {
      ep = { ...newEpisodeState(), ruleId, deviceId, rule: null, alarm: null, asking: false, removed: false };
      byDevice.set(deviceId, ep);
    }
    return ep;
  }

  #create(ep: Episode, rule: CompiledRule, device: DeviceState, reading: Reading | null): void {
    const now = this.#clock.now();
    const alarm = buildAlarm(this.#ids.next(), rule, device, ep.status, reading, now);
    const dev = snapshot(device);
    const interceptor = this.#o.interceptor;
    if (interceptor?.active) {
      ep.asking = true;
      this.#asks++;
      void this.#ask(interceptor, ep, rule, alarm, dev);
      return;
    }
    this.#commitCreate(ep, rule, alarm, dev);
  }

  async #ask(
    interceptor: AlarmInterceptor,
    ep: Episode,
    rule: CompiledRule,
    alarm: Alarm,
    dev: DeviceState,
  ): Promise<void> {
    let out: Alarm | null = alarm;
    try {
      out = await interceptor.beforeAlarm(structuredClone(alarm), dev, rule.def);
    } catch (err) {
      // A failing interceptor must not cost an alarm (SPEC §9): the original goes on.
      this.#log.error({ err, ruleId: ep.ruleId, deviceId: ep.deviceId }, "beforeAlarm failed; alarm raised unchanged");
      out = alarm;
    }
    ep.asking = false;
    try {
      if (ep.removed) return;
      if (out === null) {
        this.#m.suppressed.inc();
        // Remember the suppression until the condition clears, instead of asking at every reading.
        if (ep.status > 0) closeByOperator(ep);
        return;
      }
      const final = sanitize(out, alarm);
      this.#commitCreate(ep, rule, final, dev);
      // Readings that arrived while the hook was thinking: bring the episode to where they led.
      if (ep.status === 0) this.#close(ep, dev, { by: causeOf(rule), remark: "condition cleared" });
      else if (ep.status !== final.status) {
        this.#change(ep, rule, dev, null, ep.status > final.status ? "escalated" : "de-escalated");
      }
    } catch (err) {
      this.#log.error({ err, ruleId: ep.ruleId, deviceId: ep.deviceId }, "alarm creation failed");
    } finally {
      this.#asks--;
      if (this.#asks === 0) {
        const waiters = this.#askWaiters;
        this.#askWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  #commitCreate(ep: Episode, rule: CompiledRule, alarm: Alarm, dev: DeviceState): void {
    ep.alarm = alarm;
    this.#byAlarmId.set(alarm.id, ep);
    const remark = alarm.status === 2 ? "conditions hold" : "warnConditions hold";
    this.#enqueue(
      {
        kind: "created",
        alarm,
        previous: null,
        rule: rule.def,
        device: dev,
        cause: { by: causeOf(rule), remark: rule.def.for ? `${remark} for ${rule.def.for} s` : remark },
        now: alarm.created,
      },
      undefined,
    );
  }

  /** Escalation or de-escalation in place (same id). */
  #change(ep: Episode, rule: CompiledRule, device: DeviceState, reading: Reading | null, remark: string): void {
    const prev = ep.alarm;
    if (prev === null) return;
    const now = this.#clock.now();
    const { message, details } = describe(rule, ep.status as ConditionLevel, device, reading);
    const next: Alarm = { ...prev, status: ep.status, message: rule.def.message ?? message, details, updated: now };
    ep.alarm = next;
    this.#enqueue(
      {
        kind: "updated",
        alarm: next,
        previous: prev,
        rule: rule.def,
        device: snapshot(device),
        cause: { by: causeOf(rule), remark },
        now,
      },
      undefined,
    );
  }

  #close(
    ep: Episode,
    device: DeviceState,
    cause: { by: string; remark: string },
    done?: (a: Alarm) => void,
    operator?: string,
  ): void {
    const prev = ep.alarm;
    if (prev === null) return;
    const now = this.#clock.now();
    const next: Alarm = {
      ...prev,
      status: 0,
      updated: now,
      resolvedAt: now,
      details: { ...prev.details, resolution: { ...cause, at: now, ...(operator ? { operator } : {}) } },
    };
    ep.alarm = null;
    this.#byAlarmId.delete(prev.id);
    this.#enqueue(
      {
        kind: "resolved",
        alarm: next,
        previous: prev,
        rule: ep.rule?.def ?? null,
        device: snapshot(device),
        cause,
        now,
      },
      done,
    );
  }

  // ---- operator and rule changes -------------------------------------------------------------

  resolve(alarmId: string, by: string, remark: string): Promise<Alarm | null> {
    const ep = this.#byAlarmId.get(alarmId);
    if (ep === undefined || ep.alarm === null) {
      // Already resolved by a reading but not committed yet: answer with that resolve once on disk.
      for (let i = this.#queue.length - 1; i >= 0; i--) {
        const p = this.#queue[i] as Pending;
        if (p.change.alarm.id !== alarmId) continue;
        if (p.change.kind !== "resolved") break;
        return new Promise<Alarm>((resolve) => {
          const prior = p.done;
          p.done = prior
            ? (a) => {
                prior(a);
                resolve(a);
              }
            : resolve;
        });
      }
      return Promise.resolve(null);
    }
    // The condition may still hold: no new episode until it has cleared once (see the README, Alarms).
    closeByOperator(ep);
    return new Promise<Alarm>((resolve) => {
      const cause = { by: "operator", remark: remark || `resolved by ${by || "operator"}` };
      this.#close(ep, this.#deviceFor(ep), cause, resolve, by);
    });
  }

  rulesChanged(rules: readonly CompiledRule[]): void {
    const live = new Map<string, CompiledRule>();
    for (const r of rules) if (r.def.isEnable !== false) live.set(r.def.id, r);
    for (const [ruleId, byDevice] of this.#episodes) {
      // Quota alarms come from synthetic rules the rule files never list.
      if (ruleId.startsWith("quota:")) continue;
      const rule = live.get(ruleId);
      for (const [deviceId, ep] of byDevice) {
        // A rule edited to another product or device would never see this device again: its open
        // alarm would stay open forever, so it is closed like one of a removed rule.
        const device = this.#deviceFor(ep);
        if (rule !== undefined && rule.def.key === device.product && (!rule.def.did || rule.def.did === deviceId)) {
          continue;
        }
        ep.removed = true;
        if (ep.alarm !== null) {
          ep.status = 0;
          const remark = rule === undefined ? "rule removed" : "rule no longer applies to this device";
          this.#close(ep, device, { by: "rule", remark });
        }
        byDevice.delete(deviceId);
      }
      if (byDevice.size === 0) this.#episodes.delete(ruleId);
    }
  }

  #deviceFor(ep: Episode): DeviceState {
    const live = this.#o.devices.get(ep.deviceId);
    if (live) return live;
    const r = ep.alarm?.resource;
    const d: DeviceState = {
      id: ep.deviceId,
      product: r?.product ?? "",
      status: "offline",
      lastSeen: null,
      values: {},
      source: "internal",
    };
    if (r?.name !== undefined) d.name = r.name;
    if (r?.areaId !== undefined) d.areaId = r.areaId;
    if (ep.alarm?.location) d.location = ep.alarm.location;
    return d;
  }

  // ---- batching and commit -------------------------------------------------------------------

  #enqueue(change: AlarmChange, done: ((a: Alarm) => void) | undefined): void {
    this.#queue.push({ change, done });
    this.#m.pending.set(this.#queue.length);
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#running || this.#retryTimer !== undefined) return;
    if (this.#queue.length >= this.#maxBatch) {
      if (this.#timer !== undefined) {
        this.#clock.clearTimeout(this.#timer);
        this.#timer = undefined;
      }
      if (!this.#scheduled) {
        this.#scheduled = true;
        queueMicrotask(this.#runScheduled);
      }
      return;
    }
    if (this.#scheduled || this.#timer !== undefined) return;
    if (this.#delayMs === 0) {
      this.#scheduled = true;
      setImmediate(this.#runScheduled);
    } else {
      this.#timer = this.#clock.setTimeout(this.#runTimer, this.#delayMs);
    }
  }

  readonly #runScheduled = (): void => {
    this.#scheduled = false;
    if (this.#retryTimer === undefined) this.#commit();
  };

  readonly #runTimer = (): void => {
    this.#timer = undefined;
    if (this.#retryTimer === undefined) this.#commit();
  };

  readonly #runRetry = (): void => {
    this.#retryTimer = undefined;
    this.#commit();
  };

  /** Commits the queue in one transaction. Returns the error when it failed (what failed is kept). */
  #commit(): unknown {
    const batch = this.#queue;
    const tx = this.#tx;
    if (batch.length === 0 || tx === null) return undefined;
    try {
      tx(batch);
    } catch (err) {
      if (batch.length === 1 || isStorageError(err)) return this.#failed(err, batch.length);
      // Not the disk: one change the database or the outbox writer rejects must not hold back
      // every other alarm. Commit one by one; a rejected change and the later changes of the same
      // alarm stay queued, in order, and are retried.
      const blocked = new Set<string>();
      const committed: Pending[] = [];
      const kept: Pending[] = [];
      let lastErr: unknown = err;
      for (const p of batch) {
        const id = p.change.alarm.id;
        if (!blocked.has(id)) {
          try {
            tx([p]);
            committed.push(p);
            continue;
          } catch (e) {
            lastErr = e;
            blocked.add(id);
          }
        }
        kept.push(p);
      }
      this.#queue = kept;
      this.#m.pending.set(kept.length);
      if (committed.length > 0) {
        this.#m.batches.inc(committed.length);
        this.#afterCommit(committed);
      }
      if (kept.length === 0) return this.#succeeded(0);
      this.#log.error(
        { err: lastErr, alarms: [...blocked] },
        `alarm change(s) rejected: ${errorMessage(lastErr)}; kept and retried, other alarms go on`,
      );
      return this.#failed(lastErr, kept.length);
    }
    this.#queue = [];
    this.#succeeded(batch.length);
    this.#m.batches.inc();
    this.#afterCommit(batch);
    return undefined;
  }

  #succeeded(committed: number): undefined {
    if (this.#retryMs !== 0) this.#log.warn({ committed }, "alarm transactions succeed again");
    this.#retryMs = 0;
    this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#m.pending.set(this.#queue.length);
    return undefined;
  }

  #failed(err: unknown, pending: number): unknown {
    this.#m.failures.inc();
    this.#retryMs = this.#retryMs === 0 ? RETRY_MIN_MS : Math.min(this.#retryMs * 2, RETRY_MAX_MS);
    this.#log.error(
      { err, pending, retryInMs: this.#retryMs },
      `ALARMS NOT PERSISTED: the database refused the alarm transaction (${errorMessage(err)}); ` +
        `${pending} change(s) kept in memory and retried — check free disk space and permissions of the data directory`,
    );
    this.#clock.clearTimeout(this.#retryTimer);
    if (this.#running) this.#retryTimer = this.#clock.setTimeout(this.#runRetry, this.#retryMs);
    return err ?? new Error("transaction failed");
  }

  #afterCommit(batch: readonly Pending[]): void {
    const events = this.#o.events;
    for (let i = 0; i < batch.length; i++) {
      const { change: c, done } = batch[i] as Pending;
      const deviceId = c.alarm.resource.id;
      try {
        if (c.kind === "created") {
          this.#m.created.inc();
          this.#activeCount++;
          const n = (this.#activeByDevice.get(deviceId) ?? 0) + 1;
          this.#activeByDevice.set(deviceId, n);
          if (n === 1) this.#notifyActive(deviceId, true);
          if (c.rule) events.emit("alarmCreated", c.alarm, c.device, c.rule);
        } else if (c.kind === "updated") {
          this.#m.updated.inc();
          events.emit("alarmUpdated", c.alarm, c.device, c.rule);
        } else {
          this.#m.resolved.inc();
          this.#activeCount--;
          const n = (this.#activeByDevice.get(deviceId) ?? 1) - 1;
          if (n <= 0) {
            this.#activeByDevice.delete(deviceId);
            this.#notifyActive(deviceId, false);
          } else this.#activeByDevice.set(deviceId, n);
          events.emit("alarmResolved", c.alarm, c.device);
        }
        if (done) done(c.alarm);
      } catch (err) {
        this.#log.error({ err, alarmId: c.alarm.id }, "after-commit notification failed");
      }
    }
    this.#m.active.set(this.#activeCount);
  }

  #notifyActive(deviceId: string, has: boolean): void {
    try {
      this.#o.onActiveChanged?.(deviceId, has);
    } catch (err) {
      this.#log.error({ err, deviceId }, "onActiveChanged failed");
    }
  }

  async flush(): Promise<void> {
    while (this.#asks > 0) await new Promise<void>((r) => this.#askWaiters.push(r));
    if (this.#tx === null) return;
    const err = this.#commit();
    if (err !== undefined) {
      throw new AgentError("EA_DB", `alarm changes not committed (kept, retrying): ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  // ---- queries (committed state) ------------------------------------------------------------

  get(id: string): Alarm | undefined {
    return this.#repo?.get(id);
  }

  list(query: AlarmListQuery): { total: number; alarms: Alarm[] } {
    return this.#repo?.list(query) ?? { total: 0, alarms: [] };
  }

  active(): Alarm[] {
    return this.#repo?.open() ?? [];
  }

  /** Changes waiting for their transaction (status page, tests). */
  get pendingChanges(): number {
    return this.#queue.length;
  }
}

/** Errors of the storage itself (disk full, I/O, locks): the whole batch waits, nothing is isolated. */
function isStorageError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === "string" &&
    /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|NOMEM|NOLFS|CORRUPT|NOTADB|PERM|AUTH|PROTOCOL)/.test(code)
  );
}

function causeOf(rule: CompiledRule): string {
  return rule.file.startsWith("quota:") ? "quota" : "rule";
}

function snapshot(d: DeviceState): DeviceState {
  return { ...d, values: { ...d.values } };
}

/** The agent owns identity and status; a hook may change the description, level and details. */
function sanitize(raw: Alarm, original: Alarm): Alarm {
  if (typeof raw !== "object" || raw === null) return original;
  let out: Alarm;
  try {
    // What cannot be stored as JSON (BigInt, cycles) must not reach the transaction.
    out = JSON.parse(JSON.stringify(raw)) as Alarm;
  } catch {
    return original;
  }
  const level = Number.isInteger(out.level) && out.level >= 0 && out.level <= 5 ? out.level : original.level;
  const str = (v: unknown, d: string): string => (typeof v === "string" ? v : d);
  const obj = <T>(v: unknown, d: T): T => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as T) : d);
  return {
    ...original,
    name: str(out.name, original.name),
    title: str(out.title, original.title),
    message: str(out.message, original.message),
    type: str(out.type, original.type),
    level,
    resource: { ...obj(out.resource, original.resource), id: original.resource.id },
    location: out.location === null ? null : obj(out.location, original.location),
    details: obj(out.details, original.details),
    period: typeof out.period === "number" && out.period >= 0 ? out.period : original.period,
    status: original.status as AlarmStatus,
  };
}
