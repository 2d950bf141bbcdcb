// Runs the site's hook modules (docs/hooks.md). Observers are fed from the EventBus by listeners that only
// enqueue into a bounded FIFO per hook; a per-hook drain loop calls the hook later, so ingestion never
// waits for a hook and each hook sees events in the order they happened. Interceptors run in load
// (file-name) order. Every call races hooks.timeoutMs on the injected clock; throws and timeouts are
// logged, counted and contained. Loads, reloads and unloads are serialised through one queue.

import { type FSWatcher, watch } from "node:fs";
import { basename } from "node:path";
import type { Dispatcher } from "undici";
import type { Config, HooksConfig } from "../config/schema.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import { AgentError, errorMessage, type Problem } from "../core/errors.js";
import type { EventBus, EventName } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { Counter, MetricsRegistry } from "../core/metrics.js";
import type {
  AdminResult,
  AlarmInterceptor,
  AlarmQueries,
  DeviceView,
  HookAdmin,
  HookInfo,
  KpiPeriod,
  KpiProvider,
  ModbusWriter,
  UploadInterceptor,
} from "../core/ports.js";
import type { Alarm, DeviceState, RuleDefinition } from "../core/types.js";
import type { Db } from "../store/db.js";
import { HookActivity, methodId } from "./activity.js";
import { createContext } from "./context.js";
import { BoundedFifo } from "./fifo.js";
import {
  describeUnknown,
  type HookFile,
  hookMethods,
  importFresh,
  isDisabled,
  listHookFiles,
  resolveExport,
  unknownMethods,
} from "./loader.js";
import { describeQuarantine, fileSha256, readQuarantine, writeQuarantine } from "./quarantine.js";
import { type Hook, type HookContext, OBSERVER_METHODS, type ObserverMethod } from "./types.js";

export interface HookManagerOptions {
  dir: string;
  config: Readonly<Config>;
  hooksConfig?: HooksConfig | undefined;
  db: Db;
  clock: Clock;
  log: Logger;
  events: EventBus;
  metrics: MetricsRegistry;
  devices: DeviceView;
  alarms: AlarmQueries;
  modbus?: ModbusWriter | undefined;
  http?: Dispatcher | undefined;
  /** Watch hooksDir for edits (default true). */
  watch?: boolean;
  /** Period of the rescan that backs up fs.watch (default 1000 ms). */
  rescanMs?: number;
  /** Where the running hook is recorded for the watchdog and the exit guard (default: a private one). */
  activity?: HookActivity | undefined;
  /** Directory of hook-quarantine.json; without it no hook is ever quarantined. */
  dataDir?: string | undefined;
}

const EVENT_OF: Record<ObserverMethod, EventName> = {
  onReading: "reading",
  onRawMessage: "rawMessage",
  onAlarmCreated: "alarmCreated",
  onAlarmResolved: "alarmResolved",
  onDeviceStatusChanged: "deviceStatusChanged",
  onQuotaExceeded: "quotaExceeded",
  onWorkOrderCreated: "workOrderCreated",
  onWorkOrderCompleted: "workOrderCompleted",
};

interface QueueItem {
  method: ObserverMethod;
  /** HookActivity id of `method`. */
  mid: number;
  args: unknown[];
}

const IMPORT_ID = methodId("import");
const CONSTRUCTOR_ID = methodId("constructor");

interface Slot {
  /** HookActivity id. */
  id: number;
  name: string;
  file: string;
  mtimeMs: number;
  hook: Hook | null;
  ctx: HookContext;
  methods: Set<string>;
  state: HookInfo["state"];
  queue: BoundedFifo<QueueItem>;
  draining: boolean;
  errors: number;
  timeouts: number;
  dropped: number;
  lastError?: string;
  dropCounter: { inc(by?: number): void };
}

/** Synchronous hook calls made in one go before the drain yields to the event loop. */
const SYNC_BATCH = 256;

type CallResult = { ok: true; value: unknown } | { ok: false };
const FAILED: CallResult = { ok: false };

type AnyFn = (...args: unknown[]) => unknown;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === "object" || typeof v === "function") &&
    typeof (v as { then?: unknown }).then === "function"
  );
}

function clone<T>(v: T): T {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}

export class HookManager implements HookAdmin, AlarmInterceptor, UploadInterceptor, KpiProvider {
  readonly #o: HookManagerOptions;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #queueSize: number;
  readonly #disabled: readonly string[];
  /** Loaded hooks in load order (file-name order). */
  #slots: Slot[] = [];
  /** Imports that failed for a name with no running version, keyed by name (retried when the mtime changes). */
  readonly #failed = new Map<string, { file: string; mtimeMs: number; error: string; quarantined?: boolean }>();
  /** Names unloaded through the API: not reloaded by the rescan until loaded again. */
  readonly #unloaded = new Set<string>();
  /** Files present but listed in hooks.disabled (shown as "disabled"). */
  #disabledFiles: HookFile[] = [];
  /** Names loaded through the API although hooks.disabled lists them. */
  readonly #forced = new Set<string>();
  readonly #tables = new Map<ObserverMethod, Slot[]>();
  readonly #unsubscribe = new Map<ObserverMethod, () => void>();
  #beforeAlarm: Slot[] = [];
  #beforeUpload: Slot[] = [];
  #kpis: Slot[] = [];
  #op: Promise<unknown> = Promise.resolve();
  #watcher: FSWatcher | null = null;
  #rescanTimer: TimerHandle | undefined;
  #debounce: TimerHandle | undefined;
  #running = false;
  readonly #errorsTotal: Counter;
  readonly #timeoutsTotal: Counter;
  readonly #droppedTotal: Counter;
  readonly #activity: HookActivity;
  readonly #mids = Object.fromEntries(OBSERVER_METHODS.map((m) => [m, methodId(m)])) as Record<ObserverMethod, number>;

  constructor(opts: HookManagerOptions) {
    this.#o = opts;
    this.#log = opts.log;
    const hc = opts.hooksConfig ?? opts.config.hooks ?? {};
    this.#timeoutMs = hc.timeoutMs ?? 5000;
    this.#queueSize = hc.queueSize ?? 1000;
    this.#disabled = hc.disabled ?? [];
    this.#activity = opts.activity ?? new HookActivity();
    this.#errorsTotal = opts.metrics.counter("edge_hook_errors_total", "Hook calls that threw, by hook and method");
    this.#timeoutsTotal = opts.metrics.counter(
      "edge_hook_timeouts_total",
      "Hook calls abandoned after hooks.timeoutMs, by hook and method",
    );
    this.#droppedTotal = opts.metrics.counter(
      "edge_hook_dropped_total",
      "Events dropped because a hook's queue was full, by hook",
    );
    Object.defineProperty(this.alarmInterceptor, "active", { get: () => this.#beforeAlarm.length > 0 });
    Object.defineProperty(this.uploadInterceptor, "active", { get: () => this.#beforeUpload.length > 0 });
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  async start(): Promise<void> {
    this.#running = true;
    if (this.#o.watch !== false) this.#startWatcher();
    await this.#serial(() => this.#rescan());
    if (this.#o.watch === false) return;
    this.#rescanTimer = this.#o.clock.setInterval(() => this.#scheduleRescan(0), this.#o.rescanMs ?? 1000);
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#o.clock.clearInterval(this.#rescanTimer);
    this.#o.clock.clearTimeout(this.#debounce);
    this.#watcher?.close();
    this.#watcher = null;
    await this.#serial(async () => {
      for (const slot of [...this.#slots].reverse()) await this.#stopSlot(slot, "shutdown");
      this.#slots = [];
      this.#rebuild();
    });
    // A rescan that was in flight may have started a watcher meanwhile.
    (this.#watcher as FSWatcher | null)?.close();
    this.#watcher = null;
  }

  /** Re-reads the hooks directory now (what the watcher does within 2 s). */
  rescan(): Promise<void> {
    return this.#serial(() => this.#rescan());
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#op.then(fn, fn);
    this.#op = run.catch(() => undefined);
    return run;
  }

  #startWatcher(): void {
    if (this.#watcher !== null || !this.#running) return;
    try {
      this.#watcher = watch(this.#o.dir, () => this.#scheduleRescan(100));
      this.#watcher.on("error", (err) => {
        this.#log.warn({ err, dir: this.#o.dir }, "hooks directory watch failed; relying on the periodic rescan");
        this.#watcher?.close();
        this.#watcher = null;
      });
    } catch (err) {
      // A missing directory is fine: the periodic rescan picks it up when it appears.
      this.#log.debug({ err, dir: this.#o.dir }, "hooks directory not watched");
    }
  }

  #scheduleRescan(delayMs: number): void {
    if (!this.#running) return;
    if (delayMs > 0) {
      this.#o.clock.clearTimeout(this.#debounce);
      this.#debounce = this.#o.clock.setTimeout(() => this.#scheduleRescan(0), delayMs);
      return;
    }
    this.#serial(() => this.#rescan()).catch((err: unknown) => this.#log.error({ err }, "hooks rescan failed"));
  }

  async #rescan(): Promise<void> {
    if (!this.#running) return;
    let files: HookFile[];
    try {
      files = await listHookFiles(this.#o.dir);
    } catch (err) {
      this.#log.error({ err, dir: this.#o.dir }, "cannot read hooks directory");
      return;
    }
    // The directory may have appeared after start: watch it from now on.
    if (this.#watcher === null && this.#o.watch !== false && files.length > 0) this.#startWatcher();
    const seen = new Set<string>();
    this.#disabledFiles = files.filter((f) => isDisabled(f, this.#disabled) && !this.#forced.has(f.name));
    for (const f of files) {
      if (seen.has(f.name)) {
        this.#log.warn({ file: f.file }, `hook ${f.name} is defined twice; ${basename(f.file)} is ignored`);
        continue;
      }
      seen.add(f.name);
      if (this.#unloaded.has(f.name)) continue;
      if (isDisabled(f, this.#disabled) && !this.#forced.has(f.name)) continue;
      const slot = this.#slots.find((s) => s.name === f.name);
      if (slot !== undefined && slot.file === f.file && slot.mtimeMs === f.mtimeMs) continue;
      const failed = this.#failed.get(f.name);
      if (slot === undefined && failed !== undefined && failed.file === f.file && failed.mtimeMs === f.mtimeMs)
        continue;
      await this.#loadFile(f);
    }
    for (const slot of [...this.#slots]) {
      if (!seen.has(slot.name) || (isDisabled(slot, this.#disabled) && !this.#forced.has(slot.name))) {
        this.#log.info({ hook: slot.name, file: slot.file }, "hook file removed: unloading");
        await this.#stopSlot(slot, "removed");
        this.#removeSlot(slot);
      }
    }
    for (const name of [...this.#failed.keys()]) if (!seen.has(name)) this.#failed.delete(name);
  }

  /** Imports a file and (re)starts its hook. A version that fails to import leaves the old one running. */
  async #loadFile(f: HookFile): Promise<Problem[]> {
    const old = this.#slots.find((s) => s.name === f.name);
    const fail = (message: string, err?: unknown): Problem[] => {
      const keep = old !== undefined && old.state === "running";
      this.#log.error(
        { hook: f.name, file: f.file, ...(err !== undefined ? { err } : {}) },
        keep
          ? `hook ${f.name}: new version not loaded (${message}); the previous version keeps running`
          : `hook ${f.name}: not loaded: ${message}`,
      );
      if (old !== undefined) {
        old.lastError = message;
        old.mtimeMs = f.mtimeMs; // do not retry the same broken file every rescan
      } else this.#failed.set(f.name, { file: f.file, mtimeMs: f.mtimeMs, error: message });
      return [{ file: f.file, path: "$", message }];
    };

    const sha256 = fileSha256(f.file);
    const quarantined = this.#checkQuarantine(f, sha256);
    if (quarantined !== undefined) return quarantined;
    const ident = this.#activity.register(f.name, f.file, sha256);

    let mod: Record<string, unknown>;
    // The module's top-level code runs during this import: mark it for the watchdog and exit guard.
    const prev = this.#activity.enter(ident.id, IMPORT_ID);
    try {
      mod = await importFresh(f.file, f.mtimeMs);
    } catch (err) {
      return fail(`import failed: ${errorMessage(err)}`, err);
    } finally {
      this.#activity.leave(prev);
    }
    const r = resolveExport(mod);
    if (!r.ok) {
      this.#log.warn({ hook: f.name, file: f.file }, `skipping ${f.file}: not a hook: ${r.reason}`);
      if (old !== undefined) old.lastError = `not a hook: ${r.reason}`;
      else this.#failed.set(f.name, { file: f.file, mtimeMs: f.mtimeMs, error: `not a hook: ${r.reason}` });
      if (old !== undefined) old.mtimeMs = f.mtimeMs;
      return [{ file: f.file, path: "$", message: `not a hook: ${r.reason}` }];
    }
    const ctx = old?.ctx ?? this.#context(f.name);
    let hook: Hook;
    if (r.kind === "class") {
      const before = this.#activity.enter(ident.id, CONSTRUCTOR_ID);
      try {
        hook = new r.ctor(ctx);
      } catch (err) {
        return fail(`constructor threw: ${errorMessage(err)}`, err);
      } finally {
        this.#activity.leave(before);
      }
    } else hook = r.hook;
    for (const name of unknownMethods(hook)) {
      this.#log.warn({ hook: f.name, file: f.file }, `hook ${f.name}: unknown method ${describeUnknown(name)}`);
    }

    let slot: Slot;
    if (old !== undefined) {
      await this.#stopSlot(old, "reload");
      slot = old;
      slot.file = f.file;
    } else {
      slot = {
        id: ident.id,
        name: f.name,
        file: f.file,
        mtimeMs: f.mtimeMs,
        hook: null,
        ctx,
        methods: new Set(),
        state: "stopped",
        queue: new BoundedFifo(this.#queueSize),
        draining: false,
        errors: 0,
        timeouts: 0,
        dropped: 0,
        dropCounter: this.#droppedTotal.bind({ hook: f.name }),
      };
      this.#slots.push(slot);
      this.#slots.sort((a, b) => (basename(a.file) < basename(b.file) ? -1 : 1));
    }
    this.#failed.delete(f.name);
    slot.hook = hook;
    slot.mtimeMs = f.mtimeMs;
    slot.methods = new Set(hookMethods(hook));
    delete slot.lastError;
    if (typeof hook.start === "function") {
      const res = await this.#call(slot, "start", () => (hook.start as AnyFn).call(hook, ctx));
      if (!res.ok) {
        slot.state = "failed";
        slot.queue.clear();
        this.#rebuild();
        return [{ file: f.file, path: "$.start", message: `start failed: ${slot.lastError ?? "timeout"}` }];
      }
    }
    slot.state = "running";
    this.#log.info(
      { hook: slot.name, file: slot.file, methods: [...slot.methods] },
      old !== undefined ? "hook reloaded" : "hook loaded",
    );
    this.#rebuild();
    this.#kick(slot);
    return [];
  }

  /**
   * Problems when the watchdog quarantined this hook and its file is unchanged since (it is then
   * not imported at all: its top-level code may be what froze the agent). A changed file leaves
   * the quarantine and loads normally.
   */
  #checkQuarantine(f: HookFile, sha256: string): Problem[] | undefined {
    const dataDir = this.#o.dataDir;
    if (dataDir === undefined) return undefined;
    const entries = readQuarantine(dataDir);
    const e = entries.get(f.name);
    if (e === undefined) return undefined;
    if (e.sha256 !== sha256 || sha256 === "") {
      entries.delete(f.name);
      try {
        writeQuarantine(dataDir, entries);
      } catch (err) {
        this.#log.warn({ err, hook: f.name }, "could not update hook-quarantine.json");
      }
      this.#log.info(
        { hook: f.name, file: f.file },
        `hook ${f.name} changed since it was quarantined: loading it again`,
      );
      return undefined;
    }
    const message = describeQuarantine(f.name, e);
    this.#log.error(
      { hook: f.name, file: f.file, method: e.method, quarantinedAt: e.at },
      `hook ${f.name}: ${message}`,
    );
    const old = this.#slots.find((s) => s.name === f.name);
    if (old !== undefined) {
      old.lastError = message;
      old.mtimeMs = f.mtimeMs;
    } else this.#failed.set(f.name, { file: f.file, mtimeMs: f.mtimeMs, error: message, quarantined: true });
    return [{ file: f.file, path: "$", message }];
  }

  async #stopSlot(slot: Slot, why: string): Promise<void> {
    const hook = slot.hook;
    const wasRunning = slot.state === "running";
    slot.state = "stopped";
    this.#rebuild();
    if (why !== "reload") {
      if (slot.queue.size > 0)
        this.#log.info({ hook: slot.name, pending: slot.queue.size }, "hook stopped with events pending");
      slot.queue.clear();
    }
    if (wasRunning && hook !== null && typeof hook.stop === "function") {
      await this.#call(slot, "stop", () => (hook.stop as AnyFn).call(hook));
    }
  }

  #removeSlot(slot: Slot): void {
    this.#slots = this.#slots.filter((s) => s !== slot);
    this.#rebuild();
  }

  #context(name: string): HookContext {
    return createContext(name, {
      config: this.#o.config,
      db: this.#o.db,
      log: this.#o.log,
      devices: this.#o.devices,
      alarms: this.#o.alarms,
      modbus: this.#o.modbus,
      http: this.#o.http,
      timeoutMs: this.#timeoutMs,
    });
  }

  // ---- observers -----------------------------------------------------------------------------

  /** Recomputes who gets what; subscribes to an event only while some running hook handles it. */
  #rebuild(): void {
    const running = this.#slots.filter((s) => s.state === "running");
    for (const m of OBSERVER_METHODS) {
      const list = running.filter((s) => s.methods.has(m));
      this.#tables.set(m, list);
      const sub = this.#unsubscribe.get(m);
      if (list.length > 0 && sub === undefined) {
        const listener = (...args: unknown[]): void => this.#dispatch(m, args);
        this.#unsubscribe.set(m, this.#o.events.on(EVENT_OF[m], listener as never));
      } else if (list.length === 0 && sub !== undefined) {
        sub();
        this.#unsubscribe.delete(m);
      }
    }
    this.#beforeAlarm = running.filter((s) => s.methods.has("beforeAlarm"));
    this.#beforeUpload = running.filter((s) => s.methods.has("beforeUpload"));
    this.#kpis = running.filter((s) => s.methods.has("kpis"));
  }

  /** Hot path (called synchronously by EventBus.emit): enqueue only. */
  #dispatch(method: ObserverMethod, args: unknown[]): void {
    const list = this.#tables.get(method);
    if (list === undefined) return;
    const item: QueueItem = { method, mid: this.#mids[method], args };
    for (let i = 0; i < list.length; i++) {
      const slot = list[i] as Slot;
      if (!slot.queue.push(item)) {
        slot.dropped++;
        slot.dropCounter.inc();
        if (slot.dropped === 1 || slot.dropped % 1000 === 0) {
          this.#log.warn(
            { hook: slot.name, dropped: slot.dropped, queueSize: this.#queueSize },
            `hook ${slot.name} is too slow: its queue is full and events are dropped`,
          );
        }
      } else this.#kick(slot);
    }
  }

  #kick(slot: Slot): void {
    if (slot.draining || slot.queue.size === 0 || slot.state !== "running") return;
    slot.draining = true;
    // Never run hook code inside the emitter's call: start the drain on a later turn.
    setImmediate(() => {
      this.#drain(slot).catch((err: unknown) => this.#log.error({ err, hook: slot.name }, "hook drain failed"));
    });
  }

  async #drain(slot: Slot): Promise<void> {
    let syncRun = 0;
    try {
      while (slot.state === "running" && slot.queue.size > 0) {
        const item = slot.queue.shift() as QueueItem;
        const hook = slot.hook;
        const fn = hook?.[item.method] as AnyFn | undefined;
        if (typeof fn !== "function") continue;
        const res = this.#observe(slot, item.method, item.mid, fn, hook as Hook, item.args);
        if (res !== undefined) {
          syncRun = 0;
          await res;
        } else if (++syncRun >= SYNC_BATCH) {
          // A hook that answers synchronously is drained in batches; yield so sources and timers run.
          syncRun = 0;
          await new Promise<void>((r) => setImmediate(r));
        }
      }
    } finally {
      slot.draining = false;
    }
    this.#kick(slot);
  }

  /** Observer call without per-call allocation when the hook answers synchronously (the common case). */
  #observe(
    slot: Slot,
    method: string,
    mid: number,
    fn: AnyFn,
    hook: Hook,
    args: unknown[],
  ): Promise<CallResult> | undefined {
    const ctx = slot.ctx;
    let r: unknown;
    const prev = this.#activity.enter(slot.id, mid);
    try {
      switch (args.length) {
        case 1:
          r = fn.call(hook, args[0], ctx);
          break;
        case 2:
          r = fn.call(hook, args[0], args[1], ctx);
          break;
        case 3:
          r = fn.call(hook, args[0], args[1], args[2], ctx);
          break;
        default:
          r = fn.call(hook, ...args, ctx);
      }
    } catch (err) {
      this.#failure(slot, method, err);
      return undefined;
    } finally {
      this.#activity.leave(prev);
    }
    if (!isThenable(r)) return undefined;
    return this.#call(slot, method, () => r) as Promise<CallResult>;
  }

  /** Calls a hook method with containment: a throw or rejection is logged and counted, a timeout abandons it. */
  #call(slot: Slot, method: string, thunk: () => unknown): Promise<CallResult> | CallResult {
    let r: unknown;
    const prev = this.#activity.enter(slot.id, methodId(method));
    try {
      r = thunk();
    } catch (err) {
      this.#failure(slot, method, err);
      return FAILED;
    } finally {
      this.#activity.leave(prev);
    }
    if (!isThenable(r)) return { ok: true, value: r };
    // Counted so the watchdog can name suspects when a continuation of an async call blocks.
    this.#activity.asyncStart(slot.id);
    return new Promise<CallResult>((resolve) => {
      let settled = false;
      const timer = this.#o.clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        slot.timeouts++;
        slot.lastError = `${method} timed out after ${this.#timeoutMs} ms`;
        this.#timeoutsTotal.inc({ hook: slot.name, method });
        const err = new AgentError(
          "EA_HOOK_TIMEOUT",
          `hook ${slot.name}: ${method} did not finish within ${this.#timeoutMs} ms (hooks.timeoutMs); call abandoned`,
        );
        this.#log.warn({ hook: slot.name, method, err }, err.message);
        resolve(FAILED);
      }, this.#timeoutMs);
      r.then(
        (value) => {
          this.#activity.asyncEnd(slot.id);
          if (settled) return;
          settled = true;
          this.#o.clock.clearTimeout(timer);
          resolve({ ok: true, value });
        },
        (err: unknown) => {
          this.#activity.asyncEnd(slot.id);
          if (settled) {
            this.#log.debug({ hook: slot.name, method, err }, "abandoned hook call failed later");
            return;
          }
          settled = true;
          this.#o.clock.clearTimeout(timer);
          this.#failure(slot, method, err);
          resolve(FAILED);
        },
      );
    });
  }

  #failure(slot: Slot, method: string, err: unknown): void {
    slot.errors++;
    slot.lastError = `${method}: ${errorMessage(err)}`;
    this.#errorsTotal.inc({ hook: slot.name, method });
    this.#log.error({ hook: slot.name, method, err }, `hook ${slot.name}: ${method} threw: ${errorMessage(err)}`);
  }

  // ---- interceptors --------------------------------------------------------------------------

  /**
   * True when some running hook defines beforeAlarm or beforeUpload (one class serves both ports;
   * `alarmInterceptor` / `uploadInterceptor` give the exact per-point answer).
   */
  get active(): boolean {
    return this.#beforeAlarm.length > 0 || this.#beforeUpload.length > 0;
  }

  /** The AlarmInterceptor view: `active` only while some hook defines beforeAlarm. */
  readonly alarmInterceptor: AlarmInterceptor = {
    get active(): boolean {
      return false;
    },
    beforeAlarm: (alarm, device, rule) => this.beforeAlarm(alarm, device, rule),
  };

  /** The UploadInterceptor view: `active` only while some hook defines beforeUpload. */
  readonly uploadInterceptor: UploadInterceptor = {
    get active(): boolean {
      return false;
    },
    beforeUpload: (kind, payload) => this.beforeUpload(kind, payload),
  };

  async beforeAlarm(alarm: Alarm, device: DeviceState, rule: RuleDefinition): Promise<Alarm | null> {
    let cur = alarm;
    for (const slot of this.#beforeAlarm) {
      const hook = slot.hook as Hook;
      const input = clone(cur);
      const res = await this.#call(slot, "beforeAlarm", () =>
        (hook.beforeAlarm as AnyFn).call(hook, input, device, rule, slot.ctx),
      );
      if (!res.ok) continue;
      if (res.value === null) {
        this.#log.info(
          { hook: slot.name, ruleId: alarm.ruleId, deviceId: alarm.resource.id },
          "alarm suppressed by hook",
        );
        return null;
      }
      const next = res.value === undefined ? input : res.value;
      if (typeof next !== "object" || next === null || Array.isArray(next)) {
        this.#failure(
          slot,
          "beforeAlarm",
          new TypeError(`returned ${typeof next}, expected the alarm, null or nothing`),
        );
        continue;
      }
      const a = next as Alarm;
      // The agent owns the alarm's identity: the outbox, the database and upstream key on it.
      cur = {
        ...a,
        id: alarm.id,
        ruleId: alarm.ruleId,
        created: alarm.created,
        resource: { ...(a.resource ?? alarm.resource), id: alarm.resource.id },
      };
    }
    return cur;
  }

  async beforeUpload(kind: string, payload: unknown): Promise<unknown | null> {
    let cur = payload;
    for (const slot of this.#beforeUpload) {
      const hook = slot.hook as Hook;
      const input = clone(cur);
      const res = await this.#call(slot, "beforeUpload", () =>
        (hook.beforeUpload as AnyFn).call(hook, kind, input, slot.ctx),
      );
      if (!res.ok) continue;
      if (res.value === null) {
        this.#log.info({ hook: slot.name, kind }, "upload skipped by hook");
        return null;
      }
      cur = res.value === undefined ? input : res.value;
    }
    return cur;
  }

  async kpis(period: KpiPeriod): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const results = await Promise.all(
      this.#kpis.map((slot) => {
        const hook = slot.hook as Hook;
        return this.#call(slot, "kpis", () => (hook.kpis as AnyFn).call(hook, period, slot.ctx));
      }),
    );
    results.forEach((res, i) => {
      if (!res.ok || res.value === null || typeof res.value !== "object") return;
      for (const [k, v] of Object.entries(res.value as Record<string, unknown>)) {
        if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
        else this.#log.debug({ hook: this.#kpis[i]?.name, kpi: k }, "kpi ignored: not a finite number");
      }
    });
    return out;
  }

  // ---- administration ------------------------------------------------------------------------

  list(): HookInfo[] {
    const out: HookInfo[] = this.#slots.map((s) => this.#info(s));
    for (const [name, f] of this.#failed) {
      out.push({
        name,
        file: f.file,
        state: f.quarantined === true ? "quarantined" : "failed",
        methods: [],
        errors: 0,
        timeouts: 0,
        dropped: 0,
        lastError: f.error,
      });
    }
    for (const f of this.#disabledFiles) {
      if (this.#slots.some((s) => s.name === f.name)) continue;
      out.push({ name: f.name, file: f.file, state: "disabled", methods: [], errors: 0, timeouts: 0, dropped: 0 });
    }
    return out;
  }

  /** Names configured in hooks.disabled (for the status page). */
  disabled(): readonly string[] {
    return this.#disabled;
  }

  #info(s: Slot): HookInfo {
    const info: HookInfo = {
      name: s.name,
      file: s.file,
      state: s.state,
      methods: [...s.methods],
      errors: s.errors,
      timeouts: s.timeouts,
      dropped: s.dropped,
    };
    if (s.lastError !== undefined) info.lastError = s.lastError;
    return info;
  }

  load(name: string): Promise<AdminResult<HookInfo>> {
    return this.#serial(async (): Promise<AdminResult<HookInfo>> => {
      const files = await listHookFiles(this.#o.dir);
      const f = files.find((x) => x.name === name || basename(x.file) === name);
      if (f === undefined) {
        return {
          ok: false,
          notFound: true,
          problems: [
            { file: this.#o.dir, path: "$.name", message: `no hook file ${name}.js or ${name}.mjs in ${this.#o.dir}` },
          ],
        };
      }
      this.#unloaded.delete(f.name);
      if (isDisabled(f, this.#disabled)) this.#forced.add(f.name);
      this.#disabledFiles = this.#disabledFiles.filter((d) => d.name !== f.name);
      this.#failed.delete(f.name);
      const problems = await this.#loadFile(f);
      const slot = this.#slots.find((s) => s.name === f.name);
      if (problems.length > 0 || slot === undefined) return { ok: false, problems };
      return { ok: true, value: this.#info(slot) };
    });
  }

  unload(name: string): Promise<AdminResult<{ name: string }>> {
    return this.#serial(async (): Promise<AdminResult<{ name: string }>> => {
      const slot = this.#slots.find((s) => s.name === name || basename(s.file) === name);
      if (slot === undefined) {
        return {
          ok: false,
          notFound: true,
          problems: [{ file: this.#o.dir, path: "$.name", message: `hook ${name} is not loaded` }],
        };
      }
      await this.#stopSlot(slot, "unload");
      this.#removeSlot(slot);
      this.#unloaded.add(slot.name);
      this.#forced.delete(slot.name);
      this.#log.info({ hook: slot.name }, "hook unloaded");
      return { ok: true, value: { name: slot.name } };
    });
  }
}
