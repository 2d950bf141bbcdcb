// Modbus acquisition: one poller per device on its bus's queue, one Reading per poll into the same
// sink as MQTT. A poll that is still running when its next tick comes is skipped, never queued.
// A timeout ends the device's poll at once, so a dead unit delays its bus by one timeout at most.
// "Illegal data address" on a merged read splits it (contiguous groups, then single points) and the
// device's plan keeps the split. Reachability changes go to the sink after `offlineAfter` failures.

import { type ResolvedModbusConfig, type ResolvedModbusDeviceConfig, resolveModbus } from "../../config/defaults.js";
import { modbusWriteTarget, writeValueProblem } from "../../config/modbus-writes.js";
import type { Config, ModbusConfig, ModbusPointConfig } from "../../config/schema.js";
import type { Clock, TimerHandle } from "../../core/clock.js";
import { AgentError, errorMessage } from "../../core/errors.js";
import type { EventBus } from "../../core/events.js";
import type { Logger } from "../../core/log.js";
import type { MetricsRegistry } from "../../core/metrics.js";
import type { ModbusWriter, ReadingSink } from "../../core/ports.js";
import type { MetricValue, Reading } from "../../core/types.js";
import { ModbusBus, ModbusRequestError } from "./bus.js";
import { decodeRegisters, encodeBool, encodeRegisters, isBitTable, withBit } from "./decode.js";
import { type PlannedRead, planDevice, planPoints, readFor } from "./plan.js";
import type { ModbusWrites } from "./writes.js";

export interface ModbusSourceOptions {
  /** The modbus section; resolved here if it is not yet (tests and tools write it by hand). */
  config: ModbusConfig;
  devices?: Config["devices"];
  sink: ReadingSink;
  events: EventBus;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  /** The writer hooks hold: it reaches this source while it runs. */
  writes?: ModbusWrites | undefined;
}

type Counter = { inc(by?: number): void; get(): number };

/** How far a read has been split after "illegal data address": planned → contiguous → single. */
interface PlanStep extends PlannedRead {
  level: 0 | 1 | 2;
}

class DevicePoller {
  readonly cfg: ResolvedModbusDeviceConfig;
  readonly bus: ModbusBus;
  readonly product: string;
  readonly plan: PlanStep[];
  readonly intervalMs: number;
  readonly offlineAfter: number;
  running = false;
  failures = 0;
  /** undefined until the first verdict; the sink hears only changes. */
  reachable: boolean | undefined = undefined;
  timer: TimerHandle | undefined;
  readonly polls: { ok: Counter; failed: Counter; skipped: Counter };

  constructor(cfg: ResolvedModbusDeviceConfig, bus: ModbusBus, product: string, metrics: MetricsRegistry) {
    this.cfg = cfg;
    this.bus = bus;
    this.product = product;
    this.plan = planDevice(cfg, cfg.maxGap).map((r) => ({ ...r, level: 0 }));
    this.intervalMs = cfg.intervalMs;
    this.offlineAfter = cfg.offlineAfter;
    const polls = metrics.counter("edge_modbus_polls_total", "Modbus device polls by result");
    this.polls = {
      ok: polls.bind({ device: cfg.id, result: "ok" }),
      failed: polls.bind({ device: cfg.id, result: "failed" }),
      skipped: polls.bind({ device: cfg.id, result: "skipped" }),
    };
  }
}

export class ModbusSource {
  readonly writer: ModbusWriter;
  readonly #opts: ModbusSourceOptions;
  readonly #config: ResolvedModbusConfig;
  readonly #buses = new Map<string, ModbusBus>();
  readonly #pollers = new Map<string, DevicePoller>();
  readonly #inflight = new Set<Promise<void>>();
  #running = false;
  #detachWrites: (() => void) | null = null;

  constructor(opts: ModbusSourceOptions) {
    this.#opts = opts;
    // The one place a hand-written section gets its defaults; the agent's is resolved already.
    this.#config = resolveModbus(opts.config);
    this.writer = { write: (d, p, v) => this.write(d, p, v) };
  }

  /** The live request plan of a device (after any splits), for diagnostics and tests. */
  planOf(deviceId: string): readonly PlannedRead[] {
    return this.#pollers.get(deviceId)?.plan ?? [];
  }

  async start(): Promise<void> {
    if (this.#running) return;
    const { clock, log, metrics } = this.#opts;
    const config = this.#config;
    for (const b of config.buses) {
      this.#buses.set(b.id, new ModbusBus({ config: b, clock, log, metrics }));
    }
    for (const d of config.devices) {
      const bus = this.#buses.get(d.bus);
      if (!bus) {
        log.error({ device: d.id }, `Modbus device ${d.id} names bus "${d.bus}", which is not configured; not polled`);
        continue;
      }
      const meta = this.#opts.devices;
      const product = (meta !== undefined && Object.hasOwn(meta, d.id) ? meta[d.id]?.product : undefined) ?? d.product;
      this.#pollers.set(d.id, new DevicePoller(d, bus, product, metrics));
    }
    this.#running = true;
    this.#detachWrites = this.#opts.writes?.attach(this.writer) ?? null;
    for (const b of this.#buses.values()) b.start();
    for (const p of this.#pollers.values()) {
      this.#tick(p);
      p.timer = clock.setInterval(() => this.#tick(p), p.intervalMs);
    }
    log.info(
      { buses: this.#buses.size, devices: this.#pollers.size },
      `Modbus polling ${this.#pollers.size} devices on ${this.#buses.size} buses`,
    );
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#detachWrites?.();
    this.#detachWrites = null;
    for (const p of this.#pollers.values()) {
      this.#opts.clock.clearInterval(p.timer);
      p.timer = undefined;
    }
    await Promise.all([...this.#buses.values()].map((b) => b.stop()));
    await Promise.all([...this.#inflight]);
    this.#buses.clear();
    this.#pollers.clear();
  }

  #tick(p: DevicePoller): void {
    if (!this.#running) return;
    if (p.running) {
      p.polls.skipped.inc();
      return;
    }
    p.running = true;
    const run = this.#poll(p).finally(() => {
      p.running = false;
      this.#inflight.delete(run);
    });
    this.#inflight.add(run);
  }

  async #poll(p: DevicePoller): Promise<void> {
    const { clock, sink, events, log } = this.#opts;
    const ts = clock.now();
    const values: Record<string, MetricValue> = {};
    const raw: Record<string, { address: number; data: number[] | boolean[] }[]> | null = events.hasListeners(
      "rawMessage",
    )
      ? {}
      : null;
    let answered = 0;
    let failure: ModbusRequestError | null = null;
    for (let i = 0; i < p.plan.length; i++) {
      const r = p.plan[i] as PlanStep;
      let data: number[] | boolean[];
      try {
        data = await p.bus.read(p.cfg.unitId, r.fc, r.address, r.count);
      } catch (err) {
        if (!this.#running) return;
        const e = err instanceof ModbusRequestError ? err : new ModbusRequestError("error", errorMessage(err));
        if (e.kind === "exception" && e.exceptionCode === 2) {
          const replaced = this.#split(p, i, r);
          if (replaced) {
            i--;
            continue;
          }
          // The point itself is unreadable: it was dropped from the plan, the rest carries on.
          i--;
          continue;
        }
        failure = e;
        // Anything but an exception means the unit (or the line) is not answering: do not spend
        // another timeout of the bus's time on it in this round.
        if (e.kind !== "exception") break;
        continue;
      }
      answered++;
      if (raw) {
        const list = raw[r.table] ?? [];
        list.push({ address: r.address, data });
        raw[r.table] = list;
      }
      this.#decodeInto(values, r, data);
    }
    if (!this.#running) return;
    // A device whose every point was refused as unreadable has nothing left to poll: that is a failure.
    if (p.plan.length === 0 && failure === null)
      failure = new ModbusRequestError("exception", "no readable points left (all refused as illegal data address)", 2);
    const good = answered > 0 ? failure === null || failure.kind === "exception" : failure === null;
    if (answered > 0 || good) {
      if (raw) events.emit("rawMessage", "modbus", `${p.bus.id}/${p.cfg.unitId}`, raw);
      const reading: Reading = { deviceId: p.cfg.id, product: p.product, ts, values, source: "modbus" };
      if (Object.keys(values).length > 0) sink.ingest(reading);
    }
    if (good) {
      p.polls.ok.inc();
      p.failures = 0;
      if (p.reachable !== true) {
        const was = p.reachable;
        p.reachable = true;
        if (was === false) log.info({ device: p.cfg.id }, `Modbus device ${p.cfg.id} answers again`);
        // Also on the first good poll: a poll that yielded no values made no reading to say so.
        sink.setReachable(p.cfg.id, true, was === false ? "poll succeeded again" : "first poll succeeded");
      }
    } else {
      p.polls.failed.inc();
      p.failures++;
      if (p.failures >= p.offlineAfter && p.reachable !== false) {
        p.reachable = false;
        const why = `${p.failures} consecutive failed polls: ${failure?.message ?? "no data"}`;
        log.warn({ device: p.cfg.id }, `Modbus device ${p.cfg.id} is offline after ${why}`);
        sink.setReachable(p.cfg.id, false, why);
      }
    }
  }

  /** Replaces plan[i] after "illegal data address"; returns false when a single point was dropped. */
  #split(p: DevicePoller, i: number, r: PlanStep): boolean {
    const log = this.#opts.log;
    if (r.points.length > 1 && r.level < 2) {
      const pts = r.points.map((x) => x.point);
      let next: PlanStep[] = r.level === 0 ? planPoints(pts, 0).map((x) => ({ ...x, level: 1 as const })) : [];
      // Already contiguous (or a contiguous group failed): go straight to one read per point.
      if (next.length <= 1) next = pts.map((pt) => ({ ...readFor(r.table, [pt]), level: 2 as const }));
      p.plan.splice(i, 1, ...next);
      log.warn(
        { device: p.cfg.id },
        `Modbus device ${p.cfg.id}: ${r.table} ${r.address}+${r.count} answered "illegal data address"; ` +
          `split into ${next.length} reads (kept for the following polls)`,
      );
      return true;
    }
    p.plan.splice(i, 1);
    const names = r.points.map((x) => x.point.name).join(", ");
    log.error(
      { device: p.cfg.id },
      `Modbus device ${p.cfg.id}: ${names} at ${r.table} ${r.address} is not readable ("illegal data address"); ` +
        "check the address in the device's register map. Not polled until the agent restarts.",
    );
    return false;
  }

  #decodeInto(values: Record<string, MetricValue>, r: PlannedRead, data: number[] | boolean[]): void {
    const bits = isBitTable(r.table);
    for (let k = 0; k < r.points.length; k++) {
      const pp = r.points[k] as PlannedRead["points"][number];
      try {
        values[pp.point.name] = bits
          ? (data as boolean[])[pp.offset] === true
          : decodeRegisters(pp.point, data as number[], pp.offset);
      } catch {
        // A short answer leaves this point out of the reading rather than inventing a value.
      }
    }
  }

  async write(deviceId: string, pointName: string, value: MetricValue): Promise<void> {
    const name = `${deviceId}.${pointName}`;
    // The same checks as a task file's modbus.write, so a file accepted is a write accepted.
    const target = modbusWriteTarget(
      [...this.#pollers.values()].map((x) => x.cfg),
      deviceId,
      pointName,
    );
    if (!target.ok) throw new AgentError("EA_MODBUS_WRITE", `cannot write ${name}: ${target.reason}`);
    const point = target.point;
    const p = this.#pollers.get(deviceId) as DevicePoller;
    const bad = writeValueProblem(point, value);
    if (bad !== null) throw new AgentError("EA_MODBUS_WRITE", `cannot write ${name}: ${bad}`);
    await this.#writePoint(p, point, name, value);
    this.#opts.log.info({ device: deviceId, point: pointName, value }, `wrote ${name} = ${String(value)}`);
  }

  async #writePoint(p: DevicePoller, point: ModbusPointConfig, name: string, value: MetricValue): Promise<void> {
    const unit = p.cfg.unitId;
    if (point.table === "coil") return p.bus.writeCoil(unit, point.address, encodeBool(name, value));
    if (point.type === "bool") {
      // One bit of a holding register: read-modify-write (not atomic against the device's own logic).
      const on = encodeBool(name, value);
      const cur = (await p.bus.read(unit, 3, point.address, 1)) as number[];
      return p.bus.writeRegisters(unit, point.address, [withBit(cur[0] ?? 0, point.bit ?? 0, on)]);
    }
    return p.bus.writeRegisters(unit, point.address, encodeRegisters(name, point, value));
  }
}
