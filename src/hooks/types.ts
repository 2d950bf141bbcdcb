// The contract between the agent and a hook module (docs/hooks.md): every method is optional, observers
// return nothing the agent waits for, interceptors return the (possibly changed) input or null.
// These types are the hook author's manual: `import type { Hook, HookContext } from "edge-agent"`.

import type { Config } from "../config/schema.js";
import type { Logger } from "../core/log.js";
import type { AlarmListQuery, KpiPeriod } from "../core/ports.js";
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
   * "workorder.complete", "webhook"). Return the payload (possibly changed), `null` to skip
   * sending it, or nothing to leave it unchanged.
   */
  beforeUpload?(kind: string, payload: unknown, ctx: HookContext): Awaitable<unknown>;
  /** Custom KPIs for the heartbeat and the status page: `{name: number}`. */
  kpis?(period: KpiPeriod, ctx: HookContext): Awaitable<Record<string, number>>;
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
] as const;
export type ObserverMethod = (typeof OBSERVER_METHODS)[number];

export const INTERCEPTOR_METHODS = ["beforeAlarm", "beforeUpload"] as const;
export const LIFECYCLE_METHODS = ["start", "stop", "kpis"] as const;
export const HOOK_METHODS: readonly string[] = [...OBSERVER_METHODS, ...INTERCEPTOR_METHODS, ...LIFECYCLE_METHODS];
