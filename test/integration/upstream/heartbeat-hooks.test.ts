// The heartbeat and the hooks, against the fake platform over real HTTP: the body passes through
// beforeUpload (kind "heartbeat"; null skips it; a throw or timeout sends the original), and carries
// today's KPIs flat plus every period in kpisByPeriod, with the year not recomputed per heartbeat.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { Agent } from "undici";
import { resolveUpstream } from "../../../src/config/defaults.js";
import { ManualClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import { KpiCache } from "../../../src/hooks/kpi-cache.js";
import { Heartbeat } from "../../../src/upstream/heartbeat.js";
import { type Harness, harness } from "../../fixtures/hooks/harness.js";
import { type FakeUpstream, startUpstream } from "../../helpers/upstream.js";
import { waitFor } from "../../helpers/wait.js";

const PATH = "/api/ai/device/heartbeat";
const INTERVAL = 30_000;
const g = globalThis as unknown as Record<string, unknown>;

let h: Harness | undefined;
let up: FakeUpstream | undefined;
let hb: Heartbeat | undefined;
let http: Agent | undefined;
afterEach(async () => {
  await hb?.stop();
  await h?.close();
  await up?.close();
  await http?.close();
  hb = h = up = http = undefined;
});

async function rig(hookSource: string, timeoutMs = 2000): Promise<{ clock: ManualClock; hb: Heartbeat }> {
  const clock = new ManualClock(Date.UTC(2026, 5, 10, 10));
  up = await startUpstream();
  h = harness({ clock, hooksConfig: { timeoutMs } });
  h.write("site.mjs", hookSource);
  await h.manager.start();
  http = new Agent();
  hb = new Heartbeat({
    clock,
    log: silentLogger(),
    metrics: h.metrics,
    http,
    upstream: resolveUpstream({ baseUrl: up.url, heartbeatIntervalMs: INTERVAL, timeoutMs: 5000 }),
    gatewayId: "gw-hb",
    version: "1.0.0",
    devices: h.devices,
    alarms: null,
    outbox: null,
    kpis: new KpiCache({ source: h.manager, clock, timezone: "Europe/Prague" }),
    interceptor: h.manager.uploadInterceptor,
  });
  return { clock, hb };
}

const sent = (): Record<string, unknown>[] => (up?.paths(PATH) ?? []).map((r) => r.json as Record<string, unknown>);

test("beforeUpload sees the heartbeat with kind 'heartbeat' and what it returns is sent", async () => {
  const r = await rig(`export default {
    beforeUpload(kind, payload) {
      (globalThis.__kinds ??= []).push(kind);
      if (kind === 'heartbeat') return { ...payload, site: 'plant-7' };
    },
  };`);
  g.__kinds = [];
  r.hb.start();
  await waitFor(() => sent().length === 1, { what: "first heartbeat" });
  assert.deepEqual(g.__kinds, ["heartbeat"]);
  const body = sent()[0] as Record<string, unknown>;
  assert.equal(body.site, "plant-7");
  assert.equal(body.gatewayId, "gw-hb");
});

test("beforeUpload returning null skips that heartbeat only; a throw or a timeout sends the original", async () => {
  const r = await rig(
    `export default {
      beforeUpload(kind, payload) {
        if (kind !== 'heartbeat') return;
        const mode = globalThis.__mode;
        globalThis.__seen = (globalThis.__seen ?? 0) + 1;
        if (mode === 'skip') return null;
        if (mode === 'throw') { payload.changed = true; throw new Error('hook bug'); }
        if (mode === 'hang') return new Promise(() => {});
        return { ...payload, mode };
      },
    };`,
    1000,
  );
  g.__seen = 0;
  g.__mode = "skip";
  r.hb.start();
  await waitFor(() => g.__seen === 1, { what: "the hook saw the first heartbeat" });
  await r.hb.idle();
  assert.equal(sent().length, 0, "skipped: nothing reached the platform");
  assert.equal(h?.metrics.counter("edge_heartbeats_total", "").get({ result: "skipped" }), 1);

  g.__mode = "throw";
  r.clock.advance(INTERVAL);
  await waitFor(() => sent().length === 1, { what: "heartbeat after a throwing hook" });
  const thrown = sent()[0] as Record<string, unknown>;
  assert.equal(thrown.changed, undefined, "the original body, not the hook's half-changed copy");
  assert.equal(thrown.gatewayId, "gw-hb");
  await r.hb.idle();

  g.__mode = "hang";
  r.clock.advance(INTERVAL);
  await waitFor(() => g.__seen === 3, { what: "the hook saw the third heartbeat" });
  r.clock.advance(1000); // hooks.timeoutMs: the call is abandoned
  await waitFor(() => sent().length === 2, { what: "heartbeat after a hung hook" });
  assert.equal((sent()[1] as Record<string, unknown>).mode, undefined);
  assert.equal(h?.manager.list()[0]?.timeouts, 1);
  await r.hb.idle();

  g.__mode = "ok";
  r.clock.advance(INTERVAL);
  await waitFor(() => sent().length === 3, { what: "heartbeat changed by the hook again" });
  assert.equal((sent()[2] as Record<string, unknown>).mode, "ok");
});

test("kpis: today flat, every period in kpisByPeriod; the year is not recomputed for every heartbeat", async () => {
  const r = await rig(`export default {
    kpis(period) {
      globalThis.__kc[period] = (globalThis.__kc[period] ?? 0) + 1;
      return { [period + '_kwh']: globalThis.__kc[period] };
    },
  };`);
  g.__kc = {};
  r.hb.start();
  await waitFor(() => sent().length === 1, { what: "first heartbeat" });
  const first = sent()[0] as Record<string, unknown>;
  assert.deepEqual(first.kpis, { today_kwh: 1 });
  assert.deepEqual(first.kpisByPeriod, {
    today: { today_kwh: 1 },
    month: { month_kwh: 1 },
    year: { year_kwh: 1 },
  });
  for (let i = 2; i <= 10; i++) {
    await r.hb.idle();
    r.clock.advance(INTERVAL);
    await waitFor(() => sent().length === i, { what: `heartbeat ${i}` });
  }
  const kc = g.__kc as Record<string, number>;
  assert.equal(kc.year, 1, "ten heartbeats, one year computation");
  assert.equal(kc.month, 1);
  assert.equal(kc.today, 5, "today once a minute over 4.5 minutes");
  const last = sent()[9] as Record<string, unknown>;
  assert.deepEqual(last.kpisByPeriod, { today: { today_kwh: 5 }, month: { month_kwh: 1 }, year: { year_kwh: 1 } });
});
