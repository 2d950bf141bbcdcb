// The alarm lifecycle: turns rule levels into alarm episodes (state.ts decides, this file acts).
// Everything else has its own file: the transaction and what follows a commit (commit.ts, batched
// and retried by commit-queue.ts), periods and firings (recurrence.ts), start-up (restore.ts),
// operator actions (operator.ts), which devices have an open alarm (open-alarms.ts). Queries read
// the alarms table directly (store/alarms-repo.ts), not through this service.
// Invariants: observe() is synchronous and allocation-free unless a transition happens; nothing is
// emitted (events, open alarms, metrics) before its transaction committed.

import type { Clock } from "../core/clock.js";
import { errFields, errorMessage } from "../core/errors.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type {
  AlarmChange,
  AlarmChangeSink,
  AlarmInterceptor,
  AlarmOperator,
  AlarmRemoval,
  AlarmTracker,
  CompiledRule,
  ConditionLevel,
  DeviceView,
  ManualAlarmInput,
  OpenAlarmView,
} from "../core/ports.js";
import type { Alarm, DeviceState, Reading } from "../core/types.js";
import { AlarmsRepo } from "../store/alarms-repo.js";
import type { Db } from "../store/db.js";
import { AlarmCommits } from "./commit.js";
import { buildAlarm, describe } from "./describe.js";
import { causeOf, createdChange, type Episode, Episodes, snapshot } from "./episodes.js";
import { applyHookChanges } from "./identity.js";
import { AlarmIdGenerator } from "./ids.js";
import { OpenAlarms } from "./open-alarms.js";
import { OperatorActions } from "./operator.js";
import { Recurrences } from "./recurrence.js";
import { restore, seedIds } from "./restore.js";
import { closeByOperator, step, Transition } from "./state.js";

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
  /**
   * Which devices have an open alarm, kept by this service after each commit (the device registry
   * reads it). A private one when not given.
   */
  openAlarms?: OpenAlarms;
  /** Called after a commit that wrote outbox rows without an alarm event (firings): wakes delivery. */
  onOutboxWritten?: () => void;
  /** Longest wait before a queued change is committed; 0 = at the next turn of the event loop. Default 5. */
  batchMaxDelayMs?: number;
  /** Queued changes that trigger a commit without waiting for the delay. Default 500. */
  batchMaxSize?: number;
}

export class AlarmService implements AlarmTracker, AlarmOperator {
  readonly #o: AlarmServiceOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #ids: AlarmIdGenerator;
  readonly #open: OpenAlarms;
  readonly #commits: AlarmCommits;
  readonly #episodes: Episodes;
  readonly #recur: Recurrences;
  readonly #operator: OperatorActions;
  readonly #suppressed: { inc(by?: number): void };
  #repo: AlarmsRepo | null = null;
  #running = false;
  #asks = 0;
  #askWaiters: (() => void)[] = [];

  constructor(opts: AlarmServiceOptions) {
    this.#o = opts;
    this.#log = opts.log;
    this.#clock = opts.clock;
    this.#ids = new AlarmIdGenerator(() => opts.clock.now());
    this.#open = opts.openAlarms ?? new OpenAlarms(opts.log);
    this.#episodes = new Episodes(opts.devices);
    this.#commits = new AlarmCommits({
      clock: opts.clock,
      log: opts.log,
      events: opts.events,
      metrics: opts.metrics,
      openAlarms: this.#open,
      changeSink: opts.changeSink,
      onOutboxWritten: opts.onOutboxWritten,
      delayMs: Math.max(0, opts.batchMaxDelayMs ?? 5),
      maxBatch: Math.max(1, opts.batchMaxSize ?? 500),
    });
    this.#suppressed = opts.metrics
      .counter("edge_alarms_suppressed_total", "New alarms suppressed by a beforeAlarm hook")
      .bind();
    const push = this.#commits.push.bind(this.#commits);
    this.#recur = new Recurrences(opts.clock, push);
    this.#operator = new OperatorActions({
      episodes: this.#episodes,
      queue: this.#commits,
      recurrences: this.#recur,
      clock: opts.clock,
      ids: this.#ids,
      devices: opts.devices,
      running: () => this.#running,
      repo: () => this.#repo,
      flush: () => this.flush(),
      close: (ep, device, cause, done, operator) => this.#close(ep, device, cause, done, operator),
    });
  }

  /** Which devices have an open (committed) alarm. */
  get openAlarms(): OpenAlarmView {
    return this.#open;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    const db = this.#o.db;
    const repo = new AlarmsRepo(db);
    const firings = new AlarmsRepo(db, "firings");
    this.#repo = repo;
    seedIds(this.#ids, repo, firings);
    const open = restore(this.#episodes, this.#open, repo, firings);
    this.#commits.restored();
    if (open > 0) this.#log.info({ open }, "open alarms resumed");
    this.#running = true;
    this.#commits.start(db, repo, firings);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    try {
      await this.flush();
    } catch (err) {
      this.#log.error(
        { ...errFields(err, "EA_DB"), pending: this.#commits.items.length },
        `alarm changes could not be committed at shutdown: ${errorMessage(err)}`,
      );
    }
    this.#running = false;
    this.#commits.stop();
  }

  /** Commits everything pending, after the beforeAlarm calls in flight answered (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.#asks > 0) await new Promise<void>((r) => this.#askWaiters.push(r));
    this.#commits.commit();
  }

  /** Changes waiting for their transaction (status page, tests). */
  get pendingChanges(): number {
    return this.#commits.items.length;
  }

  // ---- hot path ------------------------------------------------------------------------------

  observe(rule: CompiledRule, device: DeviceState, level: ConditionLevel, reading: Reading): void {
    const ruleId = rule.def.id;
    let byDevice = this.#episodes.byRule.get(ruleId);
    if (byDevice === undefined) {
      if (level === 0) return;
      byDevice = new Map();
      this.#episodes.byRule.set(ruleId, byDevice);
    }
    let ep = byDevice.get(device.id);
    if (ep === undefined) {
      if (level === 0) return;
      ep = this.#episodes.episode(ruleId, device.id);
    } else if (level === 0 && ep.since1 < 0 && ep.status === 0 && !ep.suppressed) {
      return;
    }
    ep.rule = rule;
    const t = step(ep, level, this.#clock.monotonic(), (rule.def.for ?? 0) * 1000);
    if (t === Transition.None || ep.asking) return;
    try {
      if (ep.repeating || (t === Transition.Create && this.#recur.silenced(ep, rule))) this.#recur.repeat(ep, t);
      else if (t === Transition.Create) this.#create(ep, rule, device, reading);
      else if (t === Transition.Resolve) this.#close(ep, device, { by: causeOf(rule), remark: "condition cleared" });
      else if (!ep.firing) {
        this.#change(ep, rule, device, reading, t === Transition.Escalate ? "escalated" : "de-escalated");
      }
    } catch (err) {
      this.#log.error({ ...errFields(err), ruleId, deviceId: device.id }, "alarm transition failed");
    }
  }

  // ---- transitions ---------------------------------------------------------------------------

  #create(ep: Episode, rule: CompiledRule, device: DeviceState, reading: Reading | null): void {
    const now = this.#clock.now();
    const alarm = buildAlarm(this.#ids.next(), rule, device, ep.status, reading, now);
    // Raised while its device is in maintenance: recorded and announced locally, kept from upstream
    // for its whole life (outbox-writer.ts). Alarms open before maintenance are not touched.
    if (device.status === "maintenance") alarm.suppressed = "maintenance";
    const dev = snapshot(device);
    if (rule.def.actions?.alarm === false) {
      this.#recur.fire(ep, rule, alarm, dev);
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
      out = await interceptor.beforeAlarm(alarm, dev, rule.def);
    } catch (err) {
      // A failing interceptor must not cost an alarm: the original goes on.
      this.#log.error({ err, ruleId: ep.ruleId, deviceId: ep.deviceId }, "beforeAlarm failed; alarm raised unchanged");
      out = alarm;
    }
    ep.asking = false;
    try {
      if (ep.removed) return;
      if (out === null) {
        this.#suppressed.inc();
        // Remember the suppression until the condition clears, instead of asking at every reading.
        if (ep.status > 0) closeByOperator(ep);
        return;
      }
      const final = applyHookChanges(alarm, out);
      this.#commitCreate(ep, rule, final, dev);
      // Readings that arrived while the hook was thinking: bring the episode to where they led.
      if (ep.status === 0) this.#close(ep, dev, { by: causeOf(rule), remark: "condition cleared" });
      else if (ep.status !== final.status) {
        this.#change(ep, rule, dev, null, ep.status > final.status ? "escalated" : "de-escalated");
      }
    } catch (err) {
      this.#log.error({ ...errFields(err), ruleId: ep.ruleId, deviceId: ep.deviceId }, "alarm creation failed");
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
    this.#recur.raised(ep, alarm, false);
    this.#episodes.byAlarmId.set(alarm.id, ep);
    this.#commits.push({ change: createdChange(rule, alarm, dev), repeat: null, done: undefined });
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
    this.#commits.push({ change, repeat: null, done: undefined });
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
    this.#episodes.byAlarmId.delete(prev.id);
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
    this.#commits.push({ change, repeat: null, done });
  }

  rulesChanged(rules: readonly CompiledRule[]): void {
    const live = new Map<string, CompiledRule>();
    for (const r of rules) if (r.def.isEnable !== false) live.set(r.def.id, r);
    for (const [ruleId, byDevice] of this.#episodes.byRule) {
      // Quota alarms come from synthetic rules the rule files never list.
      if (ruleId.startsWith("quota:")) continue;
      const rule = live.get(ruleId);
      for (const [deviceId, ep] of byDevice) {
        // A rule edited to another product or device would never see this device again: its open
        // alarm would stay open forever, so it is closed like one of a removed rule.
        const device = this.#episodes.deviceFor(ep);
        if (rule !== undefined && rule.def.key === device.product && (!rule.def.did || rule.def.did === deviceId)) {
          continue;
        }
        ep.removed = true;
        if (ep.alarm !== null) {
          ep.status = 0;
          const remark = rule === undefined ? "rule removed" : "rule no longer applies to this device";
          this.#close(ep, device, { by: "rule", remark });
        }
        this.#recur.endRepeat(ep);
        byDevice.delete(deviceId);
      }
      if (byDevice.size === 0) this.#episodes.byRule.delete(ruleId);
    }
  }

  // ---- operator actions (operator.ts) --------------------------------------------------------

  resolve(alarmId: string, by: string, remark: string): Promise<Alarm | null> {
    return this.#operator.resolve(alarmId, by, remark);
  }

  raise(input: ManualAlarmInput, by: string): Promise<Alarm> {
    return this.#operator.raise(input, by);
  }

  amend(
    alarmId: string,
    changes: { level?: number; title?: string; message?: string },
    by: string,
  ): Promise<Alarm | undefined> {
    return this.#operator.amend(alarmId, changes, by);
  }

  remove(alarmId: string): Promise<AlarmRemoval> {
    return this.#operator.remove(alarmId);
  }
}
