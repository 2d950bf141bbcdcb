// The alarm service wired to the real outbox writer and dispatcher, delivering to the fake
// platform (alarms, work orders, webhooks) over real HTTP, with a manual clock.
import { AlarmService } from "../../../src/alarms/service.js";
import { silentLogger } from "../../../src/core/log.js";
import { MetricsRegistry } from "../../../src/core/metrics.js";
import type { Alarm, RuleDefinition } from "../../../src/core/types.js";
import { AlarmsRepo } from "../../../src/store/alarms-repo.js";
import { createHarness, type FakeUpstream, type Harness, startUpstream } from "../../helpers/upstream.js";
import { waitFor } from "../../helpers/wait.js";
import { Devices } from "./setup.js";

export const SECRET = "wo-secret-period";
export const CREATE = "/open-api/ops/security/order/create";
export const COMPLETE = "/open-api/ops/security/order/auto-complete";

export interface PlatformRig {
  up: FakeUpstream;
  h: Harness;
  devices: Devices;
  svc: AlarmService;
  /** Committed alarms and firings, read the way the API and hooks read them. */
  alarms: AlarmsRepo;
  firings: AlarmsRepo;
  created: Alarm[];
  resolved: Alarm[];
  /** A new service on the same database: what a restart of the agent sees. */
  restart(): Promise<void>;
  /** Commits, delivers everything, and waits until the outbox is empty. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function platformRig(): Promise<PlatformRig> {
  const up = await startUpstream({ appSecret: SECRET });
  const h = createHarness({
    upstream: { baseUrl: up.url, token: "tok" },
    workOrders: { enabled: true, baseUrl: up.url, appId: "edge", appSecret: SECRET, tenantId: "1" },
  });
  const devices = new Devices();
  const created: Alarm[] = [];
  const resolved: Alarm[] = [];
  h.events.on("alarmCreated", (a) => created.push(a));
  h.events.on("alarmResolved", (a) => resolved.push(a));
  const make = () =>
    new AlarmService({
      db: h.db,
      clock: h.clock,
      log: silentLogger(),
      events: h.events,
      metrics: new MetricsRegistry(),
      changeSink: h.writer,
      devices,
      batchMaxDelayMs: 0,
      onOutboxWritten: () => h.dispatcher.kick(),
    });
  const rig: PlatformRig = {
    up,
    h,
    devices,
    svc: make(),
    alarms: new AlarmsRepo(h.db),
    firings: new AlarmsRepo(h.db, "firings"),
    created,
    resolved,
    async restart() {
      await rig.svc.stop();
      rig.svc = make();
      await rig.svc.start();
    },
    async settle() {
      await rig.svc.flush();
      h.dispatcher.kick();
      await waitFor(() => h.repo.summary(h.clock.now()).pending === 0, { what: "outbox delivered" });
    },
    async close() {
      await rig.svc.stop();
      await h.close();
      await up.close();
    },
  };
  await rig.svc.start();
  h.dispatcher.start();
  return rig;
}

export function platformRule(up: FakeUpstream, over: Partial<RuleDefinition> = {}): RuleDefinition {
  return {
    id: "overvoltage",
    name: "overvoltage",
    title: "Over-voltage on incomer",
    key: "meter",
    type: "rule",
    level: 4,
    conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
    actions: { workOrder: {}, webhook: `${up.url}/hook/alarm` },
    ...over,
  };
}
