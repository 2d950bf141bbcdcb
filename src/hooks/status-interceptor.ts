// beforeDeviceStatus (docs/hooks.md#beforedevicestatus): the one hook that owns it may change a
// device status change about to happen, or veto it. The verdict follows what the hook did:
// returned the change or nothing → apply it (with the returned status and reason); null → veto;
// threw a typed hook error → veto with the error's message; anything else (a plain throw, a
// timeout, an answer that is not a change) → the original change applies and the failure is logged
// and counted as for any hook, so a broken hook never pins a device in its old status.

import type { Logger } from "../core/log.js";
import type { DeviceStatusChange, DeviceStatusInterceptor, DeviceStatusVerdict } from "../core/ports.js";
import type { DeviceStatus } from "../core/types.js";
import type { AnyFn, HookCaller, InterceptorSlot } from "./call.js";
import type { Hook, HookStatusChange } from "./types.js";

const STATUSES: ReadonlySet<string> = new Set<DeviceStatus>(["unknown", "online", "offline", "alarm", "maintenance"]);
const METHOD = "beforeDeviceStatus";
/** The reason of a veto by `null`, when the hook gave none. */
export const VETO_REASON = "Blocked by hook";

export class StatusInterceptor implements DeviceStatusInterceptor {
  readonly #caller: HookCaller;
  readonly #log: Logger;
  #owner: InterceptorSlot | undefined;

  constructor(caller: HookCaller, log: Logger) {
    this.#caller = caller;
    this.#log = log;
  }

  /** The running hook that defines beforeDeviceStatus (at most one: exclusive.ts refuses a second). */
  rebuild(running: readonly InterceptorSlot[]): void {
    this.#owner = running.find((s) => s.methods.has(METHOD));
  }

  get active(): boolean {
    return this.#owner !== undefined;
  }

  async beforeDeviceStatus(change: DeviceStatusChange): Promise<DeviceStatusVerdict> {
    const original: DeviceStatusVerdict = { apply: true, status: change.to, reason: change.reason };
    const slot = this.#owner;
    if (slot === undefined) return original;
    const hook = slot.hook as Hook;
    const input: HookStatusChange = {
      deviceId: change.device.id,
      device: change.device,
      oldStatus: change.from,
      status: change.to,
      reason: change.reason,
    };
    const res = await this.#caller.call(
      slot,
      METHOD,
      () => (hook.beforeDeviceStatus as AnyFn).call(hook, input, slot.ctx),
      true,
    );
    if (!res.ok) {
      if (res.refusal === undefined) return original;
      const { kind, error } = res.refusal;
      return this.#veto(slot.name, change, kind, error.message || VETO_REASON);
    }
    const v = res.value;
    if (v === undefined) return original;
    if (v === null) return this.#veto(slot.name, change, "veto", VETO_REASON);
    const answer = readAnswer(v, change);
    if (typeof answer === "string") {
      this.#caller.failure(slot, METHOD, new TypeError(answer));
      return original;
    }
    if (answer.status !== change.to || answer.reason !== change.reason) {
      this.#log.info(
        { hook: slot.name, deviceId: change.device.id, from: change.from, to: change.to, ...answer },
        "device status change rewritten by hook",
      );
    }
    return { apply: true, ...answer };
  }

  #veto(
    hook: string,
    change: DeviceStatusChange,
    kind: "veto" | "processing" | "invalid" | "denied",
    reason: string,
  ): DeviceStatusVerdict {
    this.#log.info(
      { hook, deviceId: change.device.id, from: change.from, to: change.to, kind, reason },
      `device status change vetoed by hook ${hook}: ${reason}`,
    );
    return { apply: false, reason, hook, kind };
  }
}

/** The status and reason a hook answered, or why its answer is not one (a string). */
function readAnswer(v: unknown, change: DeviceStatusChange): { status: DeviceStatus; reason: string } | string {
  if (typeof v !== "object" || Array.isArray(v) || v === null) {
    return `returned ${Array.isArray(v) ? "an array" : typeof v}, expected the change, null or nothing`;
  }
  const { status, reason } = v as { status?: unknown; reason?: unknown };
  if (status !== undefined && (typeof status !== "string" || !STATUSES.has(status))) {
    return `returned status ${JSON.stringify(status)}, expected one of ${[...STATUSES].join(", ")}`;
  }
  if (reason !== undefined && typeof reason !== "string") {
    return `returned reason ${JSON.stringify(reason)}, expected a string`;
  }
  return { status: (status as DeviceStatus | undefined) ?? change.to, reason: reason ?? change.reason };
}
