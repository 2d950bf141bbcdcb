// onTick: called every hooks.tickIntervalMs for each running hook that defines it, skipped (and
// counted) while the hook's previous onTick runs, contained like every hook call.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import { type Harness, harness } from "../../fixtures/hooks/harness.js";
import { waitFor } from "../../helpers/wait.js";

const g = globalThis as unknown as Record<string, unknown>;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Lets promise continuations (a hook's async onTick settling) run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

test("onTick is called at hooks.tickIntervalMs for every running hook that defines it, with ctx", async () => {
  const clock = new ManualClock();
  h = harness({ clock, hooksConfig: { tickIntervalMs: 250 } });
  g.__ticks = [];
  h.write("a.mjs", "export default { onTick(ctx) { globalThis.__ticks.push(['a', ctx.name]); } };");
  h.write("b.mjs", "export default { onTick(ctx) { globalThis.__ticks.push(['b', ctx.name]); } };");
  h.write("c.mjs", "export default { onReading() {} };");
  await h.manager.start();
  clock.advance(249);
  assert.deepEqual(g.__ticks, [], "not before the interval");
  clock.advance(1);
  assert.deepEqual(g.__ticks, [
    ["a", "a"],
    ["b", "b"],
  ]);
  clock.advance(750);
  assert.equal((g.__ticks as unknown[]).length, 8, "four ticks of two hooks");
  await h.manager.stop();
  clock.advance(1000);
  assert.equal((g.__ticks as unknown[]).length, 8, "no tick after stop");
});

test("a hook still busy with its previous onTick is skipped and the skips are counted; others keep ticking", async () => {
  const clock = new ManualClock();
  h = harness({ clock, hooksConfig: { tickIntervalMs: 1000, timeoutMs: 60_000 } });
  g.__slow = { calls: 0, release: null };
  g.__fast = 0;
  h.write(
    "slow.mjs",
    `export default { onTick() {
      globalThis.__slow.calls++;
      return new Promise((r) => { globalThis.__slow.release = r; });
    } };`,
  );
  h.write("fast.mjs", "export default { onTick() { globalThis.__fast++; } };");
  await h.manager.start();
  const slow = g.__slow as { calls: number; release: (() => void) | null };
  clock.advance(1000);
  assert.equal(slow.calls, 1);
  clock.advance(3000);
  assert.equal(slow.calls, 1, "not called again while the first call runs");
  assert.equal(g.__fast, 4, "the other hook ticked every time");
  const skipped = h.metrics.counter("edge_hook_ticks_skipped_total", "").get({ hook: "slow" });
  assert.equal(skipped, 3);
  const info = h.manager.list().find((i) => i.name === "slow");
  assert.equal(info?.ticksSkipped, 3, "/hooks/list shows the skips");
  assert.equal(h.manager.list().find((i) => i.name === "fast")?.ticksSkipped, 0);
  slow.release?.();
  await settle();
  clock.advance(1000);
  assert.equal(slow.calls, 2, "called again once the previous call finished");
  assert.equal(h.metrics.counter("edge_hook_ticks_skipped_total", "").get({ hook: "slow" }), 3);
});

test("a throwing or rejecting onTick is logged and counted, and ticks go on", async () => {
  const clock = new ManualClock();
  h = harness({ clock, hooksConfig: { tickIntervalMs: 100 } });
  g.__bad = 0;
  h.write(
    "bad.mjs",
    `export default { onTick() {
      globalThis.__bad++;
      if (globalThis.__bad % 2 === 0) return Promise.reject(new Error('async tick failed'));
      throw new Error('tick failed');
    } };`,
  );
  await h.manager.start();
  for (let i = 0; i < 5; i++) {
    clock.advance(100);
    await settle();
  }
  assert.equal(g.__bad, 5, "every tick called the hook again");
  await waitFor(() => h?.manager.list()[0]?.errors === 5, { what: "five errors counted" });
  const info = h.manager.list()[0];
  assert.equal(info?.state, "running");
  assert.match(String(info?.lastError), /onTick: (async )?tick failed/);
  assert.ok(h.logs.some((l) => l.hook === "bad" && l.method === "onTick" && l.level === 50));
  assert.equal(info?.ticksSkipped, 0);
});

test("hooks.tickIntervalMs 0 never calls onTick; no timer runs when no hook defines it", async () => {
  const clock = new ManualClock();
  h = harness({ clock, hooksConfig: { tickIntervalMs: 0 } });
  g.__off = 0;
  h.write("t.mjs", "export default { onTick() { globalThis.__off++; } };");
  await h.manager.start();
  clock.advance(10_000);
  assert.equal(g.__off, 0);
  await h.close();

  const clock2 = new ManualClock();
  h = harness({ clock: clock2 });
  h.write("o.mjs", "export default { onReading() {} };");
  await h.manager.start();
  assert.equal(clock2.pendingTimers(), 0, "no tick timer without an onTick hook");
});
