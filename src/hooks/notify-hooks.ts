// The hooks' part in notifications (docs/hooks.md): the beforeNotify chain (in load order, each hook
// gets what the previous one returned; null vetoes; a throw or a timeout keeps the message as it was)
// and the channels hooks provide (`channels: ["sms"]` + `sendNotification`). Every call goes through
// the hooks' containment (deadline, error counting, the activity the watchdog reads).

import type { Logger } from "../core/log.js";
import type { HookChannelResult, HookChannels, NotificationDelivery, NotifyInterceptor } from "../core/notify-ports.js";
import type { NotificationMessage } from "../notify/types.js";
import type { AnyFn, HookCaller, InterceptorSlot } from "./call.js";
import type { Hook } from "./types.js";

/** What a hook may change of a message; the rest stays the agent's. */
const CHANGEABLE = ["subject", "text", "html", "to"] as const;

export class NotifyHooks implements NotifyInterceptor<NotificationMessage>, HookChannels<NotificationMessage> {
  readonly #caller: HookCaller;
  readonly #log: Logger;
  #before: InterceptorSlot[] = [];
  /** Channel name → the first running hook (load order) that provides it. */
  #channels = new Map<string, InterceptorSlot>();

  constructor(caller: HookCaller, log: Logger) {
    this.#caller = caller;
    this.#log = log;
  }

  rebuild(running: readonly InterceptorSlot[]): void {
    this.#before = running.filter((s) => s.methods.has("beforeNotify"));
    const channels = new Map<string, InterceptorSlot>();
    for (const slot of running) {
      if (!slot.methods.has("sendNotification")) continue;
      const names = (slot.hook as Hook | null)?.channels;
      if (!Array.isArray(names)) continue;
      for (const name of names) {
        if (typeof name !== "string" || name === "") continue;
        const owner = channels.get(name);
        if (owner !== undefined) {
          this.#log.warn(
            { hook: slot.name, channel: name, owner: owner.name },
            `hook ${slot.name}: channel "${name}" is already provided by hook ${owner.name}, which keeps it`,
          );
          continue;
        }
        channels.set(name, slot);
      }
    }
    this.#channels = channels;
  }

  get active(): boolean {
    return this.#before.length > 0;
  }

  async beforeNotify(
    message: NotificationMessage,
    delivery: NotificationDelivery,
  ): Promise<{ message: NotificationMessage } | { vetoedBy: string }> {
    let cur = message;
    for (const slot of this.#before) {
      const hook = slot.hook as Hook;
      const input = copy(cur);
      const res = await this.#caller.call(slot, "beforeNotify", () =>
        (hook.beforeNotify as AnyFn).call(hook, input, slot.ctx),
      );
      if (!res.ok) continue;
      if (res.value === null) {
        this.#log.info(
          { hook: slot.name, channel: cur.channel, alarmId: delivery.alarmId, seq: delivery.seq },
          "notification vetoed by hook",
        );
        return { vetoedBy: slot.name };
      }
      const next = res.value === undefined ? input : res.value;
      if (typeof next !== "object" || next === null || Array.isArray(next)) {
        this.#caller.failure(
          slot,
          "beforeNotify",
          new TypeError(`returned ${typeof next}, expected the message, null or nothing`),
        );
        continue;
      }
      cur = merge(cur, next as Partial<NotificationMessage>);
    }
    return { message: cur };
  }

  provider(channel: string): string | undefined {
    return this.#channels.get(channel)?.name;
  }

  async send(
    channel: string,
    message: NotificationMessage,
    _delivery: NotificationDelivery,
  ): Promise<HookChannelResult> {
    const slot = this.#channels.get(channel);
    if (slot === undefined || slot.hook === null) {
      return { ok: false, permanent: false, message: `no running hook provides the channel "${channel}"` };
    }
    const hook = slot.hook;
    const input = copy(message);
    const errorsBefore = slot.errors;
    const res = await this.#caller.call(
      slot,
      "sendNotification",
      () => (hook.sendNotification as AnyFn).call(hook, channel, input, slot.ctx),
      true,
    );
    if (res.ok) return { ok: true };
    if (res.refusal !== undefined) {
      // A typed error is the hook's verdict: this message will never go (e.g. the gateway refused the number).
      return { ok: false, permanent: true, message: `hook ${slot.name}: ${res.refusal.error.message}` };
    }
    const why = slot.errors > errorsBefore ? (slot.lastError ?? "threw") : "timed out (hooks.timeoutMs)";
    return { ok: false, permanent: false, message: `hook ${slot.name}: ${why}` };
  }
}

function copy<T>(v: T): T {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}

/** The hook's changes to the wording and address; channel, transition and alarm stay the agent's. */
function merge(base: NotificationMessage, next: Partial<NotificationMessage>): NotificationMessage {
  const out: NotificationMessage = { ...base };
  for (const k of CHANGEABLE) {
    const v = next[k];
    if (typeof v === "string") out[k] = v;
  }
  return out;
}
