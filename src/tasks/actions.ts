// What each kind of task action does (docs/tasks.md, Actions, timeouts and retries). One try of one
// action: it resolves with what is worth recording (HTTP status, hook answer, alarm ids) or rejects
// with a message a site engineer can act on. Deadlines, retries and the run around it are runner.ts.

import type { Dispatcher } from "undici";
import type { AlarmOperator, AlarmQueries, HookInvoker, ModbusWriter, MqttPublisher } from "../core/ports.js";
import type { TaskAction, TaskActionResult, TaskDefinition, TaskTrigger } from "./types.js";

/** The agent's parts actions go through; an absent one makes its actions fail saying what is missing. */
export interface ActionPorts {
  modbus?: ModbusWriter | undefined;
  mqtt?: MqttPublisher | undefined;
  /** The shared HTTP client (keep-alive pool) for webhooks. */
  http?: Dispatcher | undefined;
  hooks?: HookInvoker | undefined;
  alarms?: { operator: AlarmOperator; queries: AlarmQueries } | undefined;
}

/** What one try knows of its run. */
export interface ActionContext {
  task: TaskDefinition;
  slot: number;
  trigger: TaskTrigger;
  /** The results of the actions before this one. */
  results: readonly TaskActionResult[];
  /** Aborted at the try's deadline (or when the agent stops): an HTTP request is cancelled with it. */
  signal: AbortSignal;
}

export class ActionError extends Error {
  /** Recorded with the failure (e.g. the HTTP status of a refused webhook). */
  readonly result: unknown;
  constructor(message: string, result?: unknown) {
    super(message);
    this.name = "ActionError";
    this.result = result;
  }
}

function missing(what: string, hint: string): never {
  throw new ActionError(`${what} is not available: ${hint}`);
}

export async function runAction(action: TaskAction, ports: ActionPorts, ctx: ActionContext): Promise<unknown> {
  switch (action.type) {
    case "modbus.write": {
      const m = ports.modbus ?? missing("Modbus", "no Modbus devices are configured (modbus.devices)");
      await m.write(action.device, action.point, action.value);
      return { device: action.device, point: action.point, value: action.value };
    }
    case "mqtt.publish": {
      const p = ports.mqtt ?? missing("MQTT", "the agent has no MQTT connection (mqtt section)");
      const payload = typeof action.payload === "string" ? action.payload : JSON.stringify(action.payload ?? null);
      await p.publish(action.topic, payload, { qos: action.qos ?? 0, retain: action.retain ?? false });
      return { topic: action.topic, bytes: Buffer.byteLength(payload) };
    }
    case "webhook":
      return webhook(action, ports, ctx);
    case "hook": {
      const h = ports.hooks ?? missing("Hooks", "the agent runs no hooks");
      return await h.invoke(action.hook, action.method, action.args ?? null);
    }
    case "alarm.raise": {
      const a = ports.alarms ?? missing("The alarm store", "the agent is starting or stopping");
      const input: Parameters<AlarmOperator["raise"]>[0] = { name: action.name };
      if (action.level !== undefined) input.level = action.level;
      if (action.title !== undefined) input.title = action.title;
      if (action.message !== undefined) input.message = action.message;
      if (action.device !== undefined) input.deviceId = action.device;
      if (action.details !== undefined) input.details = action.details;
      const alarm = await a.operator.raise(input, by(ctx.task));
      return { alarmId: alarm.id };
    }
    case "alarm.resolve": {
      const a = ports.alarms ?? missing("The alarm store", "the agent is starting or stopping");
      // Only alarms raised by hand or by a task (no rule): a rule's alarm resolves when its condition clears.
      const open = a.queries
        .active()
        .filter(
          (x) =>
            x.origin === "operator" &&
            x.name === action.name &&
            (action.device === undefined || x.resource.id === action.device),
        );
      const resolved: string[] = [];
      const remark = action.remark ?? `resolved by task ${ctx.task.name}`;
      for (const x of open) {
        const r = await a.operator.resolve(x.id, by(ctx.task), remark);
        if (r !== null) resolved.push(r.id);
      }
      return { resolved };
    }
  }
}

const by = (task: TaskDefinition): string => `task:${task.id}`;

async function webhook(
  action: Extract<TaskAction, { type: "webhook" }>,
  ports: ActionPorts,
  ctx: ActionContext,
): Promise<unknown> {
  const http = ports.http ?? missing("The HTTP client", "the agent is starting or stopping");
  const method = action.method ?? "POST";
  const headers: Record<string, string> = { ...action.headers };
  let body: string | undefined;
  if (method !== "GET") {
    const doc =
      action.body !== undefined
        ? action.body
        : {
            task: { id: ctx.task.id, name: ctx.task.name },
            slot: ctx.slot,
            trigger: ctx.trigger,
            results: ctx.results,
          };
    body = JSON.stringify(doc);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
      headers["content-type"] = "application/json";
  }
  let url: URL;
  try {
    url = new URL(action.url);
  } catch {
    throw new ActionError(`webhook url "${action.url}" is not a valid URL`);
  }
  const res = await http.request({
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
    signal: ctx.signal,
  });
  // The answer's body is not kept: drained so the connection goes back to the pool.
  await res.body.dump().catch(() => undefined);
  if (res.statusCode < 200 || res.statusCode >= 300) {
    throw new ActionError(`${method} ${url.origin}${url.pathname} answered HTTP ${res.statusCode}`, {
      status: res.statusCode,
    });
  }
  return { status: res.statusCode };
}
