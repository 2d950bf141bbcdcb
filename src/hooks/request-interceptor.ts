// beforeRequest (docs/hooks.md#beforerequest): every hook that defines it sees each authenticated
// local API request, in load order, before the handler. A hook refuses by throwing a typed hook
// error (PermissionDenied → 403 100403; InvalidDataInput / ProcessingError → 400 104001), or passes
// a POST on with another body. Any other throw, or a timeout, is logged and counted and the request
// PASSES: a broken guard must not lock operators out of resolving alarms in the middle of an
// incident. Each hook gets its own copy of the request, so what a failed hook changed is dropped.

import type { Logger } from "../core/log.js";
import type { ApiRequest, ApiRequestVerdict, RequestInterceptor } from "../core/ports.js";
import type { AnyFn, HookCaller, InterceptorSlot, Refusal } from "./call.js";
import type { Hook } from "./types.js";

const METHOD = "beforeRequest";
const PASS: ApiRequestVerdict = { ok: true };

/** The local API's answers to a refusal (docs/errors.md#local-api-codes). */
const DENIED = { httpStatus: 403, code: 100403 } as const;
const INVALID = { httpStatus: 400, code: 104001 } as const;

export class RequestHooks implements RequestInterceptor {
  readonly #caller: HookCaller;
  readonly #log: Logger;
  #chain: InterceptorSlot[] = [];

  constructor(caller: HookCaller, log: Logger) {
    this.#caller = caller;
    this.#log = log;
  }

  rebuild(running: readonly InterceptorSlot[]): void {
    this.#chain = running.filter((s) => s.methods.has(METHOD));
  }

  get active(): boolean {
    return this.#chain.length > 0;
  }

  async beforeRequest(req: ApiRequest): Promise<ApiRequestVerdict> {
    let body = req.body;
    let changed = false;
    for (const slot of this.#chain) {
      const hook = slot.hook as Hook;
      const input: ApiRequest = structuredClone({ ...req, body });
      const res = await this.#caller.call(
        slot,
        METHOD,
        () => (hook.beforeRequest as AnyFn).call(hook, input, slot.ctx),
        true,
      );
      if (!res.ok) {
        if (res.refusal !== undefined) return this.#refuse(slot.name, req, res.refusal);
        continue;
      }
      const v = res.value;
      if (v === undefined || v === null || req.method !== "POST") continue;
      if (typeof v !== "object" || Array.isArray(v)) {
        this.#caller.failure(slot, METHOD, new TypeError(`returned ${typeof v}, expected the request or nothing`));
        continue;
      }
      const next = (v as { body?: unknown }).body;
      if (next === body) continue;
      if (typeof next !== "object" || next === null || Array.isArray(next)) {
        this.#caller.failure(
          slot,
          METHOD,
          new TypeError(
            `returned a request whose body is ${next === null ? "null" : typeof next}, expected a JSON object`,
          ),
        );
        continue;
      }
      body = next as Record<string, unknown>;
      changed = true;
      this.#log.debug({ hook: slot.name, path: req.path }, "request body rewritten by hook");
    }
    return changed ? { ok: true, body } : PASS;
  }

  #refuse(hook: string, req: ApiRequest, { kind, error }: Refusal): ApiRequestVerdict {
    const message = error.message || (kind === "denied" ? "Permission denied" : "Invalid data input");
    this.#log.info(
      { hook, method: req.method, path: req.path, remote: req.remote, kind, reason: message },
      `local API request refused by hook ${hook}: ${req.method} ${req.path}: ${message}`,
    );
    const answer = kind === "denied" ? DENIED : INVALID;
    const verdict: ApiRequestVerdict = { ok: false, ...answer, message, hook };
    if (kind === "invalid") verdict.fields = fieldsOf(error);
    return verdict;
  }
}

/** InvalidDataInput's fields as strings (a hook's own class of that name may carry anything). */
function fieldsOf(error: Error): Record<string, string> {
  const f = (error as { fields?: unknown }).fields;
  const out: Record<string, string> = {};
  if (typeof f !== "object" || f === null || Array.isArray(f)) return out;
  for (const [k, v] of Object.entries(f)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}
