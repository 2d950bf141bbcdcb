// A hook cannot end the agent: process.exit / abort / kill(self) from a hook's import, a handler or
// an async continuation of a handler throw inside the hook, the log names the hook and method, and
// the other hooks keep running. Also: quarantined hooks are not loaded until their file changes.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import type { DeviceState, Reading } from "../../../src/core/types.js";
import { HookActivity } from "../../../src/hooks/activity.js";
import { agentExit, installExitGuard } from "../../../src/hooks/exit-guard.js";
import { fileSha256, QUARANTINE_FILE, readQuarantine, writeQuarantine } from "../../../src/hooks/quarantine.js";
import { type Harness, harness } from "../../fixtures/hooks/harness.js";
import { waitFor } from "../../helpers/wait.js";

let h: Harness | undefined;
let removeGuard: (() => void) | undefined;
afterEach(async () => {
  removeGuard?.();
  removeGuard = undefined;
  await h?.close();
  h = undefined;
});

const g = globalThis as unknown as { __good: number[] };
const device: DeviceState = { id: "m1", product: "meter", status: "online", lastSeen: 1, values: {}, source: "mqtt" };
const reading = (v: number): Reading => ({ deviceId: "m1", product: "meter", ts: v, values: { v }, source: "mqtt" });

test("process.exit, abort and kill(self) from hooks are refused; the log names hook and method; other hooks run on", async () => {
  g.__good = [];
  h = harness();
  const activity = new HookActivity();
  const hooksLog = h.logs;
  const { createLogger } = await import("../../../src/core/log.js");
  const log = createLogger({ destination: { write: (s: string) => void hooksLog.push(JSON.parse(s)) } });
  removeGuard = installExitGuard(log, activity);
  h.write("a-import.mjs", "process.exit(1);\nexport default { onReading() {} };");
  h.write("b-handler.mjs", "export default { onReading() { process.exit(3); } };");
  h.write(
    "c-async.mjs",
    "export default { async onReading() { await new Promise((r) => setTimeout(r, 1)); process.kill(process.pid, 'SIGKILL'); } };",
  );
  h.write("d-abort.mjs", "export default { onReading() { try { process.abort(); } catch { /* swallowed */ } } };");
  h.write("z-good.mjs", "export default { onReading(r) { globalThis.__good.push(r.values.v); } };");
  const m = h.make({ activity });
  await m.start();
  const states = Object.fromEntries(m.list().map((i) => [i.name, i.state]));
  assert.equal(states["a-import"], "failed");
  assert.match(String(m.list().find((i) => i.name === "a-import")?.lastError), /process\.exit\(1\) refused/);

  for (let i = 1; i <= 3; i++) h.events.emit("reading", reading(i), device);
  await waitFor(() => g.__good.length === 3, { what: "the good hook saw every reading" });
  // The guard's own line (the hook's throw is logged again as that call's error).
  const refused = (hook: string) =>
    h?.logs.filter((l) => l.hook === hook && /^process\.\w+\(.*\) refused: hook /.test(l.msg)) ?? [];
  await waitFor(() => refused("c-async").length === 3, { what: "c-async refusals logged" });
  assert.equal(refused("a-import")[0]?.method, "import");
  assert.match(String(refused("a-import")[0]?.msg), /^process\.exit\(1\) refused: hook a-import \(import\)/);
  assert.equal(refused("b-handler").length, 3);
  assert.equal(refused("b-handler")[0]?.method, "onReading");
  assert.match(String(refused("b-handler")[0]?.msg), /process\.exit\(3\) refused/);
  assert.equal(refused("c-async")[0]?.method, "onReading");
  assert.match(String(refused("c-async")[0]?.msg), /process\.kill\(\d+, "SIGKILL"\) refused/);
  // A hook that swallows the error is still named in the log.
  assert.equal(refused("d-abort").length, 3);
  assert.equal(refused("d-abort")[0]?.method, "onReading");
  // The handler's throw is also counted as that hook's error.
  assert.equal(m.list().find((i) => i.name === "b-handler")?.errors, 3);
  assert.deepEqual(g.__good, [1, 2, 3]);
  assert.equal(m.list().find((i) => i.name === "z-good")?.state, "running");
});

test("the guard refuses exits from outside hooks too, agentExit is the way out, and removing it restores process.exit", () => {
  const original = process.exit;
  const lines: { msg: string; hook?: string | undefined }[] = [];
  removeGuard = installExitGuard(
    {
      error: (o: { hook?: string }, msg: string) => void lines.push({ msg, hook: o.hook }),
    } as unknown as Parameters<typeof installExitGuard>[0],
    new HookActivity(),
  );
  assert.throws(() => process.exit(0), /process\.exit\(0\) refused: code outside any hook/);
  assert.doesNotThrow(() => process.kill(process.pid, 0), "signal 0 only probes");
  assert.equal(lines.length, 1);
  assert.equal(typeof agentExit, "function");
  removeGuard();
  removeGuard = undefined;
  assert.equal(process.exit, original);
});

test("a quarantined hook is not imported until its content changes; then it loads and leaves the quarantine", async () => {
  g.__good = [];
  h = harness();
  const dataDir = mkdtempSync(join(tmpdir(), "ea-quarantine-"));
  try {
    const file = h.write(
      "spin.mjs",
      "globalThis.__good.push(-1);\nexport default { onReading() { while (true) {} } };",
    );
    h.write("z-good.mjs", "export default { onReading(r) { globalThis.__good.push(r.values.v); } };");
    mkdirSync(dataDir, { recursive: true });
    writeQuarantine(
      dataDir,
      new Map([
        [
          "spin",
          {
            file,
            sha256: fileSha256(file),
            method: "onReading",
            reason: "it blocked the event loop for 2 s in onReading (hooks.watchdogS = 1)",
            at: "2026-01-01T00:00:00.000Z",
          },
        ],
      ]),
    );
    const m = h.make({ dataDir });
    await m.start();
    const info = m.list().find((i) => i.name === "spin");
    assert.equal(info?.state, "quarantined");
    assert.match(String(info?.lastError), /blocked the event loop for 2 s in onReading/);
    assert.match(String(info?.lastError), /not loaded until its file changes/);
    assert.deepEqual(g.__good, [], "the quarantined module's top-level code did not run");
    assert.ok(h.logs.some((l) => l.hook === "spin" && l.level === 50 && /quarantined since/.test(l.msg)));
    const viaApi = await m.load("spin");
    assert.equal(viaApi.ok, false, "the API does not bypass the quarantine");

    // Same content, new mtime (touch): still quarantined.
    writeFileSync(file, readFileSync(file));
    await m.rescan();
    assert.equal(m.list().find((i) => i.name === "spin")?.state, "quarantined");

    writeFileSync(file, "export default { onReading(r) { globalThis.__good.push(r.values.v * 10); } };");
    await m.rescan();
    assert.equal(m.list().find((i) => i.name === "spin")?.state, "running");
    assert.equal(readQuarantine(dataDir).size, 0);
    assert.match(readFileSync(join(dataDir, QUARANTINE_FILE), "utf8"), /"hooks": \{\}/);
    h.events.emit("reading", reading(4), device);
    await waitFor(() => g.__good.length === 2, { what: "both hooks saw the reading" });
    assert.deepEqual(
      g.__good.sort((a, b) => a - b),
      [4, 40],
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
