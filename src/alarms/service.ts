// The alarm lifecycle: turns rule levels into alarm episodes and commits every change together
// with its outbox rows in one SQLite transaction per batch (see commit-queue.ts).
// Invariants: observe() is synchronous and allocation-free unless a transition happens; nothing is
// emitted (events, onActiveChanged, metrics) before its transaction committed.
// A rule's `period` P: a new episode of a (rule, device) that begins less than P s after that
// pair's last raise is a silenced repeat — counted on the raised record, nothing else. A rule with
// `actions.alarm: false` raises firings (their own table), never alarms.

import type { Clock } from "../core/clock.js";
import { AgentError, errorMessage } from "../core/errors.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type {
  AlarmChange,
  AlarmChangeSink,
  AlarmInterceptor,
  AlarmListQuery,
  AlarmOperator,
  AlarmQueries,
  AlarmRemoval,
  AlarmTracker,
  CompiledRule,
  ConditionLevel,
  DeviceView,
  ManualAlarmInput,
} from "../core/ports.js";
import type { Alarm, AlarmStatus, DeviceState, Reading } from "../core/types.js";
import { AlarmsRepo } from "../store/alarms-repo.js";
import type { Db } from "../store/db.js";
import { CommitQueue } from "./commit-queue.js";
import { buildAlarm, describe } from "./describe.js";
import { AlarmIdGenerator } from "./ids.js";
import { buildManualAlarm, manualRule } from "./operator.js";
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
  /** Called after a commit that wrote outbox rows without an alarm event (firings): wakes delivery. */
  onOutboxWritten?: () => void;
  /** Longest wait before a queued change is committed; 0 = at the next turn of the event loop. Default 5. */
  batchMaxDelayMs?: number;
  /** Queued changes that trigger a commit without waiting for the delay. Default 500. */
  batchMaxSize?: number;
}

interface Episode extends EpisodeState {
  readonly ruleId: string;
  readonly deviceId: string;
  rule: CompiledRule | null;
  /** The open record (alarm, or firing when `firing`) as last queued (may be ahead of the database by one batch). */
  alarm: Alarm | null;
  /** The open record is a firing of a rule with `actions.alarm: false`. */
  firing: boolean;
  /** A `beforeAlarm` call is in flight; transitions meanwhile are reconciled when it answers. */
  asking: boolean;
  /** The rule was removed: a late `beforeAlarm` answer must not create anything. */
  removed: boolean;
  /** Epoch ms of the pair's last raise (alarm or firing); -1 when none is known. */
  raisedAt: number;
  /** The record of that raise (null when deleted) and whether it is a firing. */
  raisedId: string | null;
  raisedFiring: boolean;
  /** The current episode is a silenced repeat: nothing is raised until it ends. */
  repeating: boolean;
  /** Product of the device, for rule re-targeting checks while the device is not live yet. */
  product: string;
}

/** A queued unit of the alarm transaction: an alarm/firing change, or a silenced repeat's begin/end. */
interface Pending {
  change: AlarmChange | null;
  repeat: { id: string; firing: boolean; status: AlarmStatus; at: number } | null;
  done: ((alarm: Alarm) => void) | undefined;
}

const keyOf = (p: Pending): string => (p.change ? p.change.alarm.id : (p.repeat as { id: string }).id);

export class AlarmService implements AlarmTracker, AlarmQueries, AlarmOperator {
  readonly #o: AlarmServiceOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #ids: AlarmIdGenerator;
  readonly #cq: CommitQueue<Pending>;
  /** rule id → device id → episode: two lookups and no key string per reading. */
  readonly #episodes = new Map<string, Map<string, Episode>>();
  /** Open alarms by id (rule episodes and operator alarms); firings are not alarms and are not here. */
  readonly #byAlarmId = new Map<string, Episode>();
  /** Committed open alarms per device (drives onActiveChanged). */
  readonly #activeByDevice = new Map<string, number>();
  #repo: AlarmsRepo | null = null;
  #firings: AlarmsRepo | null = null;
  #running = false;
  #asks = 0;
  #askWaiters: (() => void)[] = [];
  #activeCount = 0;

  readonly #m: {
    created: { inc(by?: number): void };
    updated: { inc(by?: number): void };
    resolved: { inc(by?: number): void };
    suppressed: { inc(by?: number): void };
    repeats: { inc(by?: number): void };
    firings: { inc(by?: number): void };
    active: { set(v: number): void };
  };

  constructor(opts: AlarmServiceOptions) {
    this.#o = opts;
    this.#log = opts.log;
    this.#clock = opts.clock;
    this.#ids = new AlarmIdGenerator(() => opts.clock.now());
    const transitions = opts.metrics.counter("edge_alarm_transitions_total", "Committed alarm changes, by kind");
    this.#m = {
      created: transitions.bind({ kind: "created" }),
      updated: transitions.bind({ kind: "updated" }),
      resolved: transitions.bind({ kind: "resolved" }),
      suppressed: opts.metrics
        .counter("edge_alarms_suppressed_total", "New alarms suppressed by a beforeAlarm hook")
        .bind(),
      repeats: opts.metrics
        .counter("edge_alarm_repeats_silenced_total", "New episodes silenced by their rule's period (kept local)")
        .bind(),
      firings: opts.metrics
        .counter("edge_rule_firings_total", "Firings of rules with actions.alarm false (actions without an alarm)")
        .bind(),
      active: opts.metrics.gauge("edge_alarms_active", "Open alarms (status 1 or 2), committed").bind(),
    };
    this.#cq = new CommitQueue<Pending>({
      clock: opts.clock,
      log: opts.log,
      delayMs: Math.max(0, opts.batchMaxDelayMs ?? 5),
      maxBatch: Math.max(1, opts.batchMaxSize ?? 500),
      keyOf,
      afterCommit: (batch) => this.#afterCommit(batch),
      metrics: {
        failures: opts.metrics
          .counter("edge_alarm_commit_failures_total", "Alarm transactions that failed (retried, never dropped)")
          .bind(),
        batches: opts.metrics.counter("edge_alarm_commits_total", "Alarm transactions committed").bind(),
        pending: opts.metrics.gauge("edge_alarm_pending_changes", "Alarm changes waiting for their commit").bind(),
      },
    });
  }

  async start(): Promise<void> {
    if (this.#running) return;
    const db = this.#o.db;
    const repo = new AlarmsRepo(db);
    const firings = new AlarmsRepo(db, "firings");
    this.#repo = repo;
    this.#firings = firings;
    const sink = this.#o.changeSink;
    const tx = db.transaction((batch: readonly Pending[]) => {
      const changes: AlarmChange[] = [];
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i] as Pending;
        if (p.repeat !== null) {
          (p.repeat.firing ? firings : repo).repeat(p.repeat.id, p.repeat.status, p.repeat.at);
          continue;
        }
        const c = p.change as AlarmChange;
        const r = c.firing ? firings : repo;
        if (c.kind !== "created") {
          // Delivery may have stored the platform's ids since we loaded the alarm: carry them on.
          const l = r.links(c.alarm.id);
          if (l) {
            c.alarm.upstreamId = l.upstreamId;
            c.alarm.workOrderId = l.workOrderId;
            if (c.previous) {
              c.previous.upstreamId = l.upstreamId;
              c.previous.workOrderId = l.workOrderId;
            }
          }
        }
        r.write(c.alarm);
        changes.push(c);
      }
      if (sink && changes.length > 0) sink.writeInTransaction(changes);
    });
    const a = repo.maxId();
    const f = firings.maxId();
    // Ids are time-ordered strings: the larger one is the newest, whichever table holds it.
    this.#ids.seed(a !== null && f !== null && f > a ? f : (a ?? f));
    this.#restore(repo, firings);
    this.#running = true;
    this.#cq.start(tx);
  }

  /** The database is the truth at start (also after a stop/start in the same process). */
  #restore(repo: AlarmsRepo, firings: AlarmsRepo): void {
    this.#episodes.clear();
    this.#byAlarmId.clear();
    this.#activeByDevice.clear();
    // Last raises first: the period of a pair survives a restart.
    for (const [r, isFiring] of [
      [repo, false],
      [firings, true],
    ] as const) {
      for (const last of r.lastRaises()) {
        const ep = this.#episode(last.ruleId, last.deviceId);
        if (last.created > ep.raisedAt) {
          ep.raisedAt = last.created;
          ep.raisedId = last.id;
          ep.raisedFiring = isFiring;
        }
      }
      // A silenced repeat going on at the stop is still the same episode, not a new raise.
      for (const rep of r.repeating()) {
        const ep = this.#episode(rep.ruleId, rep.deviceId);
        if (ep.raisedId === rep.id) {
          ep.repeating = true;
          ep.status = rep.status;
        }
      }
    }
    // Open alarms are the current episodes: a condition that persists across a restart is the
    // same alarm, not a second one (its `for` window restarts, since that is not persisted).
    const open = repo.open();
    for (const a of open) {
      const ep = a.ruleId === "" ? this.#standalone(a) : this.#episode(a.ruleId, a.resource.id);
      ep.status = a.status;
      ep.alarm = a;
      ep.product = a.resource.product;
      this.#byAlarmId.set(a.id, ep);
      this.#activeByDevice.set(a.resource.id, (this.#activeByDevice.get(a.resource.id) ?? 0) + 1);
    }
    for (const a of firings.open()) {
      const ep = this.#episode(a.ruleId, a.resource.id);
      ep.status = a.status;
      ep.alarm = a;
      ep.firing = true;
      ep.product = a.resource.product;
    }
    this.#activeCount = open.length;
    this.#m.active.set(this.#activeCount);
    for (const deviceId of this.#activeByDevice.keys()) this.#notifyActive(deviceId, true);
    if (open.length > 0) this.#log.info({ open: open.length }, "open alarms resumed");
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    try {
      await this.flush();
    } catch (err) {
      this.#log.error(
        { err, pending: this.#cq.items.length },
        `alarm changes could not be committed at shutdown: ${errorMessage(err)}`,
      );
    }
    this.#running = false;
    this.#cq.stop();
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
      if (ep.repeating || (t === Transition.Create && this.#silenced(ep, rule))) this.#repeat(ep, t);
      else if (t === Transition.Create) this.#create(ep, rule, device, reading);
      else if (t === Transition.Resolve) this.#close(ep, device, { by: causeOf(rule), remark: "condition cleared" });
      else if (!ep.firing) {
        this.#change(ep, rule, device, reading, t === Transition.Escalate ? "escalated" : "de-escalated");
      }
    } catch (err) {
      this.#log.error({ err, ruleId, deviceId: device.id }, "alarm transition failed");
    }
  }

  // ---- transitions ---------------------------------------------------------------------------

  #newEpisode(ruleId: string, deviceId: string): Episode {
    return {
      ...newEpisodeState(),
      ruleId,
      deviceId,
      rule: null,
      alarm: null,
      firing: false,
      asking: false,
      removed: false,
      raisedAt: -1,
      raisedId: null,
      raisedFiring: false,
      repeating: false,
      product: "",
    };
  }

  #episode(ruleId: string, deviceId: string): Episode {
    let byDevice = this.#episodes.get(ruleId);
    if (byDevice === undefined) {
      byDevice = new Map();
      this.#episodes.set(ruleId, byDevice);
    }
    let ep = byDevice.get(deviceId);
    if (ep === undefined) {
      ep = this.#newEpisode(ruleId, deviceId);
      byDevice.set(deviceId, ep);
    }
    return ep;
  }

  /** An operator alarm: an episode of its own, outside the (rule, device) map. */
  #standalone(a: Alarm): Episode {
    return this.#newEpisode("", a.resource.id);
  }

  /** Whether a new episode begins within the rule's period of the pair's last raise. */
  #silenced(ep: Episode, rule: CompiledRule): boolean {
    const periodS = rule.def.period ?? 0;
    return periodS > 0 && ep.raisedAt >= 0 && this.#clock.now() - ep.raisedAt < periodS * 1000;
  }

  /** A transition inside a silenced repeat: its begin is counted on the raised record, its end noted. */
  #repeat(ep: Episode, t: Transition): void {
    if (t === Transition.Create) {
      ep.repeating = true;
      if (ep.raisedId !== null) this.#pushRepeat(ep, ep.status);
    } else if (t === Transition.Resolve) {
      ep.repeating = false;
      if (ep.raisedId !== null) this.#pushRepeat(ep, 0);
    }
  }

  #pushRepeat(ep: Episode, status: AlarmStatus): void {
    const repeat = { id: ep.raisedId as string, firing: ep.raisedFiring, status, at: this.#clock.now() };
    this.#cq.push({ change: null, repeat, done: undefined });
  }

  #raised(ep: Episode, rec: Alarm, firing: boolean): void {
    ep.raisedAt = rec.created;
    ep.raisedId = rec.id;
    ep.raisedFiring = firing;
    ep.product = rec.resource.product;
  }

  #create(ep: Episode, rule: CompiledRule, device: DeviceState, reading: Reading | null): void {
    const now = this.#clock.now();
    const alarm = buildAlarm(this.#ids.next(), rule, device, ep.status, reading, now);
    const dev = snapshot(device);
    if (rule.def.actions?.alarm === false) {
      // The rule's actions run without an alarm: a firing record carries the work order and the period.
      ep.firing = true;
      ep.alarm = alarm;
      this.#raised(ep, alarm, true);
      const change = this.#createdChange(rule, alarm, dev);
      change.firing = true;
      this.#cq.push({ change, repeat: null, done: undefined });
      return;
    }
    ep.firing = false;
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
      // A failing interceptor must not cost an alarm: the original goes on.
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

  #createdChange(rule: CompiledRule, alarm: Alarm, dev: DeviceState): AlarmChange {
    const remark = alarm.status === 2 ? "conditions hold" : "warnConditions hold";
    return {
      kind: "created",
      alarm,
      previous: null,
      rule: rule.def,
      device: dev,
      cause: { by: causeOf(rule), remark: rule.def.for ? `${remark} for ${rule.def.for} s` : remark },
      now: alarm.created,
    };
  }

  #commitCreate(ep: Episode, rule: CompiledRule, alarm: Alarm, dev: DeviceState): void {
    ep.alarm = alarm;
    this.#raised(ep, alarm, false);
    this.#byAlarmId.set(alarm.id, ep);
    this.#cq.push({ change: this.#createdChange(rule, alarm, dev), repeat: null, done: undefined });
  }

  /** Escalation or de-escalation in place (same id). */
  #change(ep: Episode, rule: CompiledRule, device: DeviceState, reading: Reading | null, remark: string): void {
    const prev = ep.alarm;
    if (prev === null) return;
    const now = this.#clock.now();
    const { message, details } = describe(rule, ep.status as ConditionLevel, device, reading);
    const next: Alarm = { ...prev, status: ep.status, message: rule.def.message ?? message, details, updated: now };
    ep.alarm = next;
    const change: AlarmChange = {
      kind: "updated",
      alarm: next,
      previous: prev,
      rule: rule.def,
      device: snapshot(device),
      cause: { by: causeOf(rule), remark },
      now,
    };
    this.#cq.push({ change, repeat: null, done: undefined });
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
    const change: AlarmChange = {
      kind: "resolved",
      alarm: next,
      previous: prev,
      rule: ep.rule?.def ?? null,
      device: snapshot(device),
      cause,
      now,
    };
    if (ep.firing) change.firing = true;
    ep.firing = false;
    this.#cq.push({ change, repeat: null, done });
  }

  // ---- operator and rule changes -------------------------------------------------------------

  resolve(alarmId: string, by: string, remark: string): Promise<Alarm | null> {
    const ep = this.#byAlarmId.get(alarmId);
    if (ep === undefined || ep.alarm === null) {
      // Already resolved by a reading but not committed yet: answer with that resolve once on disk.
      const queue = this.#cq.items;
      for (let i = queue.length - 1; i >= 0; i--) {
        const p = queue[i] as Pending;
        if (p.change === null || p.change.alarm.id !== alarmId) continue;
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

  raise(input: ManualAlarmInput, by: string): Promise<Alarm> {
    if (!this.#running) return Promise.reject(new AgentError("EA_DB", "the alarm store is not running"));
    const device = input.deviceId ? this.#o.devices.get(input.deviceId) : undefined;
    const alarm = buildManualAlarm(this.#ids.next(), input, device, this.#clock.now());
    const ep = this.#standalone(alarm);
    ep.status = alarm.status;
    ep.alarm = alarm;
    ep.product = alarm.resource.product;
    this.#byAlarmId.set(alarm.id, ep);
    const rule = manualRule(alarm, input.workOrder);
    ep.rule = { def: rule, file: "api", level: () => 0 };
    const dev: DeviceState = device ? snapshot(device) : this.#deviceFor(ep);
    return new Promise<Alarm>((done) => {
      const change: AlarmChange = {
        kind: "created",
        alarm,
        previous: null,
        rule,
        device: dev,
        cause: { by: "operator", remark: `raised by ${by || "operator"} from the local API` },
        now: alarm.created,
      };
      this.#cq.push({ change, repeat: null, done });
    });
  }

  async amend(
    alarmId: string,
    changes: { level?: number; title?: string; message?: string },
    by: string,
  ): Promise<Alarm | undefined> {
    const ep = this.#byAlarmId.get(alarmId);
    await this.flush();
    const prev = ep?.alarm ?? this.get(alarmId);
    if (prev === undefined || prev === null) return undefined;
    const next: Alarm = { ...prev, ...changes, updated: this.#clock.now() };
    if (ep?.alarm) ep.alarm = next;
    return new Promise<Alarm>((done) => {
      const change: AlarmChange = {
        kind: "updated",
        alarm: next,
        previous: prev,
        rule: ep?.rule?.def ?? null,
        device: ep ? this.#deviceFor(ep) : this.#deviceOf(next),
        cause: { by: "operator", remark: `changed by ${by || "operator"} from the local API` },
        now: next.updated,
      };
      this.#cq.push({ change, repeat: null, done });
    });
  }

  async remove(alarmId: string): Promise<AlarmRemoval> {
    await this.flush();
    const repo = this.#repo;
    const alarm = repo?.get(alarmId);
    if (repo === null || alarm === undefined) return { ok: false, reason: "not-found" };
    if (alarm.status > 0) return { ok: false, reason: "active", alarm };
    const pending = repo.pendingDeliveries(alarmId);
    if (pending > 0) return { ok: false, reason: "delivering", alarm, pending };
    repo.delete(alarmId);
    // Its period still holds for the pair; repeats from now on have no record to be counted on.
    for (const byDevice of this.#episodes.values()) {
      const ep = byDevice.get(alarm.resource.id);
      if (ep !== undefined && ep.raisedId === alarmId) ep.raisedId = null;
    }
    return { ok: true, alarm };
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
        if (ep.repeating && ep.raisedId !== null) this.#pushRepeat(ep, 0);
        byDevice.delete(deviceId);
      }
      if (byDevice.size === 0) this.#episodes.delete(ruleId);
    }
  }

  #deviceFor(ep: Episode): DeviceState {
    const live = this.#o.devices.get(ep.deviceId);
    if (live) return live;
    const d = this.#deviceOf(ep.alarm);
    d.id = ep.deviceId;
    if (d.product === "") d.product = ep.product;
    return d;
  }

  /** A device as an alarm record describes it (the device is not live). */
  #deviceOf(a: Alarm | null): DeviceState {
    const live = a ? this.#o.devices.get(a.resource.id) : undefined;
    if (live) return live;
    const r = a?.resource;
    const d: DeviceState = {
      id: r?.id ?? "",
      product: r?.product ?? "",
      status: "offline",
      lastSeen: null,
      values: {},
      source: "internal",
    };
    if (r?.name !== undefined) d.name = r.name;
    if (r?.areaId !== undefined) d.areaId = r.areaId;
    if (a?.location) d.location = a.location;
    return d;
  }

  // ---- after commit --------------------------------------------------------------------------

  #afterCommit(batch: readonly Pending[]): void {
    const events = this.#o.events;
    let silentOutbox = false;
    for (let i = 0; i < batch.length; i++) {
      const { change: c, repeat, done } = batch[i] as Pending;
      if (c === null) {
        if (repeat && repeat.status > 0) this.#m.repeats.inc();
        continue;
      }
      try {
        if (c.firing) {
          if (c.kind === "created") this.#m.firings.inc();
          silentOutbox = true;
        } else if (c.kind === "created") {
          this.#m.created.inc();
          this.#setActive(c.alarm.resource.id, 1);
          if (c.rule) events.emit("alarmCreated", c.alarm, c.device, c.rule);
        } else if (c.kind === "updated") {
          this.#m.updated.inc();
          events.emit("alarmUpdated", c.alarm, c.device, c.rule);
        } else {
          this.#m.resolved.inc();
          this.#setActive(c.alarm.resource.id, -1);
          events.emit("alarmResolved", c.alarm, c.device);
        }
        if (done) done(c.alarm);
      } catch (err) {
        this.#log.error({ err, alarmId: c.alarm.id }, "after-commit notification failed");
      }
    }
    this.#m.active.set(this.#activeCount);
    if (silentOutbox) this.#o.onOutboxWritten?.();
  }

  #setActive(deviceId: string, delta: 1 | -1): void {
    this.#activeCount += delta;
    const n = (this.#activeByDevice.get(deviceId) ?? (delta < 0 ? 1 : 0)) + delta;
    if (n <= 0) this.#activeByDevice.delete(deviceId);
    else this.#activeByDevice.set(deviceId, n);
    // An operator alarm need not name a device.
    if (deviceId === "") return;
    if (delta > 0 && n === 1) this.#notifyActive(deviceId, true);
    else if (delta < 0 && n <= 0) this.#notifyActive(deviceId, false);
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
    const err = this.#cq.commit();
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

  /** A firing of a rule with `actions.alarm: false` (tests, diagnostics). */
  firing(id: string): Alarm | undefined {
    return this.#firings?.get(id);
  }

  /** Changes waiting for their transaction (status page, tests). */
  get pendingChanges(): number {
    return this.#cq.items.length;
  }
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
