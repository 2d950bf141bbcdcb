// The facade a hook sees (docs/hooks.md, the context): read-only copies of device state, alarm queries, Modbus
// writes, an HTTP client on the agent's dispatcher and a key/value store in the kv table under the
// hook's name. It never exposes the database, the event bus or live mutable state.

import { type Dispatcher, request } from "undici";
import { redactConfig } from "../config/redact-config.js";
import type { Config } from "../config/schema.js";
import { AgentError } from "../core/errors.js";
import { InvalidDataInput, PermissionDenied, ProcessingError } from "../core/hook-errors.js";
import type { Logger } from "../core/log.js";
import type { MaintenanceControl, MaintenanceResult } from "../core/maintenance-ports.js";
import type { AlarmQueries, DeviceView, ModbusWriter } from "../core/ports.js";
import type { DeviceState, MetricValue } from "../core/types.js";
import type { Db } from "../store/db.js";
import { KvRepo } from "../store/kv-repo.js";
import type { HookContext, HookErrors, HookHttp, HookHttpRequest, HookHttpResponse, HookKv } from "./types.js";

/** ctx.errors: the typed errors, for a hook that cannot import them from the package. */
const ERRORS: HookErrors = Object.freeze({ ProcessingError, InvalidDataInput, PermissionDenied });

export interface ContextDeps {
  config: Readonly<Config>;
  db: Db;
  log: Logger;
  devices: DeviceView;
  alarms: AlarmQueries;
  modbus?: ModbusWriter | undefined;
  http?: Dispatcher | undefined;
  timeoutMs: number;
  /** ctx.devices.setMaintenance; absent: it rejects saying maintenance is not available. */
  maintenance?: MaintenanceControl | undefined;
}

function copyDevice(d: DeviceState): DeviceState {
  return Object.freeze({ ...d, values: Object.freeze({ ...d.values }) }) as DeviceState;
}

/** A hook's ctx.kv: JSON values in the kv table under namespace `ns` (the hook's name). */
export function createKv(repo: KvRepo, ns: string): HookKv {
  return {
    get<T>(key: string): T | undefined {
      const value = repo.get(ns, key);
      return value === undefined ? undefined : (JSON.parse(value) as T);
    },
    set(key: string, value: unknown): void {
      if (value === undefined) {
        repo.delete(ns, key);
        return;
      }
      repo.set(ns, key, JSON.stringify(value));
    },
    delete(key: string): boolean {
      return repo.delete(ns, key);
    },
    keys(): string[] {
      return repo.keys(ns);
    },
  };
}

export function createHttp(dispatcher: Dispatcher | undefined, defaultTimeoutMs: number): HookHttp {
  const doRequest = async (url: string, init: HookHttpRequest = {}): Promise<HookHttpResponse> => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    let body: string | Uint8Array | undefined = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
        headers["content-type"] = "application/json";
      }
    }
    const timeoutMs = init.timeoutMs ?? defaultTimeoutMs;
    const res = await request(url, {
      method: (init.method ?? (body !== undefined ? "POST" : "GET")) as Dispatcher.HttpMethod,
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(dispatcher ? { dispatcher } : {}),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.body.text();
    return {
      status: res.statusCode,
      headers: res.headers as Record<string, string | string[] | undefined>,
      text,
      json<T>(): T {
        return JSON.parse(text) as T;
      },
    };
  };
  return {
    request: doRequest,
    postJson: (url, body, init = {}) => doRequest(url, { ...init, method: "POST", json: body }),
  };
}

export function createContext(name: string, deps: ContextDeps): HookContext {
  const { devices, alarms, modbus } = deps;
  return Object.freeze({
    name,
    log: deps.log.child({ hook: name }),
    // Hooks get no secrets (tokens, passwords, app secrets read [REDACTED]): what a hook needs
    // from the platform goes through ctx.http with credentials of its own. Idempotent when the
    // agent already passed the redacted config.
    config: redactConfig(deps.config),
    devices: Object.freeze({
      get(id: string): DeviceState | undefined {
        const d = devices.get(id);
        return d === undefined ? undefined : copyDevice(d);
      },
      list(): DeviceState[] {
        return devices.list().map(copyDevice);
      },
      async setMaintenance(deviceId: string, on: boolean, opts: { until?: number | string; reason?: string } = {}) {
        const control = deps.maintenance;
        if (control === undefined) throw new ProcessingError("maintenance is not available on this agent");
        const r = await control.set(deviceId, on, { until: opts.until, reason: opts.reason, by: `hook:${name}` });
        if (!r.ok) throw maintenanceError(r);
        return r.status;
      },
    }),
    alarms: Object.freeze({
      get: (id: string) => alarms.get(id),
      list: (q: Parameters<AlarmQueries["list"]>[0]) => alarms.list(q),
      active: () => alarms.active(),
    }),
    modbus: Object.freeze({
      write(deviceId: string, point: string, value: MetricValue): Promise<void> {
        if (modbus === undefined) {
          return Promise.reject(
            new AgentError(
              "EA_MODBUS_WRITE",
              `hook ${name}: cannot write ${deviceId}.${point}: Modbus is not configured`,
            ),
          );
        }
        return modbus.write(deviceId, point, value);
      },
    }),
    http: Object.freeze(createHttp(deps.http, deps.timeoutMs)),
    kv: Object.freeze(createKv(new KvRepo(deps.db), name)),
    errors: ERRORS,
  });
}

/** A refused maintenance request as the typed error a hook would throw for the same reason. */
function maintenanceError(r: Extract<MaintenanceResult, { ok: false }>): Error {
  if (r.refusal === "vetoed") {
    if (r.kind === "denied") return new PermissionDenied(r.message);
    if (r.kind === "invalid") return new InvalidDataInput(r.message);
    return new ProcessingError(r.message);
  }
  return new InvalidDataInput({ [r.field ?? "deviceId"]: r.message });
}
