// A fake WeCom (企业微信) API over real HTTP on 127.0.0.1 for tests: gettoken, message/send and the
// group robot webhook, as WeCom answers them (HTTP 200 with {errcode, errmsg}). Records every request;
// issues tokens "tok-1", "tok-2", …; refuses unknown or expired tokens (40014 / 42001) and unknown
// robot keys (93000); answers from a script first when one is queued (e.g. one "token expired", a
// "user not found").

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export type WecomApi = "gettoken" | "send" | "robot" | "other";

export interface WecomRequest {
  api: WecomApi;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body (null when none or not JSON). */
  json: unknown;
  body: string;
  /** The errcode answered (HTTP-level scripted replies: null). */
  errcode: number | null;
}

/** A scripted answer: a WeCom JSON body, an HTTP status with a raw body, or a dropped connection. */
export type WecomReply =
  | { errcode: number; errmsg?: string; [k: string]: unknown }
  | { status: number; body: string }
  | "close";

export type ScriptedReply = WecomReply | ((req: WecomRequest) => WecomReply);

export interface FakeWecomOptions {
  corpId?: string;
  secret?: string;
  /** Lifetime given with each token, seconds (default 7200). */
  expiresInS?: number;
  /** When set, message/send to any other user answers 81013 with `invaliduser`. */
  knownUsers?: string[];
  /** Robot keys the webhook accepts (default: "robot-key-0001"). */
  robotKeys?: string[];
}

export interface FakeWecom {
  /** Base URL (http://127.0.0.1:port), for notify.wecom.baseUrl. */
  readonly url: string;
  /** Robot webhook URL without key, for notify.robot.baseUrl. */
  readonly robotUrl: string;
  readonly corpId: string;
  readonly secret: string;
  readonly requests: WecomRequest[];
  /** message/send requests answered errcode 0. */
  readonly accepted: WecomRequest[];
  /** Robot webhook posts answered errcode 0. */
  readonly robotAccepted: WecomRequest[];
  /** Tokens issued so far, in order. */
  readonly tokens: string[];
  count(api: WecomApi): number;
  /** Every token issued so far is expired from now on (message/send answers 42001). */
  expireTokens(): void;
  /** Answers for the next requests of one API, in order, before the normal behaviour resumes. */
  script(api: Exclude<WecomApi, "other">, ...replies: ScriptedReply[]): void;
  close(): Promise<void>;
}

export async function startFakeWecom(opts: FakeWecomOptions = {}): Promise<FakeWecom> {
  const corpId = opts.corpId ?? "corp-test";
  const secret = opts.secret ?? "wecom-secret-0123456789";
  const robotKeys = new Set(opts.robotKeys ?? ["robot-key-0001"]);
  const known = opts.knownUsers ? new Set(opts.knownUsers) : null;
  const requests: WecomRequest[] = [];
  const accepted: WecomRequest[] = [];
  const robotAccepted: WecomRequest[] = [];
  const tokens: string[] = [];
  const valid = new Set<string>();
  const expired = new Set<string>();
  const scripts: Record<Exclude<WecomApi, "other">, ScriptedReply[]> = { gettoken: [], send: [], robot: [] };
  const sockets = new Set<Socket>();

  const normal = (req: WecomRequest): WecomReply => {
    switch (req.api) {
      case "gettoken": {
        if (req.query.corpid !== corpId) return { errcode: 40013, errmsg: "invalid corpid" };
        if (req.query.corpsecret !== secret) return { errcode: 40001, errmsg: "invalid credential" };
        const t = `tok-${tokens.length + 1}-${"x".repeat(24)}`;
        tokens.push(t);
        valid.add(t);
        return { errcode: 0, errmsg: "ok", access_token: t, expires_in: opts.expiresInS ?? 7200 };
      }
      case "send": {
        const t = req.query.access_token ?? "";
        if (t === "") return { errcode: 41001, errmsg: "access_token missing" };
        if (expired.has(t)) return { errcode: 42001, errmsg: "access_token expired" };
        if (!valid.has(t)) return { errcode: 40014, errmsg: "invalid access_token" };
        const touser = String((req.json as { touser?: unknown } | null)?.touser ?? "");
        if (known !== null && !known.has(touser)) {
          return { errcode: 81013, errmsg: "user & party & tag all invalid", invaliduser: touser };
        }
        return { errcode: 0, errmsg: "ok", msgid: `msg-${requests.length}` };
      }
      case "robot":
        return robotKeys.has(req.query.key ?? "")
          ? { errcode: 0, errmsg: "ok" }
          : { errcode: 93000, errmsg: "invalid webhook url" };
      case "other":
        return { status: 404, body: "not found" };
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const u = new URL(req.url ?? "/", "http://127.0.0.1");
    const api: WecomApi =
      u.pathname === "/cgi-bin/gettoken"
        ? "gettoken"
        : u.pathname === "/cgi-bin/message/send"
          ? "send"
          : u.pathname === "/cgi-bin/webhook/send"
            ? "robot"
            : "other";
    let json: unknown = null;
    try {
      json = body ? JSON.parse(body) : null;
    } catch {
      json = null;
    }
    const rec: WecomRequest = {
      api,
      method: req.method ?? "",
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      json,
      body,
      errcode: null,
    };
    requests.push(rec);
    const scripted = api === "other" ? undefined : scripts[api].shift();
    const reply = scripted === undefined ? normal(rec) : typeof scripted === "function" ? scripted(rec) : scripted;
    if (reply === "close") {
      req.socket.destroy();
      return;
    }
    if ("status" in reply && typeof reply.status === "number" && typeof reply.body === "string") {
      res.writeHead(reply.status, { "content-type": "text/plain" }).end(reply.body);
      return;
    }
    const j = reply as { errcode: number };
    rec.errcode = j.errcode;
    if (j.errcode === 0 && api === "send") accepted.push(rec);
    if (j.errcode === 0 && api === "robot") robotAccepted.push(rec);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reply));
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, res, Buffer.concat(chunks).toString("utf8")));
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    robotUrl: `${url}/cgi-bin/webhook/send`,
    corpId,
    secret,
    requests,
    accepted,
    robotAccepted,
    tokens,
    count: (api) => requests.filter((r) => r.api === api).length,
    expireTokens() {
      for (const t of valid) expired.add(t);
      valid.clear();
    },
    script(api, ...replies) {
      scripts[api].push(...replies);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
