// Runs the site's hook modules (docs/hooks.md): finds them in hooks.dir, loads, reloads and unloads
// them (serialised through one queue, so a watcher event, the periodic rescan and an API call never
// race), keeps a hook that froze the agent in quarantine, and exposes the ports the rest of the agent
// uses. The work is delegated: call containment (deadline, failure, the activity markers the
// watchdog reads) is call.ts, observer queues are observers.ts, the interceptor chains are
// interceptors.ts (which hook may own an exclusive one: exclusive.ts), directory watching is
// core/dir-watch.ts.
//
// Why this file is still over 400 lines: what remains is one state machine (loaded slots, failed,
// disabled, forced and unloaded names) that every entry point (rescan, API load/unload, stop) changes
// under the one serial queue; split across files, each would have to re-learn the others' invariants.

import { basename } from "node:path";
import type { Dispatcher } from "undici";
import type { ResolvedHooksConfig } from "../config/defaults.js";
import type { Config } from "../config/schema.js";
import type { Clock } from "../core/clock.js";
import { DirWatch } from "../core/dir-watch.js";
import { errorMessage, type Problem } from "../core/errors.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { MaintenanceControl } from "../core/maintenance-ports.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type {
  AdminResult,
  AlarmInterceptor,
  AlarmQueries,
  DeviceStatusInterceptor,
  DeviceView,
  HookAdmin,
  HookInfo,
  KpiPeriod,
  KpiProvider,
  ModbusWriter,
  RequestInterceptor,
  UploadInterceptor,
} from "../core/ports.js";
import type { Alarm, DeviceState, RuleDefinition } from "../core/types.js";
import type { Db } from "../store/db.js";
import { HookActivity } from "./activity.js";
import { type AnyFn, HookCaller } from "./call.js";
import { createContext } from "./context.js";
import { ExclusiveGuard } from "./exclusive.js";
import { type FailedHook, hookList } from "./hook-list.js";
import { Interceptors } from "./interceptors.js";
import { invokeHookMethod } from "./invoke.js";
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
import type { NotifyHooks } from "./notify-hooks.js";
import { type ObserverSlot, ObserverTables } from "./observers.js";
import { fileSha256, quarantineRefusal } from "./quarantine.js";
import { HookTicker } from "./tick.js";
import type { Hook, HookContext } from "./types.js";

export interface HookManagerOptions {
  dir: string;
  /** What hooks see as ctx.config (secrets masked). */
  config: Readonly<Config>;
  hooksConfig: ResolvedHooksConfig;
  db: Db;
  clock: Clock;
  log: Logger;
  events: EventBus;
  metrics: MetricsRegistry;
  devices: DeviceView;
  alarms: AlarmQueries;
  /** ctx.devices.setMaintenance (maintenance switched at run time). */
  maintenance?: MaintenanceControl | undefined;
  modbus?: ModbusWriter | undefined;
  http?: Dispatcher | undefined;
  /** Watch hooksDir for edits (default true). */
  watch?: boolean;
  /** Period of the rescan that backs up fs.watch (RESCAN_MS unless a test wants it faster). */
  rescanMs?: number;
  /** Where the running hook is recorded for the watchdog and the exit guard (default: a private one). */
  activity?: HookActivity | undefined;
  /** Directory of hook-quarantine.json; without it no hook is ever quarantined. */
  dataDir?: string | undefined;
}

/** How often hooksDir is listed again, in case fs.watch missed an edit (ms). */
const RESCAN_MS = 1000;

/** A loaded hook: its module, context, state, event queue and counters. */
interface Slot extends ObserverSlot {
  file: string;
  mtimeMs: number;
  ctx: HookContext;
  methods: Set<string>;
  state: HookInfo["state"];
}

export class HookManager implements HookAdmin, AlarmInterceptor, UploadInterceptor, KpiProvider {
  readonly #o: HookManagerOptions;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #disabled: readonly string[];
  /** Loaded hooks in load order (file-name order). */
  #slots: Slot[] = [];
  /** Imports that failed for a name with no running version, keyed by name (retried when the mtime changes). */
  readonly #failed = new Map<string, FailedHook>();
  /** Names unloaded through the API: not reloaded by the rescan until loaded again. */
  readonly #unloaded = new Set<string>();
  /** Files present but listed in hooks.disabled (shown as "disabled"). */
  #disabledFiles: HookFile[] = [];
  /** Names loaded through the API although hooks.disabled lists them. */
  readonly #forced = new Set<string>();
  #op: Promise<unknown> = Promise.resolve();
  readonly #dirWatch: DirWatch;
  #running = false;
  readonly #activity: HookActivity;
  readonly #caller: HookCaller;
  readonly #observers: ObserverTables;
  readonly #interceptors: Interceptors;
  readonly #ticker: HookTicker;
  #generation = 0;
  /** The AlarmInterceptor port: `active` only while some running hook defines beforeAlarm. */
  readonly alarmInterceptor: AlarmInterceptor;
  /** The UploadInterceptor port: `active` only while some running hook defines beforeUpload. */
  readonly uploadInterceptor: UploadInterceptor;
  /** The DeviceStatusInterceptor port: `active` only while a running hook owns beforeDeviceStatus. */
  readonly statusInterceptor: DeviceStatusInterceptor;
  /** The RequestInterceptor port: `active` only while some running hook defines beforeRequest. */
  readonly requestInterceptor: RequestInterceptor;
  /** beforeNotify (`active` only while some running hook defines it) and the channels hooks provide. */
  readonly notifyHooks: NotifyHooks;
  readonly #exclusive = new ExclusiveGuard();

  constructor(opts: HookManagerOptions) {
    this.#o = opts;
    this.#log = opts.log;
    const hc = opts.hooksConfig;
    this.#timeoutMs = hc.timeoutMs;
    this.#disabled = hc.disabled;
    this.#activity = opts.activity ?? new HookActivity();
    this.#caller = new HookCaller({
      clock: opts.clock,
      log: opts.log,
      metrics: opts.metrics,
      activity: this.#activity,
      timeoutMs: this.#timeoutMs,
    });
    this.#observers = new ObserverTables({
      events: opts.events,
      log: opts.log,
      metrics: opts.metrics,
      caller: this.#caller,
      queueSize: hc.queueSize,
    });
    this.#interceptors = new Interceptors(this.#caller, opts.log);
    this.alarmInterceptor = this.#interceptors.alarm;
    this.#ticker = new HookTicker({
      clock: opts.clock,
      caller: this.#caller,
      metrics: opts.metrics,
      intervalMs: hc.tickIntervalMs ?? 0,
    });
    this.uploadInterceptor = this.#interceptors.upload;
    this.statusInterceptor = this.#interceptors.status;
    this.requestInterceptor = this.#interceptors.request;
    this.notifyHooks = this.#interceptors.notify;
    this.#dirWatch = new DirWatch({
      dir: opts.dir,
      what: "hooks",
      clock: opts.clock,
      log: opts.log,
      periodMs: opts.rescanMs ?? RESCAN_MS,
      onChange: () => {
        if (!this.#running) return;
        this.#serial(() => this.#rescan()).catch((err: unknown) => this.#log.error({ err }, "hooks rescan failed"));
      },
    });
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  async start(): Promise<void> {
    this.#running = true;
    if (this.#o.watch !== false) this.#dirWatch.open();
    await this.#serial(() => this.#rescan());
    if (this.#o.watch !== false) this.#dirWatch.startPeriodic();
    this.#ticker.start();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#dirWatch.close();
    this.#ticker.stop();
    await this.#serial(async () => {
      for (const slot of [...this.#slots].reverse()) await this.#stopSlot(slot, "shutdown");
      this.#slots = [];
      this.#rebuild();
    });
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
    if (this.#o.watch !== false && files.length > 0) this.#dirWatch.ensure();
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
      // A hook refused for an exclusive method another hook owned is tried again once that is gone.
      const freed = this.#exclusive.retry(f.name, () => this.#runningSlots());
      if (slot !== undefined && slot.file === f.file && slot.mtimeMs === f.mtimeMs && !freed) continue;
      const failed = this.#failed.get(f.name);
      if (slot === undefined && failed?.file === f.file && failed.mtimeMs === f.mtimeMs && !freed) continue;
      await this.#loadFile(f);
    }
    for (const slot of [...this.#slots]) {
      if (!seen.has(slot.name) || (isDisabled(slot, this.#disabled) && !this.#forced.has(slot.name))) {
        this.#log.info({ hook: slot.name, file: slot.file }, "hook file removed: unloading");
        await this.#stopSlot(slot, "removed");
        this.#removeSlot(slot);
      }
    }
    for (const name of [...this.#failed.keys()]) {
      if (seen.has(name)) continue;
      this.#failed.delete(name);
      this.#exclusive.forget(name);
    }
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
      return this.#notLoaded(f, message);
    };

    this.#exclusive.forget(f.name);
    const sha256 = fileSha256(f.file);
    const quarantined = quarantineRefusal(this.#o.dataDir, f.name, f.file, sha256, this.#log);
    if (quarantined !== undefined) return this.#notLoaded(f, quarantined, true);
    const ident = this.#activity.register(f.name, f.file, sha256);

    let mod: Record<string, unknown>;
    try {
      mod = await this.#caller.importing(ident.id, () => importFresh(f.file, f.mtimeMs));
    } catch (err) {
      return fail(`import failed: ${errorMessage(err)}`, err);
    }
    const r = resolveExport(mod);
    if (!r.ok) {
      this.#log.warn({ hook: f.name, file: f.file }, `skipping ${f.file}: not a hook: ${r.reason}`);
      return this.#notLoaded(f, `not a hook: ${r.reason}`);
    }
    const ctx = old?.ctx ?? this.#context(f.name);
    let hook: Hook;
    if (r.kind === "class") {
      const ctor = r.ctor;
      try {
        hook = this.#caller.constructing(ident.id, () => new ctor(ctx));
      } catch (err) {
        return fail(`constructor threw: ${errorMessage(err)}`, err);
      }
    } else hook = r.hook;
    for (const name of unknownMethods(hook)) {
      this.#log.warn({ hook: f.name, file: f.file }, `hook ${f.name}: unknown method ${describeUnknown(name)}`);
    }
    const methods = hookMethods(hook);
    const refused = this.#exclusive.check({ name: f.name, file: f.file, methods }, this.#runningSlots());
    if (refused !== undefined) return fail(refused);

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
        errors: 0,
        timeouts: 0,
        ...this.#observers.queueFor(f.name),
      };
      this.#slots.push(slot);
      this.#slots.sort((a, b) => (basename(a.file) < basename(b.file) ? -1 : 1));
    }
    this.#failed.delete(f.name);
    slot.hook = hook;
    slot.mtimeMs = f.mtimeMs;
    slot.methods = new Set(methods);
    delete slot.lastError;
    if (typeof hook.start === "function") {
      const res = await this.#caller.call(slot, "start", () => (hook.start as AnyFn).call(hook, ctx));
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
    this.#observers.kick(slot);
    return [];
  }

  /**
   * Records why this version of a file was not loaded: on the running version, if any (which keeps
   * running), else as a failed name. Either way the same file is not retried at every rescan.
   */
  #notLoaded(f: HookFile, message: string, quarantined = false): Problem[] {
    const old = this.#slots.find((s) => s.name === f.name);
    if (old !== undefined) {
      old.lastError = message;
      old.mtimeMs = f.mtimeMs;
    } else {
      this.#failed.set(f.name, {
        file: f.file,
        mtimeMs: f.mtimeMs,
        error: message,
        ...(quarantined ? { quarantined } : {}),
      });
    }
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
      await this.#caller.call(slot, "stop", () => (hook.stop as AnyFn).call(hook));
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
      maintenance: this.#o.maintenance,
    });
  }

  #runningSlots(): Slot[] {
    return this.#slots.filter((s) => s.state === "running");
  }

  /** Recomputes who gets what after a hook started or stopped. */
  #rebuild(): void {
    const running = this.#runningSlots();
    this.#observers.rebuild(running);
    this.#interceptors.rebuild(running);
    this.#ticker.rebuild(running);
    this.#generation++;
  }

  // ---- interceptors --------------------------------------------------------------------------

  /**
   * True when some running hook defines beforeAlarm or beforeUpload (one class serves both ports;
   * `alarmInterceptor` / `uploadInterceptor` give the exact per-point answer).
   */
  get active(): boolean {
    return this.#interceptors.alarmActive || this.#interceptors.uploadActive;
  }

  beforeAlarm(alarm: Alarm, device: DeviceState, rule: RuleDefinition): Promise<Alarm | null> {
    return this.#interceptors.beforeAlarm(alarm, device, rule);
  }

  beforeUpload(kind: string, payload: unknown): Promise<unknown | null> {
    return this.#interceptors.beforeUpload(kind, payload);
  }

  /** Changes whenever the running hooks change (what a KPI cache keys its answers on). */
  get generation(): number {
    return this.#generation;
  }

  kpis(period: KpiPeriod): Promise<Record<string, number>> {
    return this.#interceptors.kpis(period);
  }

  /** Calls a named method of a running hook (a task's hook action, hooks/invoke.ts); rejects saying why it could not. */
  invoke(hook: string, method: string, args: unknown): Promise<unknown> {
    const slot = this.#slots.find((s) => s.name === hook);
    return invokeHookMethod(this.#caller, slot, hook, method, args);
  }

  // ---- administration ------------------------------------------------------------------------

  list(): HookInfo[] {
    return hookList(
      this.#slots.map((s) => this.#info(s)),
      this.#failed,
      this.#disabledFiles,
    );
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
    const skipped = this.#ticker.skipped(s.name);
    if (skipped !== undefined && s.methods.has("onTick")) info.ticksSkipped = skipped;
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
