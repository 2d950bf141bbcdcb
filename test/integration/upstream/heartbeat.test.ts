// Heartbeat (SPEC §7): device statuses, active alarms, outbox depth; not queued.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { resolveUpstream } from "../../../src/config/defaults.js";
import type { ManualClock } from "../../../src/core/clock.js";
import type { DeviceState } from "../../../src/core/types.js";
import { Heartbeat } from "../../../src/upstream/heartbeat.js";
import {
  commitChange,
  createHarness,
  type FakeUpstream,
  type Harness,
  startUpstream,
  testAlarm,
  testDevice,
} from "../../helpers/upstream.js";
import { waitFor } from "../../helpers/wait.js";

let h: Harness | undefined;
let up: FakeUpstream | undefined;
let hb: Heartbeat | undefined;
afterEach(async () => {
  await hb?.stop();
  await h?.close();
  await up?.close();
  hb = h = up = undefined;
});

const T0 = Date.UTC(2026, 0, 1);

test("heartbeats carry device statuses, active alarms (not those kept local) and outbox depth; a hung one is not queued", async () => {
  up = await startUpstream();
  h = createHarness({});
  // pending items: no upstream configured for the dispatcher, so they stay in the outbox
  commitChange(h.db, h.writer, "created", testAlarm("H1", T0));
  h.clock.advance(90_000);
  const devices: DeviceState[] = [
    testDevice("meter-01", { status: "alarm", lastSeen: T0 + 5 }),
    testDevice("meter-02", { status: "offline", lastSeen: null }),
  ];
  const clock = h.clock as ManualClock;
  hb = new Heartbeat({
    clock,
    log: h.log,
    metrics: h.metrics,
    http: h.http,
    upstream: resolveUpstream({
      baseUrl: up.url,
      token: "tok-heartbeat",
      heartbeatIntervalMs: 30_000,
      timeoutMs: 5000,
    }),
    gatewayId: "gw-01",
    version: "1.2.3",
    devices: { get: (id) => devices.find((d) => d.id === id), list: () => devices },
    // H2 is kept local (its device is in maintenance): the platform never heard of it, so it is not counted.
    alarms: {
      get: () => undefined,
      list: () => ({ total: 0, alarms: [] }),
      active: () => [testAlarm("H1", T0), { ...testAlarm("H2", T0), suppressed: "maintenance" }],
    },
    outbox: h.repo,
    kpis: { kpis: async () => ({ energy_kwh: 12.5 }) },
    startedAt: T0,
  });
  hb.start();
  await waitFor(() => up?.paths("/api/ai/device/heartbeat").length === 1, { what: "first heartbeat" });
  const r = up.paths("/api/ai/device/heartbeat")[0];
  assert.equal(r?.headers.authorization, "Bearer tok-heartbeat");
  assert.deepEqual(r?.json, {
    gatewayId: "gw-01",
    ts: T0 + 90_000,
    version: "1.2.3",
    uptimeS: 90,
    devices: [
      { id: "meter-01", status: "alarm", lastSeen: T0 + 5 },
      { id: "meter-02", status: "offline", lastSeen: null },
    ],
    activeAlarms: 1,
    outbox: { pending: 1, oldestPendingAgeS: 90, deadLetters: 0 },
    kpis: { energy_kwh: 12.5 },
    kpisByPeriod: { today: { energy_kwh: 12.5 }, month: { energy_kwh: 12.5 }, year: { energy_kwh: 12.5 } },
  });
  // the next one hangs; ticks meanwhile are skipped, not queued
  await hb.idle(); // the first one's answer has been read
  up.enqueue("/api/ai/device/heartbeat", "hang");
  clock.advance(30_000);
  await waitFor(() => up?.paths("/api/ai/device/heartbeat").length === 2, { what: "second heartbeat" });
  clock.advance(30_000); // the hung one is still in flight: this tick is skipped, not queued
  assert.equal(h.metrics.counter("edge_heartbeats_total", "").get({ result: "skipped" }), 1);
  assert.equal(up.paths("/api/ai/device/heartbeat").length, 2);
  assert.equal(h.metrics.counter("edge_heartbeats_total", "").get({ result: "ok" }), 1);
});
