// A real SMTP server on 127.0.0.1 for tests (smtp-server): records every message it accepts with its
// envelope and its decoded subject, text and HTML; can be told to refuse with a 4xx/5xx reply at a
// chosen command, and to go down (port closed, connections cut) and come back up on the same port.
// A server can also hold new connections without a greeting (a stalled relay).
// Plain by default (no STARTTLS offered); `starttls: true` offers it with smtp-server's own
// self-signed certificate.

import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** Decoded header values (lower-case names; the last one of a repeated header). */
  headers: Record<string, string>;
  subject: string;
  from: string;
  to: string;
  text: string | undefined;
  html: string | undefined;
  /** The message as received (after dot-unstuffing). */
  raw: string;
  /** The authenticated user, if the client logged in. */
  user: string | undefined;
  /** Whether the session was upgraded to TLS. */
  secure: boolean;
}

export interface Refusal {
  /** SMTP reply code, 4xx or 5xx. */
  code: number;
  message?: string;
  /** Command answered with it (default "rcpt"). */
  at?: "mail" | "rcpt" | "data";
  /** Refuse only this many times, then accept again (default: until accept()). */
  times?: number;
}

export interface TestSmtpOptions {
  /** Offer STARTTLS (self-signed certificate). */
  starttls?: boolean;
  /** Accepted logins; when set, every session must log in (AUTH allowed without TLS). */
  users?: Record<string, string>;
}

export interface TestSmtp {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** Every accepted message, in order. */
  readonly messages: ReceivedMail[];
  /** Connections opened so far. */
  readonly connections: number;
  refuse(r: Refusal): void;
  accept(): void;
  /** New connections get no greeting until release(): a server that accepts and then stalls. */
  hold(): void;
  release(): void;
  /** Stops listening and cuts every connection: the port refuses connections. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

type Handlers = Pick<SMTPServerOptions, "onAuth" | "onConnect" | "onMailFrom" | "onRcptTo" | "onData">;

export async function startSmtp(opts: TestSmtpOptions = {}): Promise<TestSmtp> {
  const messages: ReceivedMail[] = [];
  let refusal: (Refusal & { left: number }) | null = null;
  let connections = 0;
  let held: (() => void)[] | null = null;
  let port = 0;
  let server: SMTPServer | null = null;

  const refuseAt = (at: "mail" | "rcpt" | "data"): Error | null => {
    if (refusal === null || (refusal.at ?? "rcpt") !== at) return null;
    const err = Object.assign(new Error(refusal.message ?? defaultText(refusal.code)), { responseCode: refusal.code });
    refusal.left--;
    if (refusal.left <= 0) refusal = null;
    return err;
  };

  const handlers: Handlers = {
    onConnect(_session, cb) {
      connections++;
      if (held !== null) held.push(() => cb());
      else cb();
    },
    onAuth(auth, _session, cb) {
      const users = opts.users ?? {};
      const ok =
        auth.username !== undefined && Object.hasOwn(users, auth.username) && users[auth.username] === auth.password;
      if (!ok) return cb(Object.assign(new Error("5.7.8 Authentication credentials invalid"), { responseCode: 535 }));
      cb(null, { user: auth.username });
    },
    onMailFrom(_address, _session, cb) {
      cb(refuseAt("mail"));
    },
    onRcptTo(_address, _session, cb) {
      cb(refuseAt("rcpt"));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const refused = refuseAt("data");
        if (refused) return cb(refused);
        messages.push(toMail(Buffer.concat(chunks).toString("latin1"), session));
        cb(null, "2.0.0 queued");
      });
    },
  };

  const listen = async (p: number): Promise<void> => {
    const s = new SMTPServer({
      ...handlers,
      authOptional: opts.users === undefined,
      allowInsecureAuth: true,
      disabledCommands: opts.starttls ? [] : ["STARTTLS"],
      disableReverseLookup: true,
      logger: false,
      closeTimeout: 50,
      name: "smtp.test",
    });
    s.on("error", () => {
      // Client sockets reset by the tests' down(): nothing to report.
    });
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", reject);
      s.listen(p, "127.0.0.1", () => {
        s.server.off("error", reject);
        resolve();
      });
    });
    const addr = s.server.address();
    port = typeof addr === "object" && addr ? addr.port : p;
    server = s;
  };

  const stop = async (): Promise<void> => {
    const waiting = held ?? [];
    held = null;
    for (const go of waiting) go();
    const s = server;
    server = null;
    if (s === null) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      // Cut live sessions now rather than after the grace period.
      for (const c of s.connections) (c as { close?: () => void }).close?.();
    });
  };

  await listen(0);
  return {
    host: "127.0.0.1",
    get port() {
      return port;
    },
    messages,
    get connections() {
      return connections;
    },
    refuse(r) {
      refusal = { ...r, left: r.times ?? Number.POSITIVE_INFINITY };
    },
    accept() {
      refusal = null;
    },
    hold() {
      held ??= [];
    },
    release() {
      const waiting = held ?? [];
      held = null;
      for (const go of waiting) go();
    },
    down: stop,
    async up() {
      if (server === null) await listen(port);
    },
    close: stop,
  };
}

function defaultText(code: number): string {
  if (code === 550) return "5.1.1 Mailbox unavailable";
  if (code >= 500) return "5.0.0 Refused";
  return "4.3.0 Try again later";
}

function toMail(raw: string, session: SMTPServerSession): ReceivedMail {
  const top = parsePart(raw);
  const leaves: Part[] = [];
  collect(top, leaves);
  const text = leaves.find((p) => p.type === "text/plain");
  const html = leaves.find((p) => p.type === "text/html");
  const from = session.envelope.mailFrom;
  return {
    envelope: { from: from ? from.address : "", to: session.envelope.rcptTo.map((r) => r.address) },
    headers: top.headers,
    subject: top.headers.subject ?? "",
    from: top.headers.from ?? "",
    to: top.headers.to ?? "",
    text: text?.body,
    html: html?.body,
    raw,
    user: typeof session.user === "string" ? session.user : undefined,
    secure: session.secure,
  };
}

// A small MIME reader, enough for what nodemailer writes: folded headers with RFC 2047 encoded
// words, nested multiparts, quoted-printable / base64 / 7bit / 8bit bodies, UTF-8 text.

interface Part {
  headers: Record<string, string>;
  type: string;
  body: string;
  parts: Part[];
}

function parsePart(raw: string): Part {
  const sep = raw.search(/\r?\n\r?\n/);
  const head = sep < 0 ? raw : raw.slice(0, sep);
  const body = sep < 0 ? "" : raw.slice(sep).replace(/^\r?\n\r?\n/, "");
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    headers[line.slice(0, i).trim().toLowerCase()] = decodeWords(line.slice(i + 1).trim());
  }
  const ctype = headers["content-type"] ?? "text/plain";
  const type = ctype.split(";")[0]!.trim().toLowerCase();
  if (type.startsWith("multipart/")) {
    const boundary = /boundary="?([^";]+)"?/i.exec(ctype)?.[1] ?? "";
    const chunks = body.split(`--${boundary}`);
    const parts: Part[] = [];
    for (const chunk of chunks.slice(1)) {
      if (chunk.startsWith("--")) break;
      parts.push(parsePart(chunk.replace(/^\r?\n/, "")));
    }
    return { headers, type, body: "", parts };
  }
  const cte = (headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  let bytes: Buffer;
  if (cte === "base64") bytes = Buffer.from(body.replace(/\s+/g, ""), "base64");
  else if (cte === "quoted-printable") bytes = decodeQp(body);
  else bytes = Buffer.from(body, "latin1");
  return { headers, type, body: bytes.toString("utf8").replace(/\r\n/g, "\n").replace(/\n$/, ""), parts: [] };
}

function collect(p: Part, out: Part[]): void {
  if (p.parts.length === 0) out.push(p);
  for (const c of p.parts) collect(c, out);
}

function decodeQp(s: string): Buffer {
  const soft = s.replace(/=\r?\n/g, "");
  const out: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const ch = soft[i]!;
    if (ch === "=" && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(soft.charCodeAt(i) & 0xff);
  }
  return Buffer.from(out);
}

/** Header text with its encoded words decoded (the raw header bytes are latin1 here). */
function decodeWords(v: string): string {
  const joined = v.replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, "$1");
  const decoded = joined.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _cs: string, enc: string, data: string) =>
    enc.toUpperCase() === "B"
      ? Buffer.from(data, "base64").toString("latin1")
      : decodeQp(data.replace(/_/g, " ")).toString("latin1"),
  );
  // Undo the latin1 reading of the whole header: raw 8-bit and decoded bytes are UTF-8.
  return Buffer.from(decoded, "latin1").toString("utf8");
}
