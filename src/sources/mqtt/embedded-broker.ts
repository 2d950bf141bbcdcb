// In-process MQTT broker (aedes) for `"mqtt": {"url": "embedded"}`: the gateway is the broker.
// Binds 127.0.0.1 unless told otherwise; port 0 picks a free port, exposed as `port` after start.
// Sessions and queued QoS 1/2 messages live in aedes' in-memory persistence: they survive client
// reconnects for the lifetime of the process, not a restart of the agent.
// With logins configured every client must present one (compared in constant time); without,
// anyone who reaches the port can publish, which is only acceptable on loopback.

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { Aedes, type AuthenticateError, type Client } from "aedes";
import type { MqttConfig } from "../../config/schema.js";
import { AuthFailures } from "../../core/auth-failures.js";
import { type Clock, systemClock } from "../../core/clock.js";
import { AgentError, errorMessage, listenErrorCode } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import { isLoopback, isWildcard, remoteAddress } from "../../core/net.js";

export interface BrokerLogin {
  username: string;
  password: string;
}

// CONNACK return codes of MQTT 3.1.1.
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

const digest = (s: string | Buffer): Buffer => createHash("sha256").update(s).digest();

/**
 * The logins the embedded broker accepts for a config, and the one the agent's own client uses:
 * mqtt.username/password when set; otherwise, when only device users are configured, a random
 * login generated for this process (so the agent can still connect to its own broker).
 */
export function embeddedBrokerLogins(m: Pick<MqttConfig, "username" | "password" | "users">): {
  logins: BrokerLogin[];
  agent: BrokerLogin | null;
} {
  const users = (m.users ?? []).map((u) => ({ username: u.username, password: u.password }));
  let agent: BrokerLogin | null = null;
  if (m.username) agent = { username: m.username, password: m.password ?? "" };
  else if (users.length > 0)
    agent = { username: `edge-agent-${randomBytes(6).toString("hex")}`, password: randomBytes(24).toString("hex") };
  return { logins: agent ? [agent, ...users] : users, agent };
}

export class EmbeddedBroker {
  readonly #host: string;
  readonly #log: Logger;
  readonly #clock: Clock;
  /** username → sha256(password); empty: anonymous clients are accepted. */
  readonly #logins = new Map<string, Buffer>();
  #port: number;
  #aedes: Aedes | null = null;
  #server: Server | null = null;
  #failures: AuthFailures | null = null;
  readonly #sockets = new Set<Socket>();

  constructor(opts: { port: number; host?: string; log: Logger; logins?: readonly BrokerLogin[]; clock?: Clock }) {
    this.#port = opts.port;
    this.#host = opts.host ?? "127.0.0.1";
    this.#log = opts.log;
    this.#clock = opts.clock ?? systemClock;
    for (const l of opts.logins ?? []) this.#logins.set(l.username, digest(l.password));
  }

  /** The port actually bound (the configured one, or the one picked for port 0). */
  get port(): number {
    return this.#port;
  }

  /** True when clients must log in. */
  get authenticated(): boolean {
    return this.#logins.size > 0;
  }

  /** The URL the agent's own client connects to (loopback when bound to every interface). */
  get url(): string {
    const h = isWildcard(this.#host) ? "127.0.0.1" : this.#host.replace(/^\[|\]$/g, "");
    return `mqtt://${h.includes(":") ? `[${h}]` : h}:${this.#port}`;
  }

  async start(): Promise<void> {
    if (this.#server) return;
    this.#failures = new AuthFailures({ clock: this.#clock, log: this.#log, what: "embedded MQTT broker login" });
    const aedes = await Aedes.createBroker(
      this.authenticated
        ? { authenticate: (client, username, password, done) => this.#authenticate(client, username, password, done) }
        : {},
    );
    aedes.on("clientError", (client, err) => {
      this.#log.debug({ clientId: client.id, err: errorMessage(err) }, "mqtt client error");
    });
    aedes.on("connectionError", (_client, err) => {
      this.#log.debug({ err: errorMessage(err) }, "mqtt connection error");
    });
    const server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      aedes.handle(socket);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(this.#port, this.#host, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      await new Promise<void>((r) => aedes.close(() => r()));
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === "EADDRINUSE"
          ? `port ${this.#port} is already in use (another broker such as mosquitto?); set mqtt.port or use its URL`
          : errorMessage(err);
      throw new AgentError(
        listenErrorCode(err),
        `embedded MQTT broker cannot listen on ${this.#host}:${this.#port}: ${why}`,
        {
          cause: err,
        },
      );
    }
    server.on("error", (err) => this.#log.error({ err }, "embedded MQTT broker server error"));
    const addr = server.address();
    if (addr && typeof addr === "object") this.#port = addr.port;
    this.#aedes = aedes;
    this.#server = server;
    const auth = this.authenticated ? `${this.#logins.size} login(s)` : "none (anonymous clients accepted)";
    this.#log.info({ host: this.#host, port: this.#port, auth }, "embedded MQTT broker listening");
    if (!this.authenticated && !isLoopback(this.#host)) {
      this.#log.warn(
        { host: this.#host, port: this.#port },
        `SECURITY: the embedded MQTT broker listens on ${this.#host}:${this.#port} WITHOUT AUTHENTICATION: anyone ` +
          "who can reach this port can publish readings and raise or clear alarms. Set mqtt.username/mqtt.password " +
          "and mqtt.users (device logins), or bind mqtt.host to 127.0.0.1",
      );
    }
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const aedes = this.#aedes;
    this.#server = null;
    this.#aedes = null;
    this.#failures?.stop();
    this.#failures = null;
    if (!server || !aedes) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
    // aedes closes its clients; sockets still in the CONNECT handshake are not its clients yet.
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await closed;
  }

  #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const expected = username === undefined ? undefined : this.#logins.get(username);
    // Always hash and compare, also for an unknown user, so timing does not tell which users exist.
    const given = digest(password ?? Buffer.alloc(0));
    const ok = timingSafeEqual(given, expected ?? digest(randomBytes(16))) && expected !== undefined;
    if (ok) {
      done(null, true);
      return;
    }
    const code = username === undefined ? NOT_AUTHORIZED : BAD_USERNAME_OR_PASSWORD;
    const refuse = (): void => {
      const err = new Error(
        code === NOT_AUTHORIZED ? "Not authorized: login required" : "Bad username or password",
      ) as AuthenticateError;
      err.returnCode = code;
      done(err, false);
    };
    const address = remoteAddress((client.conn as Partial<Socket>).remoteAddress);
    // The user name helps find a misconfigured device; the password never appears.
    const wait =
      this.#failures?.fail(address, { clientId: client.id, ...(username !== undefined ? { username } : {}) }) ?? 0;
    if (wait > 0 && this.#failures) void this.#failures.hold(wait).then(refuse);
    else refuse();
  }
}
