// A fake upstream platform + work-order API on 127.0.0.1 for tests and benchmarks: records every
// request, answers by script (200/500/429/401/400, hang, close the socket), and checks the
// work-order signature with its own implementation of the signature rule (docs/upstream.md) over
// the bytes it received. A strict platform also refuses bodies without the fields the platform's
// API tables require (seed 003 for /alert/add and /alert/update, seed 001 for the work-order
// create and auto-complete).

import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage["headers"];
  /** Body exactly as received. */
  raw: Buffer;
  body: string;
  /** Parsed body (numbers may be rounded: use `body` for exact integers). */
  json: unknown;
  /** For work-order paths when an appSecret is set: did the signature verify? */
  signatureOk?: boolean;
  /** Strict platform: why it refused this body (missing or mistyped required field). */
  refused?: string;
  at: number;
}

export type Reply =
  | { status: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  | "hang"
  | "close";

export type Responder = (req: RecordedRequest, defaultReply: () => Reply) => Reply | undefined;

export interface FakeUpstreamOptions {
  /** Work-order app secret, to verify signatures. */
  appSecret?: string;
  /** Bearer token the alarm API accepts (401 otherwise); unset = any. */
  token?: string;
  /** Delay of every answer (benchmark). */
  delayMs?: number;
  /** Refuse bodies that lack the platform's required fields (see `requiredFieldProblem`). */
  strict?: boolean;
}

const TRIGGER_SOURCES = ["自动上报", "人工上报"];

const nonEmptyString = (v: unknown): boolean => typeof v === "string" && v.length > 0;

/**
 * What the platform's API tables require of a request body, or null when it has it all:
 * `/alert/add` name; `/alert/update` id and name (seed 003); work-order create title, areaId
 * (integer), alarmId, alarmType, and the optional priority / triggerSource in their ranges, plus the
 * tenant-id header; auto-complete orderId as a bare JSON integer and remark (seed 001).
 */
export function requiredFieldProblem(rec: Pick<RecordedRequest, "path" | "json" | "body" | "headers">): string | null {
  const j = rec.json;
  if (j === null || typeof j !== "object" || Array.isArray(j)) return "body is not a JSON object";
  const b = j as Record<string, unknown>;
  const missing = (names: string[]) => names.filter((n) => !nonEmptyString(b[n]));
  // Types of the optional fields in the alarm tables (Number, String, Object; null allowed for objects).
  const mistyped = () => {
    const bad: string[] = [];
    for (const k of ["level", "status"]) if (b[k] !== undefined && typeof b[k] !== "number") bad.push(`${k} (Number)`);
    if (b.title !== undefined && typeof b.title !== "string") bad.push("title (String)");
    for (const k of ["device", "location", "details", "recipient"])
      if (b[k] !== undefined && b[k] !== null && (typeof b[k] !== "object" || Array.isArray(b[k])))
        bad.push(`${k} (Object)`);
    return bad.length > 0 ? `wrong type: ${bad.join(", ")}` : null;
  };
  switch (rec.path) {
    case "/alert/add": {
      const m = missing(["name"]);
      return m.length > 0 ? `missing ${m.join(", ")}` : mistyped();
    }
    case "/alert/update": {
      const m = missing(["id", "name"]);
      return m.length > 0 ? `missing ${m.join(", ")}` : mistyped();
    }
    case WO_CREATE: {
      if (!nonEmptyString(rec.headers["tenant-id"])) return "missing tenant-id header";
      const m = missing(["title", "alarmId", "alarmType"]);
      if (!Number.isInteger(b.areaId)) m.push("areaId (integer)");
      if (m.length > 0) return `missing ${m.join(", ")}`;
      if (b.priority !== undefined && ![0, 1, 2, 3].includes(b.priority as number)) return "priority not 0..3";
      if (b.triggerSource !== undefined && !TRIGGER_SOURCES.includes(b.triggerSource as string))
        return `triggerSource not one of ${TRIGGER_SOURCES.join(", ")}`;
      return null;
    }
    case WO_COMPLETE: {
      if (!nonEmptyString(rec.headers["tenant-id"])) return "missing tenant-id header";
      if (!/"orderId":\d+[,}]/.test(rec.body)) return "missing orderId (integer)";
      if (typeof b.remark !== "string") return "missing remark";
      return null;
    }
    default:
      return null;
  }
}

const WO_CREATE = "/open-api/ops/security/order/create";
const WO_COMPLETE = "/open-api/ops/security/order/auto-complete";

/** Independent signature check (docs/upstream.md): SHA256hex(sortedQuery + bodyBytes + "appId=..&nonce=..&timestamp=.." + secret). */
export function expectedSignature(
  raw: Buffer,
  query: Record<string, string>,
  headers: IncomingMessage["headers"],
  appSecret: string,
): string {
  const h = (n: string) => String(headers[n.toLowerCase()] ?? "");
  const q = Object.keys(query)
    .sort()
    .map((k) => `${k}=${query[k]}`)
    .join("&");
  const hash = createHash("sha256");
  hash.update(Buffer.from(q, "utf8"));
  hash.update(raw);
  hash.update(Buffer.from(`appId=${h("appid")}&nonce=${h("nonce")}&timestamp=${h("timestamp")}`, "utf8"));
  hash.update(Buffer.from(appSecret, "utf8"));
  return hash.digest("hex");
}

export class FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  /** Custom behaviour; return undefined for the default answer. */
  responder: Responder | undefined;
  /** Scripted answers consumed in order per path, before the responder. */
  readonly script = new Map<string, Reply[]>();
  token: string | undefined;
  delayMs: number;
  /** Refuse bodies without the platform's required fields (HTTP 400 / 104001; work orders code 400). */
  strict: boolean;
  /** Requests being answered right now, and the most seen at once. */
  inflight = 0;
  maxInflight = 0;
  #server: Server | null = null;
  #sockets = new Set<Socket>();
  #hanging = new Set<ServerResponse>();
  #nextOrderId = 1234567890123456789n;
  readonly #appSecret: string | undefined;
  #port = 0;

  constructor(opts: FakeUpstreamOptions = {}) {
    this.#appSecret = opts.appSecret;
    this.token = opts.token;
    this.delayMs = opts.delayMs ?? 0;
    this.strict = opts.strict ?? false;
  }

  /** Requests a strict platform refused for a missing / mistyped required field. */
  refusals(): RecordedRequest[] {
    return this.requests.filter((r) => r.refused !== undefined);
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }
  get port(): number {
    return this.#port;
  }

  /** The next work-order id to hand out (exact, may exceed 2^53). */
  setNextOrderId(id: bigint): void {
    this.#nextOrderId = id;
  }

  /** Queue answers for a path (consumed one per request). */
  enqueue(path: string, ...replies: Reply[]): void {
    const list = this.script.get(path) ?? [];
    list.push(...replies);
    this.script.set(path, list);
  }

  paths(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => this.#handle(req, res));
    server.keepAliveTimeout = 30_000;
    server.on("connection", (s: Socket) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    const a = server.address();
    this.#port = typeof a === "object" && a ? a.port : 0;
    this.#server = server;
    return this;
  }

  async close(): Promise<void> {
    for (const r of this.#hanging) r.destroy();
    this.#hanging.clear();
    for (const s of this.#sockets) s.destroy();
    const srv = this.#server;
    this.#server = null;
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const raw = Buffer.concat(chunks);
      const body = raw.toString("utf8");
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const query = Object.fromEntries(url.searchParams.entries());
      const rec: RecordedRequest = {
        method: req.method ?? "",
        path: url.pathname,
        query,
        headers: req.headers,
        raw,
        body,
        json,
        at: Date.now(),
      };
      if (this.#appSecret !== undefined && (url.pathname === WO_CREATE || url.pathname === WO_COMPLETE)) {
        rec.signatureOk = req.headers.sign === expectedSignature(raw, query, req.headers, this.#appSecret);
      }
      this.requests.push(rec);
      this.inflight++;
      this.maxInflight = Math.max(this.maxInflight, this.inflight);
      res.on("close", () => this.inflight--);
      const scripted = this.script.get(url.pathname)?.shift();
      const reply = scripted ?? this.responder?.(rec, () => this.#default(rec)) ?? this.#default(rec);
      this.#send(res, reply);
    });
  }

  #default(rec: RecordedRequest): Reply {
    const j = (rec.json ?? {}) as Record<string, unknown>;
    if (rec.path === WO_CREATE || rec.path === WO_COMPLETE) {
      if (rec.signatureOk === false) return { status: 200, body: '{"code":401,"msg":"sign error"}' };
      const problem = this.strict ? requiredFieldProblem(rec) : null;
      if (problem !== null) {
        rec.refused = problem;
        return { status: 200, body: JSON.stringify({ code: 400, msg: `请求参数不正确: ${problem}` }) };
      }
      if (rec.path === WO_CREATE) {
        const id = this.#nextOrderId++;
        return { status: 200, body: `{"code":0,"data":${id},"msg":"ok"}` };
      }
      return { status: 200, body: '{"code":0,"msg":"ok"}' };
    }
    if (this.token !== undefined && rec.headers.authorization !== `Bearer ${this.token}`) {
      return { status: 401, body: '{"code":100401,"message":"Unauthorized"}' };
    }
    const problem = this.strict ? requiredFieldProblem(rec) : null;
    if (problem !== null) {
      rec.refused = problem;
      return { status: 400, body: JSON.stringify({ code: 104001, message: `Miss required parameter: ${problem}` }) };
    }
    if (rec.path === "/alert/add") return { status: 200, body: JSON.stringify({ ...j, id: `up-${String(j.id)}` }) };
    return { status: 200, body: JSON.stringify(j) };
  }

  #send(res: ServerResponse, reply: Reply): void {
    if (reply === "hang") {
      this.#hanging.add(res);
      res.on("close", () => this.#hanging.delete(res));
      return;
    }
    if (reply === "close") {
      res.socket?.destroy();
      return;
    }
    const write = () => {
      if (res.destroyed) return;
      res.writeHead(reply.status, { "Content-Type": "application/json", ...reply.headers });
      res.end(reply.body ?? "");
    };
    const delay = reply.delayMs ?? this.delayMs;
    if (delay > 0) setTimeout(write, delay);
    else write();
  }
}

export async function startUpstream(opts: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  return new FakeUpstream(opts).start();
}

// ---- alarm fixtures: stand-ins for the alarms service, writing an alarm row and its outbox rows in one transaction ----

import type { AlarmChange } from "../../src/core/ports.js";
import type { Alarm, DeviceState, RuleDefinition } from "../../src/core/types.js";
import type { Db } from "../../src/store/db.js";

export function testDevice(id = "meter-01", extra: Partial<DeviceState> = {}): DeviceState {
  return {
    id,
    product: "meter",
    name: "Main incomer",
    areaId: 12,
    status: "online",
    lastSeen: 0,
    values: {},
    source: "modbus",
    ...extra,
  };
}

export function testRule(extra: Partial<RuleDefinition> = {}): RuleDefinition {
  return {
    id: "meter-overvoltage",
    name: "overvoltage",
    title: "Over-voltage on incomer",
    key: "meter",
    type: "rule",
    level: 4,
    period: 0,
    conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
    ...extra,
  };
}

export function testAlarm(id: string, now: number, extra: Partial<Alarm> = {}): Alarm {
  return {
    id,
    ruleId: "meter-overvoltage",
    name: "overvoltage",
    title: "Over-voltage on incomer",
    message: "voltage 262 V > 250 V",
    type: "rule",
    level: 4,
    status: 2,
    resource: { id: "meter-01", name: "Main incomer", product: "meter", areaId: 12 },
    location: { building: "A" },
    details: { voltage: 262, threshold: 250 },
    period: 0,
    created: now,
    updated: now,
    resolvedAt: null,
    upstreamId: null,
    workOrderId: null,
    ...extra,
  };
}

/** Commits an alarm change the way the alarms service does: the alarm row and the sink's rows in one transaction. */
export function commitChange(
  db: Db,
  sink: { writeInTransaction(c: readonly AlarmChange[]): void },
  kind: AlarmChange["kind"],
  alarm: Alarm,
  opts: { rule?: RuleDefinition | null; device?: DeviceState; now?: number; cause?: AlarmChange["cause"] } = {},
): void {
  const now = opts.now ?? alarm.updated;
  db.transaction(() => {
    const existing = db.prepare("SELECT upstream_id, work_order_id FROM alarms WHERE id = ?").get(alarm.id) as
      | { upstream_id: string | null; work_order_id: string | null }
      | undefined;
    const a: Alarm = {
      ...alarm,
      upstreamId: existing?.upstream_id ?? alarm.upstreamId,
      workOrderId: existing?.work_order_id ?? alarm.workOrderId,
    };
    db.prepare(
      `INSERT INTO alarms (id, rule_id, device_id, status, level, created, updated, resolved_at, upstream_id, work_order_id, doc)
       VALUES (@id, @ruleId, @deviceId, @status, @level, @created, @updated, @resolvedAt, @upstreamId, @workOrderId, @doc)
       ON CONFLICT(id) DO UPDATE SET status = excluded.status, level = excluded.level, updated = excluded.updated,
         resolved_at = excluded.resolved_at`,
    ).run({
      id: a.id,
      ruleId: a.ruleId,
      deviceId: a.resource.id,
      status: a.status,
      level: a.level,
      created: a.created,
      updated: a.updated,
      resolvedAt: a.resolvedAt,
      upstreamId: a.upstreamId,
      workOrderId: a.workOrderId,
      doc: JSON.stringify(a),
    });
    sink.writeInTransaction([
      {
        kind,
        alarm: a,
        previous: kind === "created" ? null : a,
        rule: opts.rule === undefined ? testRule() : opts.rule,
        device: opts.device ?? testDevice(a.resource.id),
        cause: opts.cause ?? { by: "rule", remark: kind === "resolved" ? "voltage back to 231 V" : "" },
        now,
      },
    ]);
  })();
}

// ---- a dispatcher wired to a fake upstream, a real SQLite file and a captured log ----

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Agent } from "undici";
import { resolveOutbox, resolveUpstream, resolveWorkOrders } from "../../src/config/defaults.js";
import type { Config, UpstreamConfig, WorkOrdersConfig } from "../../src/config/schema.js";
import { type Clock, ManualClock } from "../../src/core/clock.js";
import { EventBus } from "../../src/core/events.js";
import { MetricsRegistry } from "../../src/core/metrics.js";
import type { UploadInterceptor } from "../../src/core/ports.js";
import { openDatabase } from "../../src/store/db.js";
import { OutboxRepo } from "../../src/store/outbox-repo.js";
import { OutboxWriter } from "../../src/store/outbox-writer.js";
import { Dispatcher } from "../../src/upstream/dispatcher.js";

export interface Harness {
  dir: string;
  db: Db;
  clock: ManualClock;
  http: Agent;
  events: EventBus;
  metrics: MetricsRegistry;
  logs: string[];
  log: pino.Logger;
  writer: OutboxWriter;
  repo: OutboxRepo;
  dispatcher: Dispatcher;
  /** Stops the dispatcher, closes the agent and the database, removes the directory. */
  close(): Promise<void>;
}

export function captureLogger(lines: string[]): pino.Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString("utf8"));
      cb();
    },
  });
  return pino({ level: "debug" }, sink);
}

export function createHarness(opts: {
  upstream?: UpstreamConfig;
  workOrders?: WorkOrdersConfig;
  outbox?: Config["outbox"];
  interceptor?: UploadInterceptor;
  clock?: Clock;
}): Harness {
  const dir = mkdtempSync(join(tmpdir(), "edge-upstream-"));
  const db = openDatabase(join(dir, "edge-agent.db"));
  const clock = (opts.clock ?? new ManualClock(Date.UTC(2026, 0, 1))) as ManualClock;
  const logs: string[] = [];
  const log = captureLogger(logs);
  const http = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  const events = new EventBus(log);
  const metrics = new MetricsRegistry();
  const writer = new OutboxWriter({ db, clock, workOrders: opts.workOrders, log });
  const dispatcher = new Dispatcher({
    db,
    clock,
    log,
    metrics,
    events,
    http,
    // the sections as the loader resolves them
    upstream: opts.upstream && resolveUpstream(opts.upstream),
    workOrders: opts.workOrders && resolveWorkOrders(opts.workOrders),
    outbox: resolveOutbox(opts.outbox),
    interceptor: opts.interceptor,
    random: () => 1,
  });
  return {
    dir,
    db,
    clock,
    http,
    events,
    metrics,
    logs,
    log,
    writer,
    repo: new OutboxRepo({ db }),
    dispatcher,
    async close() {
      await dispatcher.stop();
      await http.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Requests to alarm endpoints grouped per local alarm id, in arrival order: "add" / "update:<status>". */
export function perAlarmSequence(up: FakeUpstream): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of up.requests) {
    const j = r.json as Record<string, unknown> | undefined;
    if (!j) continue;
    let id: string;
    let what: string;
    if (r.path === "/alert/add") {
      id = String(j.id);
      what = "add";
    } else if (r.path === "/alert/update") {
      id = String(j.id).replace(/^up-/, "");
      what = `update:${String(j.status)}`;
    } else continue;
    const list = out.get(id) ?? [];
    list.push(what);
    out.set(id, list);
  }
  return out;
}
