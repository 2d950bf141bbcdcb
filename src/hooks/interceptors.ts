// The hook methods whose answer the agent waits for: beforeAlarm and beforeUpload (chained in load,
// i.e. file-name, order: each hook gets what the previous one returned) and kpis (asked of every hook
// at once, merged). Each hook gets its own copy of the input, so a hook that changes it and then
// throws or times out leaves nothing behind: the chain goes on with the previous value.
// beforeDeviceStatus (status-interceptor.ts) and beforeRequest (request-interceptor.ts) are rebuilt
// from the same running hooks here.

import { applyHookChanges } from "../alarms/identity.js";
import type { Logger } from "../core/log.js";
import type {
  AlarmInterceptor,
  DeviceStatusInterceptor,
  KpiPeriod,
  RequestInterceptor,
  UploadInterceptor,
} from "../core/ports.js";
import type { Alarm, DeviceState, RuleDefinition } from "../core/types.js";
import type { AnyFn, HookCaller, InterceptorSlot } from "./call.js";
import { NotifyHooks } from "./notify-hooks.js";
import { RequestHooks } from "./request-interceptor.js";
import { StatusInterceptor } from "./status-interceptor.js";
import type { Hook } from "./types.js";

export type { InterceptorSlot } from "./call.js";

function clone<T>(v: T): T {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}

export class Interceptors {
  readonly #caller: HookCaller;
  readonly #log: Logger;
  #beforeAlarm: InterceptorSlot[] = [];
  #beforeUpload: InterceptorSlot[] = [];
  #kpis: InterceptorSlot[] = [];
  /** The AlarmInterceptor port: `active` only while some running hook defines beforeAlarm. */
  readonly alarm: AlarmInterceptor;
  /** The UploadInterceptor port: `active` only while some running hook defines beforeUpload. */
  readonly upload: UploadInterceptor;
  readonly #status: StatusInterceptor;
  readonly #request: RequestHooks;
  /** beforeNotify and the channels hooks provide (notify-hooks.ts). */
  readonly notify: NotifyHooks;

  constructor(caller: HookCaller, log: Logger) {
    this.#caller = caller;
    this.#log = log;
    this.alarm = new AlarmPort(this);
    this.upload = new UploadPort(this);
    this.#status = new StatusInterceptor(caller, log);
    this.#request = new RequestHooks(caller, log);
    this.notify = new NotifyHooks(caller, log);
  }

  /** The DeviceStatusInterceptor port: `active` only while a running hook owns beforeDeviceStatus. */
  get status(): DeviceStatusInterceptor {
    return this.#status;
  }

  /** The RequestInterceptor port: `active` only while some running hook defines beforeRequest. */
  get request(): RequestInterceptor {
    return this.#request;
  }

  /** Recomputes the chains from the running hooks (in load order). */
  rebuild(running: readonly InterceptorSlot[]): void {
    this.#beforeAlarm = running.filter((s) => s.methods.has("beforeAlarm"));
    this.#beforeUpload = running.filter((s) => s.methods.has("beforeUpload"));
    this.#kpis = running.filter((s) => s.methods.has("kpis"));
    this.#status.rebuild(running);
    this.#request.rebuild(running);
    this.notify.rebuild(running);
  }

  get alarmActive(): boolean {
    return this.#beforeAlarm.length > 0;
  }

  get uploadActive(): boolean {
    return this.#beforeUpload.length > 0;
  }

  async beforeAlarm(alarm: Alarm, device: DeviceState, rule: RuleDefinition): Promise<Alarm | null> {
    let cur = alarm;
    for (const slot of this.#beforeAlarm) {
      const hook = slot.hook as Hook;
      // The one copy the alarm path makes: the hook may change its argument freely.
      const input = clone(cur);
      const res = await this.#caller.call(slot, "beforeAlarm", () =>
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
        this.#caller.failure(
          slot,
          "beforeAlarm",
          new TypeError(`returned ${typeof next}, expected the alarm, null or nothing`),
        );
        continue;
      }
      // Checked after every hook, so the next one never sees an identity a previous hook forged.
      cur = applyHookChanges(alarm, next);
    }
    return cur;
  }

  async beforeUpload(kind: string, payload: unknown): Promise<unknown | null> {
    let cur = payload;
    for (const slot of this.#beforeUpload) {
      const hook = slot.hook as Hook;
      const input = clone(cur);
      const res = await this.#caller.call(slot, "beforeUpload", () =>
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
    const slots = this.#kpis;
    const results = await Promise.all(
      slots.map((slot) => {
        const hook = slot.hook as Hook;
        return this.#caller.call(slot, "kpis", () => (hook.kpis as AnyFn).call(hook, period, slot.ctx));
      }),
    );
    results.forEach((res, i) => {
      if (!res.ok || res.value === null || typeof res.value !== "object") return;
      for (const [k, v] of Object.entries(res.value as Record<string, unknown>)) {
        if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
        else this.#log.debug({ hook: slots[i]?.name, kpi: k }, "kpi ignored: not a finite number");
      }
    });
    return out;
  }
}

/** The alarm service's view of the hooks; `active` lets it skip the await when no hook intercepts. */
class AlarmPort implements AlarmInterceptor {
  readonly #ic: Interceptors;
  constructor(ic: Interceptors) {
    this.#ic = ic;
  }
  get active(): boolean {
    return this.#ic.alarmActive;
  }
  beforeAlarm(alarm: Alarm, device: DeviceState, rule: RuleDefinition): Promise<Alarm | null> {
    return this.#ic.beforeAlarm(alarm, device, rule);
  }
}

/** The dispatcher's view of the hooks; `active` lets it skip the await when no hook intercepts. */
class UploadPort implements UploadInterceptor {
  readonly #ic: Interceptors;
  constructor(ic: Interceptors) {
    this.#ic = ic;
  }
  get active(): boolean {
    return this.#ic.uploadActive;
  }
  beforeUpload(kind: string, payload: unknown): Promise<unknown | null> {
    return this.#ic.beforeUpload(kind, payload);
  }
}
