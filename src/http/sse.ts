// Server-sent events for the status page: alarm changes are pushed at once, device values are
// coalesced and pushed at most once per second. The hub subscribes to the event bus only while a
// client is connected, so an unwatched agent pays nothing per reading.

import type { ServerResponse } from "node:http";
import { alarmShape } from "../alarms/shape.js";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { EventBus } from "../core/events.js";
import type { DeviceView } from "../core/ports.js";
import { redact } from "../core/redact.js";
import type { Alarm } from "../core/types.js";
import { type DeviceSummary, summarizeDevice } from "../pipeline/device-page.js";

const FLUSH_MS = 1000;
const PING_MS = 15_000;

export class EventStreamHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #dirty = new Set<string>();
  #unsubscribe: (() => void)[] = [];
  #flushTimer: TimerHandle | undefined;
  #pingTimer: TimerHandle | undefined;

  constructor(
    private readonly opts: {
      events: EventBus;
      clock: Clock;
      devices: DeviceView;
      secrets: () => readonly string[];
    },
  ) {}

  get size(): number {
    return this.#clients.size;
  }

  add(res: ServerResponse): void {
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.write("retry: 2000\n\n");
    this.#clients.add(res);
    res.on("close", () => {
      this.#clients.delete(res);
      if (this.#clients.size === 0) this.#detach();
    });
    if (this.#clients.size === 1) this.#attach();
  }

  /** Ends every stream (shutdown). */
  closeAll(): void {
    for (const c of this.#clients) c.end();
    this.#clients.clear();
    this.#detach();
  }

  #attach(): void {
    const { events, clock } = this.opts;
    const alarm = (kind: string) => (a: Alarm) => this.#send("alarm", { kind, alarm: alarmShape(a) });
    this.#unsubscribe = [
      events.on("alarmCreated", alarm("created")),
      events.on("alarmUpdated", alarm("updated")),
      events.on("alarmResolved", alarm("resolved")),
      events.on("reading", (_r, d) => {
        this.#dirty.add(d.id);
      }),
      events.on("deviceStatusChanged", (d) => {
        this.#dirty.add(d.id);
        this.#flush();
      }),
      events.on("rulesChanged", (count) => this.#send("rules", { count })),
    ];
    this.#flushTimer = clock.setInterval(() => this.#flush(), FLUSH_MS);
    this.#pingTimer = clock.setInterval(() => this.#write(": ping\n\n"), PING_MS);
  }

  #detach(): void {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.opts.clock.clearInterval(this.#flushTimer);
    this.opts.clock.clearInterval(this.#pingTimer);
    this.#flushTimer = undefined;
    this.#pingTimer = undefined;
    this.#dirty.clear();
  }

  #flush(): void {
    if (this.#dirty.size === 0) return;
    const devices: DeviceSummary[] = [];
    for (const id of this.#dirty) {
      const d = this.opts.devices.get(id);
      // Values bounded as on /status, so a live update never shows more than the page did.
      if (d) devices.push(summarizeDevice(d));
    }
    this.#dirty.clear();
    if (devices.length > 0) this.#send("devices", { devices });
  }

  #send(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    const json = JSON.stringify(redact(data, this.opts.secrets()));
    this.#write(`event: ${event}\ndata: ${json}\n\n`);
  }

  #write(chunk: string): void {
    for (const c of this.#clients) {
      if (!c.writableEnded) c.write(chunk);
    }
  }
}
