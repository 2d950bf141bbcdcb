// Typed event bus. Events are emitted after the fact they describe is true (an alarm event only
// after its transaction committed). A throwing listener is logged and never reaches the emitter.

import type { Logger } from "./log.js";
import type { NotificationInfo, NotificationOutcome } from "./notify-ports.js";
import type { DayStats } from "./ports.js";
import type {
  Alarm,
  DeviceState,
  DeviceStatus,
  QuotaDefinition,
  QuotaUsage,
  Reading,
  RuleDefinition,
  WorkOrder,
} from "./types.js";

export interface AgentEvents {
  /** A reading went through rules. `device` is the live state after the reading. */
  reading: [reading: Reading, device: DeviceState];
  /** A raw MQTT payload or Modbus frame set, before parsing. */
  rawMessage: [source: "mqtt" | "modbus", topic: string, payload: Buffer | Record<string, unknown>];
  deviceStatusChanged: [device: DeviceState, oldStatus: DeviceStatus, newStatus: DeviceStatus];
  /** A new alarm episode was committed (status 1 or 2). */
  alarmCreated: [alarm: Alarm, device: DeviceState, rule: RuleDefinition];
  /** An active alarm changed status or level in place (escalated / de-escalated), committed. */
  alarmUpdated: [alarm: Alarm, device: DeviceState, rule: RuleDefinition | null];
  /** An alarm was resolved (status 0), committed. */
  alarmResolved: [alarm: Alarm, device: DeviceState];
  quotaExceeded: [quota: QuotaDefinition, usage: QuotaUsage];
  workOrderCreated: [order: WorkOrder];
  workOrderCompleted: [order: WorkOrder];
  /** The set of rules in force changed (load, reload, API). */
  rulesChanged: [ruleCount: number];
  /** A scheduled task's run started (status "running") or ended, recorded (docs/tasks.md, Runs). */
  taskRun: [run: TaskRunEvent, task: { id: string; name: string }];
  /** A local day ended and its statistics were stored (docs/hooks.md, onDayClosed). */
  dayClosed: [stats: DayStats];
  /** A notification was accepted by its channel, recorded (docs/notifications.md). */
  notificationSent: [message: NotificationInfo, outcome: NotificationOutcome];
  /** A notification send failed (retried later, or dead-lettered), recorded. */
  notificationFailed: [message: NotificationInfo, outcome: NotificationOutcome];
}

/** A task run as events carry it (the tasks folder's TaskRun has this shape). */
export interface TaskRunEvent {
  id: number;
  taskId: string;
  slot: number;
  trigger: string;
  started: number;
  ended: number | null;
  status: string;
  actions: readonly unknown[];
}

export type EventName = keyof AgentEvents;
type Listener<K extends EventName> = (...args: AgentEvents[K]) => void;

export class EventBus {
  readonly #listeners: { [K in EventName]?: Listener<K>[] } = {};
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  on<K extends EventName>(event: K, fn: Listener<K>): () => void {
    // Copy on write: an emit in progress keeps the list it started with, so a listener that
    // unsubscribes itself (or subscribes another) never makes a neighbour miss or double an event.
    const table = this.#listeners as Record<EventName, Listener<K>[] | undefined>;
    table[event] = [...(table[event] ?? []), fn];
    return () => {
      const list = table[event];
      if (list?.includes(fn)) table[event] = list.filter((l) => l !== fn);
    };
  }

  hasListeners(event: EventName): boolean {
    return (this.#listeners[event]?.length ?? 0) > 0;
  }

  emit<K extends EventName>(event: K, ...args: AgentEvents[K]): void {
    const list = this.#listeners[event] as Listener<K>[] | undefined;
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      try {
        (list[i] as Listener<K>)(...args);
      } catch (err) {
        this.#log.error({ err, event }, "event listener failed");
      }
    }
  }
}
