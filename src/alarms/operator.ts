// Operator actions from the local API: raise a manual alarm, amend, resolve or remove one. Each
// queues its change like a transition and answers once it committed.
// A manual alarm (/alert/add) is not tied to any rule (ruleId ""), raised and resolved by hand. Its
// work order, when asked for, goes through the same outbox path as a rule's; the synthetic rule
// built here only carries that request (no conditions, no webhook).

import type { Clock } from "../core/clock.js";
import { AgentError } from "../core/errors.js";
import type { AlarmChange, AlarmOperator, AlarmRemoval, DeviceView, ManualAlarmInput } from "../core/ports.js";
import type { Alarm, DeviceState, RuleDefinition, WorkOrderAction } from "../core/types.js";
import type { AlarmsRepo } from "../store/alarms-repo.js";
import type { Pending } from "./commit.js";
import { type Episode, type Episodes, snapshot } from "./episodes.js";
import type { AlarmIdGenerator } from "./ids.js";
import type { Recurrences } from "./recurrence.js";
import { closeByOperator } from "./state.js";

export const OPERATOR_TYPE = "operator";

export function buildManualAlarm(
  id: string,
  input: ManualAlarmInput,
  device: DeviceState | undefined,
  now: number,
): Alarm {
  const resource: Alarm["resource"] = { id: input.deviceId ?? "", product: device?.product ?? "" };
  if (device?.name !== undefined) resource.name = device.name;
  if (device?.areaId !== undefined) resource.areaId = device.areaId;
  const a: Alarm = {
    id,
    ruleId: "",
    name: input.name,
    title: input.title ?? input.name,
    message: input.message ?? input.title ?? input.name,
    type: OPERATOR_TYPE,
    level: input.level ?? 2,
    status: input.status ?? 2,
    resource,
    location: input.location !== undefined ? input.location : (device?.location ?? null),
    details: input.details ?? {},
    period: 0,
    created: now,
    updated: now,
    resolvedAt: null,
    upstreamId: null,
    workOrderId: null,
    origin: "operator",
    recurrences: 0,
    lastRecurrence: null,
  };
  if (input.recipient !== undefined) a.recipient = input.recipient;
  return a;
}

/** The rule-shaped carrier of an operator alarm's actions (hooks see it as the alarm's rule). */
export function manualRule(a: Alarm, workOrder: ManualAlarmInput["workOrder"]): RuleDefinition {
  const def: RuleDefinition = {
    id: "",
    name: a.name,
    title: a.title,
    key: a.resource.product,
    type: "rule",
    level: a.level,
    conditions: { all: [] },
  };
  if (a.resource.id !== "") def.did = a.resource.id;
  if (workOrder) def.actions = { workOrder: workOrder === true ? {} : (workOrder as WorkOrderAction) };
  return def;
}

export interface OperatorActionsDeps {
  episodes: Episodes;
  queue: { readonly items: readonly Pending[]; push(p: Pending): void };
  recurrences: Recurrences;
  clock: Clock;
  ids: AlarmIdGenerator;
  devices: DeviceView;
  /** Whether the service is started (its store open). */
  running(): boolean;
  /** The alarms table once the service started; null before. */
  repo(): AlarmsRepo | null;
  /** Commits everything queued (and waits for beforeAlarm calls in flight). */
  flush(): Promise<void>;
  /** The service's close transition; `done` runs once it committed. */
  close(
    ep: Episode,
    device: DeviceState,
    cause: { by: string; remark: string },
    done?: (a: Alarm) => void,
    operator?: string,
  ): void;
}

export class OperatorActions implements AlarmOperator {
  readonly #d: OperatorActionsDeps;

  constructor(deps: OperatorActionsDeps) {
    this.#d = deps;
  }

  resolve(alarmId: string, by: string, remark: string): Promise<Alarm | null> {
    const ep = this.#d.episodes.byAlarmId.get(alarmId);
    if (ep === undefined || ep.alarm === null) {
      // Already resolved by a reading but not committed yet: answer with that resolve once on disk.
      const queue = this.#d.queue.items;
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
    // The condition may still hold: no new episode until it has cleared once (docs/alarms.md).
    closeByOperator(ep);
    return new Promise<Alarm>((resolve) => {
      const cause = { by: "operator", remark: remark || `resolved by ${by || "operator"}` };
      this.#d.close(ep, this.#d.episodes.deviceFor(ep), cause, resolve, by);
    });
  }

  raise(input: ManualAlarmInput, by: string): Promise<Alarm> {
    const d = this.#d;
    if (!d.running()) return Promise.reject(new AgentError("EA_DB", "the alarm store is not running"));
    const device = input.deviceId ? d.devices.get(input.deviceId) : undefined;
    const alarm = buildManualAlarm(d.ids.next(), input, device, d.clock.now());
    const ep = d.episodes.standalone(alarm);
    ep.status = alarm.status;
    ep.alarm = alarm;
    ep.product = alarm.resource.product;
    d.episodes.byAlarmId.set(alarm.id, ep);
    const rule = manualRule(alarm, input.workOrder);
    ep.rule = { def: rule, file: "api", level: () => 0 };
    const dev: DeviceState = device ? snapshot(device) : d.episodes.deviceFor(ep);
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
      d.queue.push({ change, repeat: null, done });
    });
  }

  async amend(
    alarmId: string,
    changes: { level?: number; title?: string; message?: string },
    by: string,
  ): Promise<Alarm | undefined> {
    const d = this.#d;
    const ep = d.episodes.byAlarmId.get(alarmId);
    await d.flush();
    const prev = ep?.alarm ?? d.repo()?.get(alarmId);
    if (prev === undefined || prev === null) return undefined;
    const next: Alarm = { ...prev, ...changes, updated: d.clock.now() };
    if (ep?.alarm) ep.alarm = next;
    return new Promise<Alarm>((done) => {
      const change: AlarmChange = {
        kind: "updated",
        alarm: next,
        previous: prev,
        rule: ep?.rule?.def ?? null,
        device: ep ? d.episodes.deviceFor(ep) : d.episodes.deviceOf(next),
        cause: { by: "operator", remark: `changed by ${by || "operator"} from the local API` },
        now: next.updated,
      };
      d.queue.push({ change, repeat: null, done });
    });
  }

  async remove(alarmId: string): Promise<AlarmRemoval> {
    await this.#d.flush();
    const repo = this.#d.repo();
    const alarm = repo?.get(alarmId);
    if (repo === null || repo === undefined || alarm === undefined) return { ok: false, reason: "not-found" };
    if (alarm.status > 0) return { ok: false, reason: "active", alarm };
    const pending = repo.pendingDeliveries(alarmId);
    if (pending > 0) return { ok: false, reason: "delivering", alarm, pending };
    repo.delete(alarmId);
    this.#d.recurrences.forget(this.#d.episodes, alarm.resource.id, alarmId);
    return { ok: true, alarm };
  }
}
