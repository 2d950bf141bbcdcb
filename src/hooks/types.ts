// The contract between the agent and a hook module (docs/hooks.md): every method is optional, observers
// return nothing the agent waits for, interceptors return the (possibly changed) input or null.
// These types are the hook author's manual: `import type { Hook, HookContext } from "edge-agent"`.

import type { Config } from "../config/schema.js";
import type { InvalidDataInput, PermissionDenied, ProcessingError } from "../core/hook-errors.js";
import type { Logger } from "../core/log.js";
import type { NotificationOutcome } from "../core/notify-ports.js";
import type { AlarmListQuery, ApiRequest, DayStats, KpiPeriod } from "../core/ports.js";
import type {
  Alarm,
  DeviceState,
  DeviceStatus,
  MetricValue,
  QuotaDefinition,
  QuotaUsage,
  Reading,
  RuleDefinition,
  WorkOrder,
} from "../core/types.js";
import type { NotificationMessage } from "../notify/types.js";

export type { NotificationOutcome } from "../core/notify-ports.js";
export type { DayStats, MetricDayStats } from "../core/ports.js";
export type { NotificationMessage } from "../notify/types.js";

type Awaitable<T> = T | Promise<T>;

/** A small persistent key/value store, one namespace per hook (its name). Values are JSON. */
export interface HookKv {
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  delete(key: string): boolean;
  keys(): string[];
}

export interface HookHttpRequest {
  method?: string;
  headers?: Record<string, string>;
  /** Raw body; use `json` instead to send a JSON document with the right content type. */
  body?: string | Uint8Array;
  json?: unknown;
  /** Per-request deadline (default: hooks.timeoutMs). */
  timeoutMs?: number;
}

export interface HookHttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The response body as text. */
  text: string;
  /** Parses `text` as JSON (throws on invalid JSON). */
  json<T = unknown>(): T;
}

/** An undici-based HTTP client bound to the agent's dispatcher (proxies, TLS and keep-alive shared). */
export interface HookHttp {
  request(url: string, init?: HookHttpRequest): Promise<HookHttpResponse>;
  /** POST `body` as JSON. */
  postJson(
    url: string,
    body: unknown,
    init?: Omit<HookHttpRequest, "json" | "body" | "method">,
  ): Promise<HookHttpResponse>;
}

/**
 * The typed errors a hook throws to refuse something (docs/hooks.md, typed errors): the same classes
 * `import { PermissionDenied } from "edge-agent"` gives, for hooks that cannot import the package.
 */
export interface HookErrors {
  readonly ProcessingError: typeof ProcessingError;
  readonly InvalidDataInput: typeof InvalidDataInput;
  readonly PermissionDenied: typeof PermissionDenied;
}

/** A device status change as beforeDeviceStatus sees it (its own copy: changing it changes nothing). */
export interface HookStatusChange {
  deviceId: string;
  /** The device as it is before the change. */
  device: DeviceState;
  oldStatus: DeviceStatus;
  /** The status the device is about to get. */
  status: DeviceStatus;
  /** Why, in words: "poll failed", "reading", "maintenance on: panel work"… */
  reason: string;
}

/** What the agent gives every hook call (and `start`, and a class constructor). */
export interface HookContext {
  /** The hook's name: its file name without extension. */
  readonly name: string;
  /** A child pino logger with `{hook: name}`. */
  readonly log: Logger;
  /** The agent's configuration, deep-frozen, without secrets: every password, token and app secret
   *  reads `[REDACTED]`. */
  readonly config: Readonly<Config>;
  /** Current values and statuses of devices (copies: changing them changes nothing). */
  readonly devices: {
    get(id: string): DeviceState | undefined;
    list(): DeviceState[];
    /**
     * Switches a device's run-time maintenance (docs/hooks.md): resolves with its status once the
     * change is applied; rejects with InvalidDataInput (unknown device, a bad or past `until`,
     * config maintenance switched off), or with the typed error of a beforeDeviceStatus veto.
     * `until`: epoch ms or an ISO-8601 date-time; it ends by itself then.
     */
    setMaintenance(
      deviceId: string,
      on: boolean,
      opts?: { until?: number | string; reason?: string },
    ): Promise<DeviceStatus>;
  };
  /** Alarm queries over the local database. */
  readonly alarms: {
    get(id: string): Alarm | undefined;
    list(query: AlarmListQuery): { total: number; alarms: Alarm[] };
    active(): Alarm[];
  };
  /** Writes a Modbus point by name, encoded per its configured type (interlocks). */
  readonly modbus: {
    write(deviceId: string, point: string, value: MetricValue): Promise<void>;
  };
  readonly http: HookHttp;
  readonly kv: HookKv;
  /** ProcessingError, InvalidDataInput, PermissionDenied: throw one to refuse (docs/hooks.md). */
  readonly errors: HookErrors;
}

/**
 * A hook: a plain object or a class instance (a class is constructed with the context).
 * All methods are optional and may be async. Observer methods (`on…`) run off the ingestion path,
 * in event order per hook, and cannot change the outcome. Interceptors (`before…`) run in load order.
 */
export interface Hook {
  /** Called after load. Must not block: start timers, open connections, return. */
  start?(ctx: HookContext): Awaitable<void>;
  /** Called on reload, unload and shutdown. Clear timers and close connections here. */
  stop?(): Awaitable<void>;

  /** Each reading, after rules ran. `device` is the device state after the reading. */
  onReading?(reading: Reading, device: DeviceState, ctx: HookContext): Awaitable<void>;
  /** Each raw MQTT payload (Buffer) / Modbus frame set (object), before parsing. */
  onRawMessage?(
    source: "mqtt" | "modbus",
    topic: string,
    payload: Buffer | Record<string, unknown>,
    ctx: HookContext,
  ): Awaitable<void>;
  /** A new alarm was committed to the database. */
  onAlarmCreated?(alarm: Alarm, device: DeviceState, rule: RuleDefinition, ctx: HookContext): Awaitable<void>;
  /** An alarm was resolved and committed. */
  onAlarmResolved?(alarm: Alarm, device: DeviceState, ctx: HookContext): Awaitable<void>;
  /**
   * A device's status changed. Every device starts `unknown` (nothing heard since the agent started);
   * its first poll outcome or message is a change like any other (`unknown` → `online`, or
   * `unknown` → `offline` after the failed polls that make a device offline).
   */
  onDeviceStatusChanged?(
    device: DeviceState,
    oldStatus: DeviceStatus,
    newStatus: DeviceStatus,
    ctx: HookContext,
  ): Awaitable<void>;
  /** A quota's usage passed `warnAt` × limit (`usage.crossed === "warn"`) or the limit (`"limit"`). */
  onQuotaExceeded?(quota: QuotaDefinition, usage: QuotaUsage, ctx: HookContext): Awaitable<void>;
  /** The work-order API confirmed the creation. */
  onWorkOrderCreated?(order: WorkOrder, ctx: HookContext): Awaitable<void>;
  /** The work-order API confirmed the completion. */
  onWorkOrderCompleted?(order: WorkOrder, ctx: HookContext): Awaitable<void>;
  /**
   * A local day (config.timezone) ended: min, max, average and count of every numeric metric per
   * device, and each quota's usage that day, as stored for GET /stats/day. Read-only.
   */
  onDayClosed?(stats: DayStats, ctx: HookContext): Awaitable<void>;
  /**
   * Every hooks.tickIntervalMs while the hook runs (the per-loop call). Skipped, and counted, while
   * the hook's previous onTick has not finished.
   */
  onTick?(ctx: HookContext): Awaitable<void>;
  /** A notification was accepted by its channel (docs/notifications.md); `result.seq` is its outbox row. */
  onNotificationSent?(message: NotificationMessage, result: NotificationOutcome, ctx: HookContext): Awaitable<void>;
  /**
   * A notification send failed: `error.outcome` "retry" (tried again later) or "dead" (given up: a
   * dead letter, `error.code` and `error.message` say why).
   */
  onNotificationFailed?(message: NotificationMessage, error: NotificationOutcome, ctx: HookContext): Awaitable<void>;

  /**
   * Before an alarm is persisted. Return the alarm (possibly changed), `null` to suppress it, or
   * nothing to leave it unchanged. Only the wording, grading and details can change: `id`, `ruleId`,
   * `resource.id`, `status` and the timestamps stay the agent's (docs/hooks.md).
   */
  beforeAlarm?(
    alarm: Alarm,
    device: DeviceState,
    rule: RuleDefinition,
    ctx: HookContext,
  ): Awaitable<Alarm | null | undefined>;
  /**
   * Before an upstream request body is built (`kind`: "alert.add", "alert.update", "workorder.create",
   * "workorder.complete", "webhook", "heartbeat"). Return the payload (possibly changed), `null` to skip
   * sending it, or nothing to leave it unchanged.
   */
  beforeUpload?(kind: string, payload: unknown, ctx: HookContext): Awaitable<unknown>;
  /**
   * Before a device's status changes. Only one hook may define it (a second one is refused at load).
   * Return the change (possibly with another `status` and `reason`) or nothing to apply it, `null` to
   * keep the old status, or throw ProcessingError / InvalidDataInput / PermissionDenied to keep it with
   * the error's message as the reason. Any other throw, or a timeout, applies the original change.
   */
  beforeDeviceStatus?(
    change: HookStatusChange,
    ctx: HookContext,
  ): Awaitable<Pick<HookStatusChange, "status" | "reason"> | HookStatusChange | null | undefined>;
  /**
   * Before an authenticated local API request reaches its handler (every hook that defines it, in
   * load order). Return nothing to let it pass, or the request with another `body` (POST) to change
   * what the handler sees; throw PermissionDenied (403) / InvalidDataInput / ProcessingError (400) to
   * refuse it. Any other throw, or a timeout, lets the request pass.
   */
  beforeRequest?(req: ApiRequest, ctx: HookContext): Awaitable<ApiRequest | null | undefined>;
  /**
   * Custom KPIs for the heartbeat and the status page: `{name: number}`, asked for "today", "month"
   * and "year". Answers are cached (today 1 min, month 1 h, year 1 day, and anew when the local
   * period changes), so a costly year figure is not recomputed for every heartbeat.
   */
  kpis?(period: KpiPeriod, ctx: HookContext): Awaitable<Record<string, number>>;
  /**
   * Before a notification is sent (every hook that defines it, in load order). Return the message
   * (possibly with another `subject`, `text`, `html` or `to`) or nothing to send it, `null` to veto it
   * (its outbox row is settled "skipped", vetoed by this hook). A throw or a timeout sends the message
   * as it was.
   */
  beforeNotify?(message: NotificationMessage, ctx: HookContext): Awaitable<NotificationMessage | null | undefined>;

  /**
   * Names of the notification channels this hook provides: a rule's `actions["channel:<name>"]`
   * is delivered by its `sendNotification` (docs/hooks.md, custom channels).
   */
  channels?: readonly string[];
  /**
   * Sends one message on a channel named in `channels`; `message.to` is the address the rule gave.
   * Resolve when the message was accepted. Any throw (or a timeout) is retried with backoff; a thrown
   * ProcessingError is final: the message is dead-lettered with the error's message.
   */
  sendNotification?(channel: string, message: NotificationMessage, ctx: HookContext): Awaitable<void>;
}

/** A hook written as a class: constructed with the context, then `start(ctx)` is called. */
export type HookClass = new (ctx: HookContext) => Hook;

/** What a hook module's default export may be. */
export type HookModule = Hook | HookClass;

export const OBSERVER_METHODS = [
  "onReading",
  "onRawMessage",
  "onAlarmCreated",
  "onAlarmResolved",
  "onDeviceStatusChanged",
  "onQuotaExceeded",
  "onWorkOrderCreated",
  "onWorkOrderCompleted",
  "onDayClosed",
  "onNotificationSent",
  "onNotificationFailed",
] as const;
export type ObserverMethod = (typeof OBSERVER_METHODS)[number];

export const INTERCEPTOR_METHODS = [
  "beforeAlarm",
  "beforeUpload",
  "beforeDeviceStatus",
  "beforeRequest",
  "beforeNotify",
] as const;
export type InterceptorMethod = (typeof INTERCEPTOR_METHODS)[number];
/**
 * Methods only one running hook may define (a second hook defining one is refused at load), with
 * what they intercept, for the refusal's message.
 */
export const EXCLUSIVE_METHODS: Readonly<Partial<Record<InterceptorMethod, string>>> = {
  beforeDeviceStatus: "device status changes",
};
export const LIFECYCLE_METHODS = ["start", "stop", "kpis", "onTick"] as const;
/** What a hook that provides notification channels (its `channels`) defines. */
export const CHANNEL_METHODS = ["sendNotification"] as const;
export const HOOK_METHODS: readonly string[] = [
  ...OBSERVER_METHODS,
  ...INTERCEPTOR_METHODS,
  ...LIFECYCLE_METHODS,
  ...CHANNEL_METHODS,
];
