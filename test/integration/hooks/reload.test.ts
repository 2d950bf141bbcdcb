// Hot reload over a real directory with fs.watch and the real clock: edits, additions and deletions
// take effect within 2 s; a version that fails to import leaves the old one running and says why.
import assert from "node:assert/strict";
import { unlinkSync, utimesSync } from "node:fs";
import { afterEach, test } from "node:test";
import { systemClock } from "../../../src/core/clock.js";
import type { DeviceState, Reading } from "../../../src/core/types.js";
import { type Harness, harness } from "../../fixtures/hooks/harness.js";
import { waitFor } from "../../helpers/wait.js";

const g = globalThis as unknown as { __rl: string[] };
let h: Harness;
afterEach(async () => {
  await h?.close();
});

const device: DeviceState = { id: "m", product: "meter", status: "online", lastSeen: 1, values: {}, source: "mqtt" };
const reading: Reading = { deviceId: "m", product: "meter", ts: 1, values: { v: 1 }, source: "mqtt" };

/** Emits a reading until the hook's answer shows `tag` (each emit is one more chance). */
async function seen(tag: string, timeoutMs = 2000): Promise<void> {
  const t0 = Date.now();
  await waitFor(
    () => {
      h.events.emit("reading", reading, device);
      return g.__rl.includes(tag);
    },
    { timeoutMs, intervalMs: 25, what: `hook answering ${tag}` },
  );
  assert.ok(Date.now() - t0 <= timeoutMs);
}

function bumpMtime(file: string, secondsAhead: number): void {
  const t = new Date(Date.now() + secondsAhead * 1000);
  utimesSync(file, t, t);
}

test("edit, add and delete take effect within 2 s; stop runs on the old version, start on the new", async () => {
  g.__rl = [];
  h = harness({ clock: systemClock, watch: true });
  const src = (tag: string) =>
    `export default { start() { globalThis.__rl.push('start:${tag}') }, stop() { globalThis.__rl.push('stop:${tag}') }, onReading() { globalThis.__rl.push('${tag}') } };`;
  const f = h.write("probe.mjs", src("v1"));
  await h.manager.start();
  await seen("v1", 500);

  h.write("probe.mjs", src("v2"));
  bumpMtime(f, 2); // coarse-mtime file systems: make the edit visible even within the same tick
  await seen("v2");
  const i = g.__rl.indexOf("stop:v1");
  assert.ok(i >= 0 && i < g.__rl.indexOf("start:v2"), "old stopped before new started");

  g.__rl.length = 0;
  h.write("added.mjs", "export default { onReading() { globalThis.__rl.push('added') } };");
  await seen("added");

  unlinkSync(f);
  await waitFor(() => g.__rl.includes("stop:v2"), { timeoutMs: 2000, what: "deleted hook stopped" });
  assert.deepEqual(
    h.manager.list().map((x) => x.name),
    ["added"],
  );
});

test("a new version that fails to import leaves the old one running and logs why; a fixed one loads", async () => {
  g.__rl = [];
  h = harness({ clock: systemClock, watch: true });
  const f = h.write("probe.mjs", "export default { onReading() { globalThis.__rl.push('good') } };");
  await h.manager.start();
  await seen("good", 500);

  h.write("probe.mjs", "export default { onReading() { globalThis.__rl.push('bad') } ;; syntax error here");
  bumpMtime(f, 2);
  const err = await waitFor(() => h.logs.find((l) => l.level === 50 && /previous version keeps running/.test(l.msg)), {
    timeoutMs: 2000,
    what: "import failure logged",
  });
  assert.match(err.msg, /hook probe: new version not loaded \(import failed: .+\)/);
  g.__rl.length = 0;
  await seen("good", 500);
  const info = h.manager.list()[0];
  assert.equal(info?.state, "running");
  assert.match(info?.lastError ?? "", /import failed/);

  h.write("probe.mjs", "export default { onReading() { globalThis.__rl.push('fixed') } };");
  bumpMtime(f, 4);
  await seen("fixed");
  assert.equal(h.manager.list()[0]?.lastError, undefined);
});

test("a CommonJS hook (.js outside an ESM package) reloads on edit too", async () => {
  g.__rl = [];
  h = harness({ clock: systemClock, watch: true });
  const f = h.write("cjs.js", "module.exports = { onReading() { globalThis.__rl.push('cjs-v1') } };");
  await h.manager.start();
  await seen("cjs-v1", 500);
  h.write("cjs.js", "module.exports = { onReading() { globalThis.__rl.push('cjs-v2') } };");
  bumpMtime(f, 2);
  await seen("cjs-v2");
});
