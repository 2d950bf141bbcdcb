// Maintenance through the real local API on 127.0.0.1 and through `edge-agent maintenance` talking
// to it: switch on with until/reason, list, switch off; refusals name the field (unknown device,
// `until` in the past, config maintenance); a beforeDeviceStatus veto answers 100403 (denied) or
// 104001 (veto) and leaves the status as it was; the CLI says clearly when no agent answers; the
// status page's per-device button switches it (reason and duration asked) and marks kept-local alarms;
// through the whole agent, a real hook's PermissionDenied is a 100403 and ctx.devices.setMaintenance works.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createAgent } from "../../../src/app.js";
import { main as maintenanceCli } from "../../../src/cli/maintenance.js";
import { systemClock } from "../../../src/core/clock.js";
import type { MaintenanceEntry } from "../../../src/core/maintenance-ports.js";
import type { DeviceStatusInterceptor, DeviceStatusVerdict } from "../../../src/core/ports.js";
import { DeviceRegistry } from "../../../src/pipeline/device-registry.js";
import { Maintenance } from "../../../src/pipeline/maintenance.js";
import { type Db, openDatabase } from "../../../src/store/db.js";
import { MaintenanceRepo } from "../../../src/store/maintenance-repo.js";
import { resolvedConfig } from "../../helpers/config.js";
import { captureLog, testBus } from "../../helpers/harness.js";
import { type FakeElement, runStatusPage } from "../../helpers/status-page-runner.js";
import { freePort, waitFor } from "../../helpers/wait.js";
import { type Harness, makeAlarm, startHarness, TOKEN } from "./fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "ea-http-maintenance-"));
let h: Harness;
let db: Db;
let devices: DeviceRegistry;
let maintenance: Maintenance;
/** What the fake beforeDeviceStatus answers; null: apply as offered. */
let verdict: DeviceStatusVerdict | null = null;

before(async () => {
  db = openDatabase(join(dir, "agent.db"));
  devices = new DeviceRegistry({ meta: { "pump-7": { maintenance: true } }, events: testBus() });
  for (const id of ["meter-01", "meter-02", "pump-7"]) devices.declare({ id, product: "meter" }, "modbus");
  devices.setReachable("meter-01", true);
  const ic: DeviceStatusInterceptor = {
    active: true,
    beforeDeviceStatus: async (c) => verdict ?? { apply: true, status: c.to, reason: c.reason },
  };
  devices.interceptStatus(ic);
  h = await startHarness({ devices });
  maintenance = new Maintenance({ devices, store: new MaintenanceRepo(db), clock: h.clock, log: h.logs.log });
  await maintenance.start();
  await h.api.stop();
  // The harness's API again, now with maintenance (its options are fixed at construction).
  h = await startHarness({ devices, maintenance });
});

after(async () => {
  await h.api.stop();
  await maintenance.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  code: number;
  message?: string;
  data: { status: string; maintenance: MaintenanceEntry };
}

async function post(body: unknown) {
  const res = await h.post("/device/maintenance", body);
  return { status: res.status, body: (await res.json()) as Answer };
}

describe("POST /device/maintenance, GET /device/maintenance/list", () => {
  it("switches on with until and reason, lists it, switches off", async () => {
    const until = new Date(h.clock.now() + 7_200_000).toISOString();
    const on = await post({ did: "meter-01", on: true, until, reason: "panel work" });
    assert.equal(on.status, 200, JSON.stringify(on.body));
    assert.equal(on.body.code, 0);
    assert.equal(on.body.data.status, "maintenance");
    assert.deepEqual(
      [on.body.data.maintenance.until, on.body.data.maintenance.reason, on.body.data.maintenance.by],
      [Date.parse(until), "panel work", "api"],
    );
    assert.equal(devices.get("meter-01")?.status, "maintenance");
    const list = (await (await h.get("/device/maintenance/list")).json()) as { data: { devices: MaintenanceEntry[] } };
    assert.deepEqual(
      list.data.devices.map((d) => [d.did, d.origin, d.reason, d.since === h.clock.now() || d.since === null]),
      [
        ["meter-01", "runtime", "panel work", true],
        ["pump-7", "config", "set in the config file", true],
      ],
    );
    const off = await post({ did: "meter-01", on: false });
    assert.deepEqual([off.status, off.body.data.status, off.body.data.maintenance], [200, "online", null]);
    assert.deepEqual(new MaintenanceRepo(db).load(), []);
  });

  it("refusals name the field and say why", async () => {
    const unknown = await post({ did: "meter-99", on: true });
    assert.deepEqual([unknown.status, unknown.body.code], [404, 104004]);
    assert.match(unknown.body.message ?? "", /meter-99/);
    const past = await post({ did: "meter-01", on: true, until: h.clock.now() - 60_000 });
    assert.deepEqual([past.status, past.body.code], [400, 104001]);
    assert.match(past.body.message ?? "", /^Invalid parameter: until \(.*in the past/);
    const junk = await post({ did: "meter-01", on: true, until: "next week" });
    assert.match(junk.body.message ?? "", /^Invalid parameter: until/);
    const cfg = await post({ did: "pump-7", on: false });
    assert.deepEqual([cfg.status, cfg.body.code], [400, 104001]);
    assert.match(cfg.body.message ?? "", /^Invalid parameter: on \(.*config file.*cannot be switched off at run time/);
    const noOn = await post({ did: "meter-01" });
    assert.equal(noOn.body.message, "Miss required parameter: on");
    const badOn = await post({ did: "meter-01", on: "yes" });
    assert.match(badOn.body.message ?? "", /^Invalid parameter: on/);
    assert.equal(devices.get("meter-01")?.status, "online", "nothing changed");
  });

  it("a hook's veto answers 100403 (PermissionDenied) or 104001 and leaves the status unchanged", async () => {
    try {
      verdict = { apply: false, reason: "only the shift lead may do that", hook: "site-policy", kind: "denied" };
      const denied = await post({ did: "meter-02", on: true, reason: "x" });
      assert.deepEqual([denied.status, denied.body.code], [403, 100403]);
      assert.match(denied.body.message ?? "", /only the shift lead may do that/);
      for (const kind of ["veto", "processing", "invalid"] as const) {
        verdict = { apply: false, reason: `not now (${kind})`, hook: "site-policy", kind };
        const r = await post({ did: "meter-02", on: true });
        assert.deepEqual([r.status, r.body.code], [400, 104001], kind);
        assert.match(r.body.message ?? "", new RegExp(`site-policy: not now \\(${kind}\\)`));
      }
      assert.equal(devices.get("meter-02")?.status, "unknown");
      assert.deepEqual(new MaintenanceRepo(db).load(), []);
    } finally {
      verdict = null;
    }
  });
});

describe("edge-agent maintenance", () => {
  function io() {
    const out = { stdout: "", stderr: "" };
    return {
      out,
      io: {
        stdout: (s: string) => {
          out.stdout += s;
        },
        stderr: (s: string) => {
          out.stderr += s;
        },
        env: { API_TOKEN: TOKEN },
        cwd: dir,
      },
    };
  }
  function config(port: number): string {
    const file = join(dir, `agent-${port}.json`);
    writeFileSync(
      file,
      JSON.stringify({ gatewayId: "gw-test", dataDir: dir, http: { host: "127.0.0.1", port, token: "${API_TOKEN}" } }),
    );
    return file;
  }

  it("switches on for a duration, lists, switches off, through the running agent", async () => {
    const file = config(h.api.port);
    const on = io();
    assert.equal(
      await maintenanceCli(["meter-02", "on", "--until", "2h", "--reason", "filter change", "-c", file], on.io),
      0,
      on.out.stderr,
    );
    assert.match(on.out.stdout, /meter-02: maintenance on until .* \(filter change\); status maintenance/);
    const entry = maintenance.list().find((e) => e.did === "meter-02");
    assert.equal(entry?.by, "cli");
    // A duration counts from the CLI's own clock: within a minute of two hours from now.
    assert.ok(entry && Math.abs((entry.until ?? 0) - Date.now() - 7_200_000) < 60_000);
    const list = io();
    assert.equal(await maintenanceCli(["-c", file], list.io), 0);
    assert.match(list.out.stdout, /^DEVICE\s+FROM\s+SINCE\s+UNTIL\s+BY\s+STATUS\s+REASON/);
    assert.match(list.out.stdout, /meter-02\s+runtime.*cli\s+maintenance\s+filter change/);
    assert.match(list.out.stdout, /pump-7\s+config/);
    const off = io();
    assert.equal(await maintenanceCli(["meter-02", "off", "-c", file], off.io), 0);
    assert.match(off.out.stdout, /meter-02: maintenance off; status unknown/);
  });

  it("prints the agent's refusal, and says when no agent answers", async () => {
    const file = config(h.api.port);
    const cfg = io();
    assert.equal(await maintenanceCli(["pump-7", "off", "-c", file], cfg.io), 1);
    assert.match(cfg.out.stderr, /refused \(HTTP 400 104001\): .*config file/);
    const usage = io();
    assert.equal(await maintenanceCli(["meter-01", "maybe", "-c", file], usage.io), 2);
    const down = io();
    const port = await freePort();
    assert.equal(await maintenanceCli(["-c", config(port)], down.io), 1);
    assert.match(
      down.out.stderr,
      new RegExp(`not reachable at http://127\\.0\\.0\\.1:${port} \\(connection refused\\)`),
    );
  });
});

describe("status page", () => {
  it("a device's button asks reason and duration and switches maintenance; config maintenance is not switchable", async () => {
    const asked: string[] = [];
    const answers = ["filter change", "30m"];
    h.alarms.byId.set(
      "a-kept",
      makeAlarm("a-kept", { suppressed: "maintenance", resource: { id: "meter-02", product: "meter" } }),
    );
    const page = runStatusPage(h.base, TOKEN, {
      window: {
        prompt: (q: string) => {
          asked.push(q);
          return answers.shift() ?? null;
        },
        alert: (m: string) => asked.push(`alert: ${m}`),
      },
    });
    try {
      const card = (id: string) =>
        page.byId("devices").findAll((e) => e.getAttribute("data-device-id") === id)[0] as FakeElement | undefined;
      const button = (id: string) =>
        card(id)?.findAll((e) => e.tagName === "BUTTON" && e.getAttribute("data-maintenance") !== null)[0];
      const pumpButton = await waitFor(
        () => (button("pump-7")?.getAttribute("data-maintenance") === "off" ? button("pump-7") : null),
        { what: "pump-7's maintenance button" },
      );
      assert.equal(pumpButton.disabled, true, "config maintenance cannot be switched off from the page");
      const on = await waitFor(
        () => (button("meter-02")?.textContent === "Maintenance on" ? button("meter-02") : null),
        {
          what: "meter-02's button",
        },
      );
      on.click();
      const entry = await waitFor(() => maintenance.list().find((e) => e.did === "meter-02"), {
        what: "maintenance on",
      });
      assert.deepEqual([entry.reason, entry.by], ["filter change", "page"]);
      assert.ok(
        entry.until !== null && Math.abs(entry.until - (h.clock.now() + 1_800_000)) < 60_000,
        `30 min from the agent now: ${entry.until} vs ${h.clock.now()}`,
      );
      assert.equal(asked.length, 2, asked.join(" | "));
      const off = await waitFor(
        () => (button("meter-02")?.textContent === "Maintenance off" ? button("meter-02") : null),
        {
          what: "the button to say off",
        },
      );
      assert.match(card("meter-02")?.textContent ?? "", /maintenance: filter change/);
      const kept = page.byId("alarms").tBodies[0]?.findAll((e) => e.getAttribute("data-alarm-id") === "a-kept")[0];
      assert.match(kept?.textContent ?? "", /kept local: maintenance/);
      off.click();
      await waitFor(() => !maintenance.list().some((e) => e.did === "meter-02"), { what: "maintenance off" });
    } finally {
      page.close();
      h.alarms.byId.delete("a-kept");
    }
  });
});

describe("through the whole agent with a beforeDeviceStatus hook", () => {
  it("a hook's PermissionDenied answers 100403 and the device stays as it was; ctx.devices.setMaintenance works", async () => {
    const root = mkdtempSync(join(tmpdir(), "ea-maint-hook-"));
    const hooksDir = join(root, "hooks");
    mkdirSync(hooksDir);
    writeFileSync(
      join(hooksDir, "policy.mjs"),
      `export default {
        async beforeDeviceStatus(change, ctx) {
          if (change.status === "maintenance" && change.deviceId === "locked") {
            throw new ctx.errors.PermissionDenied("locked is maintained by the vendor only");
          }
        },
        async onReading(reading, device, ctx) {
          if (reading.values.service === true) await ctx.devices.setMaintenance(device.id, true, { reason: "service switch" });
        },
      };`,
    );
    const port = await freePort();
    const agent = createAgent(
      resolvedConfig({
        gatewayId: "gw-hook",
        dataDir: join(root, "data"),
        rulesDir: join(root, "rules"),
        hooksDir,
        devices: { locked: { product: "meter" }, free: { product: "meter" } },
        http: { enabled: true, host: "127.0.0.1", port },
      }),
      { clock: systemClock, log: captureLog().log, version: "test" },
    );
    try {
      mkdirSync(join(root, "rules"));
      await agent.start();
      await waitFor(() => agent.hooks?.list().some((x) => x.name === "policy" && x.state === "running"), {
        what: "the hook running",
      });
      const ask = (did: string) =>
        fetch(`http://127.0.0.1:${port}/device/maintenance`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ did, on: true, reason: "x" }),
        });
      const denied = await ask("locked");
      const body = (await denied.json()) as { code: number; message: string };
      assert.deepEqual([denied.status, body.code], [403, 100403]);
      assert.match(body.message, /locked is maintained by the vendor only/);
      assert.equal(agent.devices.get("locked")?.status, "unknown");

      // A hook switches maintenance from a reading (the change passes its own beforeDeviceStatus).
      agent.pipeline.ingest({
        deviceId: "free",
        product: "meter",
        ts: Date.now(),
        values: { service: true },
        source: "internal",
      });
      await waitFor(() => agent.devices.get("free")?.status === "maintenance", { what: "maintenance from the hook" });
      const listed = (await (await fetch(`http://127.0.0.1:${port}/device/maintenance/list`)).json()) as {
        data: { devices: MaintenanceEntry[] };
      };
      assert.deepEqual(
        listed.data.devices.map((d) => [d.did, d.by, d.reason]),
        [["free", "hook:policy", "service switch"]],
      );
    } finally {
      await agent.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
