// Outbox drain: N pending alarms (add + resolve update each, so per-alarm order is at stake)
// delivered to a loopback upstream that answers every request after 5 ms. Prints items/s with
// the configured concurrency against strictly sequential delivery (concurrency 1), and checks
// that every alarm's add arrived before its update. Stops by itself and removes its files.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { resolveOutbox, resolveUpstream } from "../../src/config/defaults.js";
import { systemClock } from "../../src/core/clock.js";
import { silentLogger } from "../../src/core/log.js";
import { openDatabase } from "../../src/store/db.js";
import { OutboxRepo } from "../../src/store/outbox-repo.js";
import { OutboxWriter } from "../../src/store/outbox-writer.js";
import { Dispatcher } from "../../src/upstream/dispatcher.js";
import { testBus, testMetrics } from "../../test/helpers/harness.js";
import { commitChange, perAlarmSequence, startUpstream, testAlarm } from "../../test/helpers/upstream.js";

interface ServerReport {
  requests: number;
  ordered: boolean;
  maxInflight: number;
}

/** The upstream runs in its own process, as a remote platform would: it does not share our event loop. */
async function serve(): Promise<void> {
  const up = await startUpstream({ delayMs: REPLY_MS });
  process.stdout.write(`${up.url}\n`);
  process.stdin.once("data", () => {
    let ordered = true;
    for (const list of perAlarmSequence(up).values()) {
      const u = list.indexOf("update:0");
      if (u >= 0 && !list.slice(0, u).includes("add")) ordered = false;
    }
    const report: ServerReport = { requests: up.requests.length, ordered, maxInflight: up.maxInflight };
    process.stdout.write(`${JSON.stringify(report)}\n`);
    void up.close().then(() => process.exit(0));
  });
}

async function startServer(): Promise<{ url: string; report(): Promise<ServerReport>; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", new URL(import.meta.url).pathname, "--serve"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines: string[] = [];
  let buf = "";
  const waiters: (() => void)[] = [];
  child.stdout?.on("data", (d: Buffer) => {
    buf += d.toString();
    let i = buf.indexOf("\n");
    while (i >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
      i = buf.indexOf("\n");
      for (const w of waiters.splice(0)) w();
    }
  });
  const nextLine = async (): Promise<string> => {
    const deadline = Date.now() + 20_000;
    while (lines.length === 0) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error("bench upstream server did not answer");
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return lines.shift() as string;
  };
  const url = await nextLine();
  return {
    url,
    child,
    async report() {
      child.stdin?.write("report\n");
      return JSON.parse(await nextLine()) as ServerReport;
    },
  };
}

const REPLY_MS = 5;

async function drain(alarms: number, concurrency: number, deadlineMs: number) {
  const dir = mkdtempSync(join(tmpdir(), "edge-bench-upstream-"));
  const up = await startServer();
  const db = openDatabase(join(dir, "edge-agent.db"));
  const http = new Agent({ connections: concurrency, keepAliveTimeout: 10_000 });
  const log = silentLogger();
  try {
    const writer = new OutboxWriter({ db });
    const now = Date.now();
    // Committed in batches like the alarms service does under load.
    for (let b = 0; b < alarms; b += 500) {
      db.transaction(() => {
        for (let i = b; i < Math.min(alarms, b + 500); i++) {
          const a = testAlarm(`B${String(i).padStart(6, "0")}`, now, { resource: { id: `m-${i}`, product: "meter" } });
          commitChange(db, writer, "created", a);
          commitChange(db, writer, "resolved", { ...a, status: 0, updated: now + 1, resolvedAt: now + 1 });
        }
      })();
    }
    const repo = new OutboxRepo({ db });
    const items = repo.countPending();
    const d = new Dispatcher({
      db,
      clock: systemClock,
      log,
      metrics: testMetrics(),
      events: testBus(log),
      http,
      upstream: resolveUpstream({ baseUrl: up.url, concurrency }),
      outbox: resolveOutbox(undefined),
    });
    const t0 = performance.now();
    d.start();
    const stopAt = Date.now() + deadlineMs;
    let pending = items;
    while (pending > 0 && Date.now() < stopAt) {
      await new Promise((r) => setTimeout(r, 20));
      pending = repo.countPending();
    }
    const s = (performance.now() - t0) / 1000;
    await d.stop();
    const delivered = items - pending;
    const r = await up.report();
    return { items, delivered, seconds: s, perSecond: delivered / s, ordered: r.ordered, maxInflight: r.maxInflight };
  } finally {
    await http.close();
    db.close();
    if (up.child.exitCode === null) up.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function bench(): Promise<void> {
  const seq = await drain(500, 1, 30_000);
  const line = (c: number, r: Awaited<ReturnType<typeof drain>>) =>
    `${r.perSecond.toFixed(0)} (${r.delivered}/${r.items} items of ${r.items / 2} alarms in ${r.seconds.toFixed(2)} s, concurrency ${c}, upstream ${REPLY_MS} ms; baseline sequential: ${seq.perSecond.toFixed(0)}/s, ratio ${(r.perSecond / seq.perSecond).toFixed(1)})`;
  const c16 = await drain(10_000, 16, 40_000);
  console.log(`upstream.drain_items_per_s: ${line(16, c16)}`);
  const c32 = await drain(10_000, 32, 40_000);
  console.log(`upstream.drain_items_per_s_concurrency_32: ${line(32, c32)}`);
  console.log(`upstream.drain_max_in_flight: ${c16.maxInflight} / ${c32.maxInflight} (baseline: ${seq.maxInflight})`);
  console.log(`upstream.drain_per_alarm_order_intact: ${c16.ordered && c32.ordered && seq.ordered ? "yes" : "NO"}`);
}

if (process.argv.includes("--serve")) await serve();
else if (import.meta.url === `file://${process.argv[1]}`) await bench();
