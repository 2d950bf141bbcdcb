// In-process MQTT broker (aedes) for `"mqtt": {"url": "embedded"}`: the gateway is the broker.
// Binds 127.0.0.1 unless told otherwise; port 0 picks a free port, exposed as `port` after start.
// Sessions and queued QoS 1/2 messages live in aedes' in-memory persistence: they survive client
// reconnects for the lifetime of the process, not a restart of the agent.

import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";
import { AgentError, errorMessage } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";

export class EmbeddedBroker {
  readonly #host: string;
  readonly #log: Logger;
  #port: number;
  #aedes: Aedes | null = null;
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();

  constructor(opts: { port: number; host?: string; log: Logger }) {
    this.#port = opts.port;
    this.#host = opts.host ?? "127.0.0.1";
    this.#log = opts.log;
  }

  /** The port actually bound (the configured one, or the one picked for port 0). */
  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const aedes = await Aedes.createBroker();
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
        "EA_CONFIG_INVALID",
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
    this.#log.info({ host: this.#host, port: this.#port }, "embedded MQTT broker listening");
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const aedes = this.#aedes;
    this.#server = null;
    this.#aedes = null;
    if (!server || !aedes) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
    // aedes closes its clients; sockets still in the CONNECT handshake are not its clients yet.
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await closed;
  }
}
