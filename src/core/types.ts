// Domain types shared by every part of the agent and by hook authors (re-exported from src/index.ts).

/** A metric value (Modbus points and writes). 64-bit integers beyond 2^53 are carried as exact decimal strings. */
export type MetricValue = number | boolean | string;

/**
 * A fact a rule can see: any JSON value, plus NaN and ±Infinity (a device may send 1e999, and a
 * Modbus float may decode to NaN). Numbers and booleans are also metrics (charts, quotas, statistics).
 */
export type FactValue = number | boolean | string | null | FactValue[] | { [key: string]: FactValue };

export type SourceKind = "mqtt" | "modbus" | "quota" | "internal";

/** One observation of a device, from a Modbus poll or an MQTT message (docs/mqtt.md). */
export interface Reading {
  deviceId: string;
  product: string;
  /** Epoch milliseconds: the device's timestamp when it sent one, else receive time. */
  ts: number;
  /** Every value of the message (MQTT: every key of the values object; Modbus: every point read). */
  values: Record<string, FactValue>;
  /** Event name when the device reported one (MQTT payload field `event`), for `type: "event"` rules. */
  event?: string;
  source: SourceKind;
}

/**
 * `unknown`: no poll outcome or message yet since the agent started (never reported as such to
 * the platform, whose vocabulary has only the other four: the heartbeat sends it as `offline`).
 */
export type DeviceStatus = "unknown" | "online" | "offline" | "alarm" | "maintenance";

/** Static description of a device: from config `devices`, Modbus devices or MQTT subscriptions. */
export interface DeviceInfo {
  id: string;
  product: string;
  name?: string;
  areaId?: number | string;
  location?: Record<string, unknown>;
}

/** Live view of a device as the pipeline knows it. Read-only outside the pipeline. */
export interface DeviceState extends DeviceInfo {
  status: DeviceStatus;
  /** Epoch ms of the last reading, null when none yet. */
  lastSeen: number | null;
  /** Latest value of every fact the device reported (a reading overwrites only the keys it carries). */
  values: Record<string, FactValue>;
  source: SourceKind;
}

export type AlarmStatus = 0 | 1 | 2;

export interface AlarmResource {
  id: string;
  name?: string;
  product: string;
  areaId?: number | string;
}

/** An alarm with the upstream platform's fields (docs/alarms.md). */
export interface Alarm {
  /** Local id: time-ordered, unique (also the upstream Idempotency-Key). */
  id: string;
  ruleId: string;
  name: string;
  title: string;
  message: string;
  type: string;
  /** 0–5: 5 fatal, 4 critical, 3/2 warning, 1/0 info. */
  level: number;
  /** 0 resolved, 1 pre-warning, 2 alarm. */
  status: AlarmStatus;
  resource: AlarmResource;
  location: Record<string, unknown> | null;
  /** The facts that triggered it and the thresholds. */
  details: Record<string, unknown>;
  period: number;
  created: number;
  updated: number;
  resolvedAt: number | null;
  upstreamId: string | null;
  /** Work-order id as an exact decimal string (64-bit ids exceed 2^53). */
  workOrderId: string | null;
  /** "operator" for an alarm raised by hand through /alert/add (work order 人工上报); absent: raised by a rule. */
  origin?: "rule" | "operator";
  /** New episodes of the same (rule, device) that began within `period` of this raise: kept local, not sent. */
  recurrences?: number;
  /** Epoch ms of the last suppressed recurrence. */
  lastRecurrence?: number | null;
  /** Recipient group an operator named in /alert/add (the platform's field), kept and returned. */
  recipient?: unknown;
  /** Why the alarm was kept local ("maintenance": raised while its device was in maintenance):
   *  nothing about it goes upstream, no work order, no webhook. Absent: an ordinary alarm. */
  suppressed?: string;
}

export type Operator =
  | "equal"
  | "notEqual"
  | "lessThan"
  | "lessThanInclusive"
  | "greaterThan"
  | "greaterThanInclusive"
  | "in"
  | "notIn"
  | "contains"
  | "doesNotContain";

export interface ConditionLeaf {
  fact: string;
  operator: Operator;
  value: unknown;
  path?: string;
  params?: Record<string, unknown>;
}
export interface ConditionAll {
  all: Condition[];
}
export interface ConditionAny {
  any: Condition[];
}
export interface ConditionNot {
  not: Condition;
}
export type Condition = ConditionLeaf | ConditionAll | ConditionAny | ConditionNot;
export type TopLevelCondition = ConditionAll | ConditionAny | ConditionNot;

export interface WorkOrderAction {
  priority?: 0 | 1 | 2 | 3;
  alarmType?: string;
  description?: string;
  triggerSource?: string;
  cameraId?: string;
  imageUrl?: string;
}

export interface RuleActions {
  /** false: the rule's other actions run when it fires, and no alarm is recorded or sent. */
  alarm?: boolean;
  workOrder?: WorkOrderAction;
  webhook?: string;
  /** Platform notification channels (docs/notifications.md): e-mail addresses, WeCom user ids. */
  email?: string;
  wechat?: string;
  /** A channel a hook provides, e.g. `"channel:sms": "+420…"`. */
  [channel: `channel:${string}`]: string | undefined;
}

/**
 * A rule as the engine and the alarm service use it: normalized from what the file or the API gave
 * (id always set, level and period as numbers, `interval` folded into `period`).
 */
export interface RuleDefinition {
  id: string;
  name: string;
  title?: string;
  message?: string;
  description?: string;
  /** Product key the rule applies to. */
  key: string;
  /** Device id; empty or absent = every device of the product. */
  did?: string;
  type: "rule" | "change" | "event";
  fact?: string;
  isEnable?: boolean;
  /** 0–5 (names mapped: fatal 5, critical 4, warning 3, info 1); 2 when the rule gives none. */
  level: number;
  /** Silence period, seconds (named periods and `interval` mapped); 0 or absent: every episode acts. */
  period?: number;
  /** Period `OFF`: alarms are recorded, no action or notification runs. */
  off?: boolean;
  /** Platform recipient group (id or object), kept and returned. */
  recipient?: unknown;
  created?: number | string;
  updated?: number | string;
  /** Active window in seconds of the local day. */
  start?: number;
  end?: number;
  /** Seconds the conditions must hold before the alarm is raised. */
  for?: number;
  conditions: TopLevelCondition;
  warnConditions?: TopLevelCondition;
  actions?: RuleActions;
}

/** Quota definition (docs/quotas.md). */
export interface QuotaDefinition {
  id: string;
  device: string;
  metric: string;
  period: "day" | "month";
  limit: number;
  warnAt?: number;
}

export interface QuotaUsage {
  quotaId: string;
  periodStart: number;
  usage: number;
  limit: number;
  ratio: number;
  /** The threshold passed: "warn" (warnAt × limit) or "limit". */
  crossed: "warn" | "limit";
}

/** A work order as created on the platform (docs/upstream.md). */
export interface WorkOrder {
  /** Exact decimal string of the platform's 64-bit id. */
  orderId: string;
  alarmId: string;
  title: string;
  areaId?: number | string;
  alarmType?: string;
  priority: number;
  remark?: string;
}
