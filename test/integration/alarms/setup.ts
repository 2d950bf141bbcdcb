// Shared wiring for the alarm tests: a real SQLite file in a temp dir, a recording outbox sink,
// a device view and rules built the way the rule engine hands them over.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OpenAlarms } from "../../../src/alarms/open-alarms.js";
import { AlarmService, type AlarmServiceOptions } from "../../../src/alarms/service.js";
import { type Clock, ManualClock } from "../../../src/core/clock.js";
import { EventBus } from "../../../src/core/events.js";
import { silentLogger } from "../../../src/core/log.js";
import { MetricsRegistry } from "../../../src/core/metrics.js";
import type { AlarmChange, AlarmChangeSink, CompiledRule, DeviceView } from "../../../src/core/ports.js";
import type { DeviceState, Reading, RuleDefinition } from "../../../src/core/types.js";
import { AlarmsRepo } from "../../../src/store/alarms-repo.js";
import { type Db, openDatabase } from "../../../src/store/db.js";

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "alarms-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes one outbox row per change, like the upstream writer; throws while `failing` is set. */
export class RecordingSink implements AlarmChangeSink {
  failing: Error | null = null;
  /** Rejects only the changes it matches (a poison change), after writing the others. */
  rejects: ((c: AlarmChange) => boolean) | null = null;
  calls = 0;
  constructor(private readonly db: Db) {}
  writeInTransaction(changes: readonly AlarmChange[]): void {
    this.calls++;
    const ins = this.db.prepare(
      "INSERT INTO outbox (kind, class, stream, alarm_id, payload, created) VALUES (?, 'alarm', ?, ?, ?, ?)",
    );
    for (const c of changes) {
      ins.run(
        `alarm.${c.kind}`,
        c.alarm.id,
        c.alarm.id,
        JSON.stringify({ status: c.alarm.status, cause: c.cause }),
        c.now,
      );
      // Fails after writing, so a rollback is what keeps the rows out.
      if (this.failing) throw this.failing;
      if (this.rejects?.(c)) throw new TypeError(`cannot encode alarm ${c.alarm.id}`);
    }
  }
}

export function rule(over: Partial<RuleDefinition> = {}): CompiledRule {
  const def: RuleDefinition = {
    id: "overvoltage",
    name: "overvoltage",
    title: "Over-voltage on incomer",
    key: "meter",
    type: "rule",
    level: 4,
    conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
    warnConditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 245 }] },
    ...over,
  };
  return { def, file: "rules/test.json", level: () => 0 };
}

export class Devices implements DeviceView {
  readonly map = new Map<string, DeviceState>();
  device(id: string): DeviceState {
    let d = this.map.get(id);
    if (!d) {
      d = {
        id,
        product: "meter",
        name: `Meter ${id}`,
        areaId: 12,
        location: { building: "A" },
        status: "online",
        lastSeen: null,
        values: {},
        source: "mqtt",
      };
      this.map.set(id, d);
    }
    return d;
  }
  get(id: string): DeviceState | undefined {
    return this.map.get(id);
  }
  list(): readonly DeviceState[] {
    return [...this.map.values()];
  }
}

export function reading(device: DeviceState, values: Reading["values"], ts = 0): Reading {
  Object.assign(device.values, values);
  return { deviceId: device.id, product: device.product, ts, values, source: "mqtt" };
}

export interface Rig {
  db: Db;
  reader: Db;
  clock: ManualClock;
  events: EventBus;
  devices: Devices;
  sink: RecordingSink;
  /** Every open-alarm change of a device, in order (what the device registry is told). */
  active: [string, boolean][];
  openAlarms: OpenAlarms;
  svc: AlarmService;
  /** Committed alarms and firings, read the way the API and hooks read them. */
  alarms: AlarmsRepo;
  firings: AlarmsRepo;
  close(): Promise<void>;
}

export async function rig(file: string, opts: Partial<AlarmServiceOptions> & { clock?: Clock } = {}): Promise<Rig> {
  const db = openDatabase(file);
  // A second connection sees only what was committed.
  const reader = openDatabase(file, { readonly: true });
  const clock = (opts.clock as ManualClock | undefined) ?? new ManualClock();
  const log = silentLogger();
  const events = new EventBus(log);
  const devices = new Devices();
  const sink = new RecordingSink(db);
  const active: [string, boolean][] = [];
  const openAlarms = new OpenAlarms(log);
  openAlarms.onChange((id, has) => active.push([id, has]));
  const svc = new AlarmService({
    db,
    clock,
    log,
    events,
    metrics: new MetricsRegistry(),
    changeSink: sink,
    devices,
    openAlarms,
    batchMaxDelayMs: 0,
    ...opts,
  });
  await svc.start();
  return {
    db,
    reader,
    clock,
    events,
    devices,
    sink,
    active,
    openAlarms,
    svc,
    alarms: new AlarmsRepo(db),
    firings: new AlarmsRepo(db, "firings"),
    async close() {
      await svc.stop();
      reader.close();
      db.close();
    },
  };
}

export function committedAlarm(reader: Db, id: string): { status: number; doc: string } | undefined {
  return reader.prepare("SELECT status, doc FROM alarms WHERE id = ?").get(id) as
    | { status: number; doc: string }
    | undefined;
}

export function outboxRows(reader: Db): { kind: string; alarm_id: string; payload: string }[] {
  return reader.prepare("SELECT kind, alarm_id, payload FROM outbox ORDER BY seq").all() as {
    kind: string;
    alarm_id: string;
    payload: string;
  }[];
}
