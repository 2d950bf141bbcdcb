// The pipeline bench's memory child: resident set of an agent after BENCH_MEMORY.expected readings.
// Plain JavaScript so that it runs the compiled agent from dist/ on plain node, as on a site (the
// bench adds `--import tsx` and points `root` at src/ when dist/ is missing). Run with --expose-gc.
// Prints {"ready":true} once the agent is up and idle, then one JSON report line.

const o = JSON.parse(process.env.BENCH_MEMORY);
const imp = (p) => import(new URL(p + o.ext, o.root).href);
const { loadConfig } = await imp("config/load");
const { createAgent } = await imp("app");
const { systemClock } = await imp("core/clock");
const { silentLogger } = await imp("core/log");
const loaded = await loadConfig(o.file, process.env, { cwd: o.dir });
if (!loaded.config)
  throw new Error(`bench config rejected: ${loaded.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
const agent = createAgent(loaded.config, { clock: systemClock, log: silentLogger(), version: "bench" });
await agent.start();
const readings = agent.metrics.counter("edge_readings_total", "Readings ingested, by source").bind({ source: "mqtt" });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await sleep(50);
  }
};
await settle();
const idle = process.memoryUsage().rss;
console.log(JSON.stringify({ ready: true }));
const deadline = Date.now() + 45000;
let last = 0,
  lastAt = 0;
while (readings.get() < o.expected && Date.now() < deadline && (lastAt === 0 || Date.now() - lastAt < 3000)) {
  await sleep(20);
  const c = readings.get();
  if (c !== last) {
    last = c;
    lastAt = Date.now();
  }
}
await settle();
const m = process.memoryUsage();
console.log(
  JSON.stringify({
    idleRssMb: idle / 2 ** 20,
    rssMb: m.rss / 2 ** 20,
    heapUsedMb: m.heapUsed / 2 ** 20,
    received: readings.get(),
    devices: agent.devices.list().length,
  }),
);
await agent.stop();
