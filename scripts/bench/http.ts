// Local API figures: latency of /status and /alert/list against /health (the cheapest route) on
// the same server, /metrics render time, and what a reading costs the SSE hub with and without a
// connected page (it subscribes to the bus only while someone watches).

import { silentLogger } from "../../src/core/log.js";
import type { Reading } from "../../src/core/types.js";
import { makeAlarm, startHarness, TOKEN } from "../../test/integration/http/fixtures.js";

const DEVICES = 200;
const ALARMS = 1000;

async function latency(url: string, n: number, concurrency = 4): Promise<{ p50: number; p99: number; rps: number }> {
  const times: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) {
      next++;
      const s = performance.now();
      const res = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } });
      await res.arrayBuffer();
      times.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  times.sort((a, b) => a - b);
  return {
    p50: times[Math.floor(times.length / 2)] ?? 0,
    p99: times[Math.floor(times.length * 0.99)] ?? 0,
    rps: n / elapsed,
  };
}

function emitCost(h: Awaited<ReturnType<typeof startHarness>>, n: number): number {
  const dev = h.devices.get("dev-0")!;
  const r: Reading = { deviceId: "dev-0", product: "meter", ts: 0, values: { v: 1 }, source: "modbus" };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) h.events.emit("reading", r, dev);
  return Number(process.hrtime.bigint() - t0) / n;
}

export default async function bench(): Promise<void> {
  const h = await startHarness({ log: silentLogger() });
  try {
    for (let i = 0; i < DEVICES; i++) {
      const d = h.devices.declare({ id: `dev-${i}`, product: "meter" }, "modbus");
      for (let k = 0; k < 8; k++) d.values[`m${k}`] = i * k;
    }
    for (let i = 0; i < ALARMS; i++) {
      h.alarms.put(makeAlarm(`al-${i}`, { created: i, status: i % 10 === 0 ? 2 : 0 }));
    }
    await latency(`${h.base}/health`, 200); // warm-up
    const health = await latency(`${h.base}/health`, 2000);
    const status = await latency(`${h.base}/status`, 500);
    const list = await latency(`${h.base}/alert/list?limit=100&order=desc`, 1000);
    console.log(
      `http.health_p50_ms: ${health.p50.toFixed(2)} (p99 ${health.p99.toFixed(2)}, ${Math.round(health.rps)} req/s)`,
    );
    console.log(
      `http.status_p50_ms: ${status.p50.toFixed(2)} (${DEVICES} devices, ${ALARMS / 10} active alarms; baseline /health ${health.p50.toFixed(2)}, ratio ${(status.p50 / health.p50).toFixed(1)})`,
    );
    console.log(
      `http.alert_list_p50_ms: ${list.p50.toFixed(2)} (limit 100 of ${ALARMS}; ${Math.round(list.rps)} req/s, ratio to /health ${(list.p50 / health.p50).toFixed(1)})`,
    );
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) h.metrics.render();
    console.log(`http.metrics_render_ms: ${((performance.now() - t0) / 100).toFixed(3)}`);

    const N = 1_000_000;
    emitCost(h, N); // warm-up
    const idle = emitCost(h, N);
    const ctrl = new AbortController();
    const res = await fetch(`${h.base}/events`, { headers: { Authorization: `Bearer ${TOKEN}` }, signal: ctrl.signal });
    const watched = emitCost(h, N);
    ctrl.abort();
    await res.body?.cancel().catch(() => undefined);
    console.log(
      `http.sse_reading_cost_ns: ${watched.toFixed(1)} with a page open (baseline no page: ${idle.toFixed(1)}, ratio ${(watched / Math.max(idle, 0.1)).toFixed(1)})`,
    );
  } finally {
    await h.api.stop();
  }
}
