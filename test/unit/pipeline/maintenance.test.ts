// Run-time maintenance over a real SQLite file: requests are checked (unknown device, `until` in
// the past or unreadable, config maintenance switched off), pass a status interceptor (a veto
// changes nothing), survive a restart, and end by themselves at `until` on the injected clock.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import type { MaintenanceResult } from "../../../src/core/maintenance-ports.js";
import type { DeviceStatusInterceptor, DeviceStatusVerdict } from "../../../src/core/ports.js";
import { DeviceRegistry } from "../../../src/pipeline/device-registry.js";
import { Maintenance, parseUntil } from "../../../src/pipeline/maintenance.js";
import { type Db, openDatabase } from "../../../src/store/db.js";
import { MaintenanceRepo } from "../../../src/store/maintenance-repo.js";
import { captureLog, testBus } from "../../helpers/harness.js";
import { waitFor } from "../../helpers/wait.js";

const root = mkdtempSync(join(tmpdir(), "ea-maintenance-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const HOUR = 3_600_000;

/** One agent "life" over `file`: a registry with devices a, b and cfg (config maintenance), started. */
async function life(file: string, clock: ManualClock, interceptor?: DeviceStatusInterceptor) {
  const db: Db = openDatabase(file);
  const events = testBus();
  const changes: string[] = [];
  const devices = new DeviceRegistry({ meta: { cfg: { maintenance: true } }, events });
  events.on("deviceStatusChanged", (d, from, to) => changes.push(`${d.id}:${from}->${to}:${devices.changeReason}`));
  for (const id of ["a", "b", "cfg"]) devices.declare({ id, product: "meter" }, "modbus");
  devices.setReachable("a", true, "first poll succeeded");
  if (interceptor) devices.interceptStatus(interceptor);
  const logs = captureLog();
  const m = new Maintenance({ devices, store: new MaintenanceRepo(db), clock, log: logs.log });
  await m.start();
  const close = async () => {
    await m.stop();
    db.close();
  };
  return { db, devices, m, changes, logs, close };
}

function refusal(r: MaintenanceResult) {
  assert.equal(r.ok, false, "refused");
  return r as Extract<MaintenanceResult, { ok: false }>;
}

describe("Maintenance", () => {
  it("refuses an unknown device, a past or unreadable until, and switching off config maintenance", async () => {
    const clock = new ManualClock();
    const l = await life(join(root, `m-${++n}.db`), clock);
    const unknown = refusal(await l.m.set("nope", true, { by: "api" }));
    assert.deepEqual([unknown.refusal, unknown.field], ["unknown-device", "did"]);
    assert.match(unknown.message, /no device with id "nope"/);
    const past = refusal(await l.m.set("a", true, { by: "api", until: clock.now() - 1000 }));
    assert.deepEqual([past.refusal, past.field], ["invalid", "until"]);
    assert.match(past.message, /in the past/);
    const junk = refusal(await l.m.set("a", true, { by: "api", until: "tomorrow-ish" }));
    assert.equal(junk.field, "until");
    assert.match(junk.message, /ISO-8601/);
    const cfg = refusal(await l.m.set("cfg", false, { by: "api" }));
    assert.deepEqual([cfg.refusal, cfg.field], ["config", "on"]);
    assert.match(cfg.message, /devices\.cfg\.maintenance: true.*cannot be switched off at run time/);
    assert.equal(l.devices.get("a")?.status, "online", "nothing changed");
    assert.equal(l.devices.get("cfg")?.status, "maintenance");
    assert.deepEqual(
      l.m.list().map((e) => [e.did, e.origin]),
      [["cfg", "config"]],
    );
    await l.close();
  });

  it("survives a restart; until ends it with an event, also when it passed while stopped", async () => {
    const file = join(root, `m-${++n}.db`);
    const clock = new ManualClock();
    const first = await life(file, clock);
    const on = await first.m.set("a", true, { by: "cli", reason: "panel work", until: clock.now() + 2 * HOUR });
    assert.equal(on.ok, true);
    const iso = new Date(clock.now() + HOUR).toISOString();
    assert.equal((await first.m.set("b", true, { by: "page", until: iso })).ok, true);
    assert.deepEqual(first.changes, [
      "a:unknown->online:first poll succeeded",
      "a:online->maintenance:maintenance on: panel work",
      "b:unknown->maintenance:maintenance on",
    ]);
    await first.close();

    // Restart 30 minutes later: both still on, with what was asked.
    clock.advance(HOUR / 2);
    const second = await life(file, clock);
    assert.equal(second.devices.get("a")?.status, "maintenance");
    assert.equal(second.devices.get("b")?.status, "maintenance");
    const a = second.m.list().find((e) => e.did === "a");
    assert.deepEqual(a && [a.origin, a.until, a.reason, a.by], [
      "runtime",
      Date.UTC(2026, 0, 1) + 2 * HOUR,
      "panel work",
      "cli",
    ]);
    // b's until (1 h) comes first.
    clock.advance(HOUR / 2);
    await waitFor(() => second.devices.get("b")?.status === "unknown", { what: "b's maintenance to end" });
    assert.ok(second.changes.includes("b:maintenance->unknown:maintenance off: until reached"));
    assert.equal(second.devices.get("a")?.status, "maintenance");
    await second.close();

    // a's until passes while the agent is stopped: it starts out of maintenance, the row is gone.
    clock.advance(2 * HOUR);
    const third = await life(file, clock);
    assert.equal(third.devices.get("a")?.status, "online");
    assert.deepEqual(new MaintenanceRepo(third.db).load(), []);
    assert.ok(third.logs.lines.some((l) => /maintenance of a ended while the agent was stopped/.test(l.msg)));
    await third.close();
  });

  it("a vetoed request changes nothing and is not kept; a veto of the end keeps it on without an end", async () => {
    let verdict: DeviceStatusVerdict | null = null;
    const ic: DeviceStatusInterceptor = {
      active: true,
      beforeDeviceStatus: async (c) => verdict ?? { apply: true, status: c.to, reason: c.reason },
    };
    const file = join(root, `m-${++n}.db`);
    const clock = new ManualClock();
    const l = await life(file, clock, ic);
    verdict = { apply: false, reason: "the site forbids it", hook: "site", kind: "denied" };
    const r = refusal(await l.m.set("a", true, { by: "api", reason: "x" }));
    assert.deepEqual([r.refusal, r.kind, r.hook, r.message], ["vetoed", "denied", "site", "the site forbids it"]);
    assert.equal(l.devices.get("a")?.status, "online");
    assert.deepEqual(new MaintenanceRepo(l.db).load(), []);

    verdict = null;
    assert.equal((await l.m.set("a", true, { by: "api", until: clock.now() + HOUR })).ok, true);
    verdict = { apply: false, reason: "work not finished", hook: "site", kind: "veto" };
    clock.advance(HOUR);
    await waitFor(() => l.m.list().find((e) => e.did === "a")?.until === null, { what: "the end to be vetoed" });
    assert.equal(l.devices.get("a")?.status, "maintenance");
    assert.equal(new MaintenanceRepo(l.db).load()[0]?.until, null, "kept without an end");
    await l.close();
  });

  it("parses until as epoch ms or an ISO-8601 date-time", () => {
    assert.equal(parseUntil(1_800_000_000_000), 1_800_000_000_000);
    assert.equal(parseUntil("1800000000000"), 1_800_000_000_000);
    assert.equal(parseUntil("2026-12-01T18:00:00+01:00"), Date.UTC(2026, 11, 1, 17));
    for (const bad of ["2026-12-01", "soon", -5, 1.5, null, true])
      assert.equal(typeof parseUntil(bad), "string", String(bad));
  });
});
