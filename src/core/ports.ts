// The seams between subsystems. Each subsystem implements its side and receives the others'
// through these interfaces, so tests can drive any part with real neighbours or small fakes,
// and the composition root (src/app.ts) is the only place that knows every concrete class.
//
// Data flows one way: sources → pipeline (ReadingSink) → rules (RuleEngine) → alarms (AlarmTracker)
// → store/outbox (AlarmChangeSink, same transaction) → upstream. Hooks observe via core/events and
// intercept at two named points (AlarmInterceptor, UploadInterceptor).

import type { Problem } from "./errors.js";
import type { Alarm, DeviceState, DeviceStatus, MetricValue, Reading, RuleDefinition } from "./types.js";

// ---- sources → pipeline ---------------------------------------------------------------------

export interface ReadingSink {
  /** Hot path: synchronous, never throws, never awaits. The reading is handed over: the caller must not change it afterwards. */
  ingest(reading: Reading): void;
  /** A source's view of reachability (Modbus: N failed polls; MQTT: silence > N × interval). */
  setReachable(deviceId: string, reachable: boolean, reason?: string): void;
}

// ---- rules → alarms -------------------------------------------------------------------------

/** 0: neither condition holds; 1: warnConditions hold (pre-warning); 2: conditions hold. */
export type ConditionLevel = 0 | 1 | 2;

export interface CompiledRule {
  readonly def: RuleDefinition;
  /** The rule file it came from (or "api" / "quota:<id>"). */
  readonly file: string;
  /** Evaluates conditions / warnConditions over the facts. Synchronous, allocation-free where possible. */
  level(facts: Readonly<Record<string, unknown>>): ConditionLevel;
}

export interface RuleEngine {
  /**
   * Evaluates every enabled rule that applies to the device (product `key` and `did`), after type
   * gating (`change`: fact value changed; `event`: reading.event === fact; active window), and calls
   * `onResult` for a (rule, device) only when its level is non-zero, OR differs from the level last
   * reported for that pair, OR it is the pair's first evaluation since start or since the rule's
   * file was (re)loaded. A steady level 0 is therefore reported once, not on every reading.
   * A gated-out rule gives no result and does not count as an evaluation.
   * `facts` is the device's latest values merged with this reading's values.
   */
  evaluate(
    reading: Reading,
    facts: Readonly<Record<string, unknown>>,
    onResult: (rule: CompiledRule, level: ConditionLevel) => void,
  ): void;
  rules(): readonly CompiledRule[];
  /** Current problems of rule files (last good version stays in force). */
  problems(): readonly Problem[];
}

// ---- alarms ---------------------------------------------------------------------------------

export interface AlarmChange {
  kind: "created" | "updated" | "resolved";
  alarm: Alarm;
  /** The alarm as it was before this change (null for created). */
  previous: Alarm | null;
  rule: RuleDefinition | null;
  device: DeviceState;
  /** Who/what caused it: "rule", "operator", "quota", "restart"… and a human remark. */
  cause: { by: string; remark: string };
  now: number;
  /**
   * A firing of a rule with `actions.alarm: false`: not an alarm (no alert rows, no alarm events);
   * `alarm` is its local record, which the rule's work order and webhook refer to.
   */
  firing?: boolean;
}

export interface AlarmTracker {
  /** Hot path, synchronous: the level a rule gave for a device at this reading. */
  observe(rule: CompiledRule, device: DeviceState, level: ConditionLevel, reading: Reading): void;
  /** Rules were reloaded: forget state of removed rules (their open alarms are resolved). */
  rulesChanged(rules: readonly CompiledRule[]): void;
  /** Operator resolve from the local API. Resolves when committed; null when no such open alarm. */
  resolve(alarmId: string, by: string, remark: string): Promise<Alarm | null>;
  /** Commits everything pending (shutdown, tests). */
  flush(): Promise<void>;
}

/** Written inside the alarm's transaction: the outbox rows caused by alarm changes (docs/upstream.md). */
export interface AlarmChangeSink {
  writeInTransaction(changes: readonly AlarmChange[]): void;
}

/** The platform's sortable alarm fields. */
export type AlarmSortField =
  | "created"
  | "level"
  | "message"
  | "name"
  | "period"
  | "status"
  | "title"
  | "type"
  | "updated";

export interface AlarmListQuery {
  offset?: number;
  /** Default 100, at most 1000. */
  limit?: number;
  /** Default "asc", as on the platform. */
  order?: "asc" | "desc";
  orderBy?: AlarmSortField;
  /** Free text (substring, case-insensitive for ASCII) over name, title, message. */
  q?: string;
  did?: string;
  /** Product key of the device. */
  key?: string;
  /** "active" = status > 0. */
  status?: 0 | 1 | 2 | "active" | "all";
  /** Only alarms with a silenced repeat at or after this epoch ms, newest repeat first (status page). */
  recurringSince?: number;
}

/** What an operator asks for through /alert/add (the platform's fields). */
export interface ManualAlarmInput {
  name: string;
  level?: number;
  title?: string;
  message?: string;
  status?: 1 | 2;
  deviceId?: string;
  location?: Record<string, unknown> | null;
  details?: Record<string, unknown>;
  recipient?: unknown;
  /** A work order for it: true, or the work-order fields (priority, alarmType, description…). */
  workOrder?: boolean | Record<string, unknown>;
}

export type AlarmRemoval =
  | { ok: true; alarm: Alarm }
  | { ok: false; reason: "not-found" }
  | { ok: false; reason: "active" | "delivering"; alarm: Alarm; pending?: number };

/** Operator actions on alarms from the local API; each resolves once committed. */
export interface AlarmOperator {
  raise(input: ManualAlarmInput, by: string): Promise<Alarm>;
  /** Changes level / title / message in place; undefined when no such alarm. */
  amend(
    alarmId: string,
    changes: { level?: number; title?: string; message?: string },
    by: string,
  ): Promise<Alarm | undefined>;
  resolve(alarmId: string, by: string, remark: string): Promise<Alarm | null>;
  /** Removes a resolved alarm locally; an active one, or one still being delivered, is kept. */
  remove(alarmId: string): Promise<AlarmRemoval>;
}

export interface AlarmQueries {
  get(id: string): Alarm | undefined;
  list(query: AlarmListQuery): { total: number; alarms: Alarm[] };
  active(): Alarm[];
}

/** Which devices have an open (committed) alarm: what a device's `alarm` status is derived from. */
export interface OpenAlarmView {
  has(deviceId: string): boolean;
  /** `listener` runs after a commit in which a device gained its first open alarm or lost its last. */
  onChange(listener: (deviceId: string, hasOpenAlarm: boolean) => void): () => void;
}

// ---- hooks interception points --------------------------------------------------------------

export interface AlarmInterceptor {
  /** True when any loaded hook defines beforeAlarm (lets the alarm path skip the await). */
  readonly active: boolean;
  /** Must leave `alarm` unchanged (it is the agent's copy); answers a changed copy or null. */
  beforeAlarm(alarm: Alarm, device: DeviceState, rule: RuleDefinition): Promise<Alarm | null>;
}

export interface UploadInterceptor {
  readonly active: boolean;
  beforeUpload(kind: string, payload: unknown): Promise<unknown | null>;
}

/** A device status change about to happen (docs/hooks.md, beforeDeviceStatus). */
export interface DeviceStatusChange {
  /** The device as it is before the change (a copy). */
  device: DeviceState;
  from: DeviceStatus;
  to: DeviceStatus;
  /** Why, in words: "poll failed", "reading", "alarm raised", "maintenance on: panel work"… */
  reason: string;
}

/** The interceptor's answer: apply (possibly another status or reason), or keep the old status. */
export type DeviceStatusVerdict =
  | { apply: true; status: DeviceStatus; reason: string }
  /** Vetoed: `kind` "veto" when the hook answered null, else the typed error it threw (core/hook-errors.ts). */
  | { apply: false; reason: string; hook: string; kind: "veto" | "processing" | "invalid" | "denied" };

export interface DeviceStatusInterceptor {
  /** True while a running hook owns beforeDeviceStatus (lets the registry skip the await). */
  readonly active: boolean;
  beforeDeviceStatus(change: DeviceStatusChange): Promise<DeviceStatusVerdict>;
}

/** A local API request as beforeRequest sees it: never the token, never other headers. */
export interface ApiRequest {
  method: "GET" | "POST";
  path: string;
  query: Record<string, string>;
  /** The parsed JSON body of a POST (undefined for GET). */
  body: Record<string, unknown> | undefined;
  /** The client's address. */
  remote: string;
}

export type ApiRequestVerdict =
  | { ok: true; body?: Record<string, unknown> | undefined }
  | { ok: false; code: number; httpStatus: number; message: string; hook: string; fields?: Record<string, string> };

export interface RequestInterceptor {
  readonly active: boolean;
  beforeRequest(req: ApiRequest): Promise<ApiRequestVerdict>;
}

export type KpiPeriod = "today" | "month" | "year";
export interface KpiProvider {
  kpis(period: KpiPeriod): Promise<Record<string, number>>;
}

// ---- daily statistics -----------------------------------------------------------------------

/** One numeric metric of one device over a closed local day. */
export interface MetricDayStats {
  min: number;
  max: number;
  avg: number;
  /** Readings that carried the metric as a finite number. */
  count: number;
}

/** A closed local day (docs/hooks.md, onDayClosed; GET /stats/day). */
export interface DayStats {
  /** The local date in config.timezone, "YYYY-MM-DD". */
  date: string;
  /** Per device, per numeric metric. */
  devices: Record<string, Record<string, MetricDayStats>>;
  /** Per quota id: the usage counted during that day. */
  quotas: Record<string, number>;
}

/** What the local API reads of the stored days. */
export interface DayStatsQueries {
  /** The stored summary of `date`, or of the latest closed day when `date` is undefined. */
  day(date?: string): DayStats | undefined;
}

// ---- device view, modbus writes, outbox stats ------------------------------------------------

export interface DeviceView {
  get(id: string): DeviceState | undefined;
  list(): readonly DeviceState[];
}

export interface ModbusWriter {
  /** Encodes `value` by the point's type and order and writes it. Rejects with AgentError on failure. */
  write(deviceId: string, point: string, value: MetricValue): Promise<void>;
}

/** Publishes on the agent's MQTT connection (task actions). Rejects when the broker is not connected. */
export interface MqttPublisher {
  publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1 | 2; retain: boolean }): Promise<void>;
}

/** Calls a named method of a running hook under the hooks' containment (deadline, errors, activity). */
export interface HookInvoker {
  /** Resolves with what the method answered; rejects when the hook or method is unknown, it throws or times out. */
  invoke(hook: string, method: string, args: unknown): Promise<unknown>;
}

export interface OutboxSummary {
  pending: number;
  delivered: number;
  deadLetters: number;
  oldestPendingAgeS: number;
  dropped: number;
  paused: boolean;
  lastErrors: Record<string, { at: number; message: string } | undefined>;
  /** The most recent dead letter: why it was refused, with the platform's code and msg when it answered one. */
  lastDeadLetter?: DeadLetterInfo | null;
  /** Notifications per channel (email, wecom, robot, channel:<name>). */
  notifications?: Record<string, ChannelCounts>;
}

/** One notification channel's rows within the outbox's retention. */
export interface ChannelCounts {
  pending: number;
  sent: number;
  /** Settled without sending: resolved before the group's delay, vetoed by a hook. */
  skipped: number;
  /** Dead letters: refused for good (an unknown user, a mailbox that does not exist). */
  failed: number;
}

export interface DeadLetterInfo {
  seq: number;
  kind: string;
  alarmId: string | null;
  at: number;
  error: string | null;
  /** The platform's answer code (e.g. a work-order API `code`), when the refusal carried one. */
  code?: string;
  msg?: string;
}

export interface OutboxStats {
  summary(now: number): OutboxSummary;
}

export interface Lifecycle {
  start(): Promise<void>;
  stop(): Promise<void>;
}

// ---- administration from the local API ------------------------------------------------------

export type AdminResult<T> = { ok: true; value: T } | { ok: false; problems: Problem[]; notFound?: boolean };

/** A rule in force: what the engine uses, what was written, where it lives, what is wrong with it. */
export interface RuleEntry {
  /** Normalized: id set, level and period as numbers. */
  def: RuleDefinition;
  /** The rule as written in its file or API body, with its id (the API answers with this). */
  doc: Record<string, unknown>;
  file: string;
  /** Warnings about this rule, and errors of a newer version of its file that is not in force. */
  problems: Problem[];
}

/** Rule CRUD: validated exactly like rule files, written atomically into rulesDir, applied at once. */
export interface RuleAdmin {
  /** The rules in force, by file name, then in file order. */
  entries(): RuleEntry[];
  get(id: string): RuleEntry | undefined;
  add(rule: unknown): Promise<AdminResult<RuleEntry>>;
  update(rule: unknown): Promise<AdminResult<RuleEntry>>;
  /** Answers with the rule as it was before it was deleted. */
  del(id: string): Promise<AdminResult<RuleEntry>>;
}

export interface HookInfo {
  name: string;
  file: string;
  /** "quarantined": it froze the agent (watchdog) and its file has not changed since; not loaded. */
  state: "running" | "stopped" | "failed" | "disabled" | "quarantined";
  methods: string[];
  errors: number;
  timeouts: number;
  dropped: number;
  lastError?: string;
  /** onTick calls skipped because the hook's previous onTick was still running (hooks that define onTick). */
  ticksSkipped?: number;
}

export interface HookAdmin {
  list(): HookInfo[];
  load(name: string): Promise<AdminResult<HookInfo>>;
  unload(name: string): Promise<AdminResult<{ name: string }>>;
}
