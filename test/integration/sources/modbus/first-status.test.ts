// A device's first verdict is a status change like any other. Through the whole agent, against real
// Modbus TCP servers: a device that never answers is `unknown` until its third failed poll, then
// `unknown` → `offline` reaches a real hook, the log and the heartbeat; a device that answers goes
// `unknown` → `online`. The heartbeat keeps the platform's vocabulary (a never-heard device is offline).

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createAgent } from "../../../../src/app.js";
import type { Config } from "../../../../src/config/schema.js";
import { systemClock } from "../../../../src/core/clock.js";
import { resolvedConfig } from "../../../helpers/config.js";
import { captureLog } from "../../../helpers/harness.js";
import { startModbusServer } from "../../../helpers/modbus.js";
import { startUpstream } from "../../../helpers/upstream.js";
import { freePort, waitFor } from "../../../helpers/wait.js";

const g = globalThis as unknown as { __status: [string, string, string, string][] };

test("unknown until the first poll outcome; unknown → offline and unknown → online reach hooks, log and heartbeat", async () => {
  g.__status = [];
  const root = mkdtempSync(join(tmpdir(), "ea-first-status-"));
  const hooksDir = join(root, "hooks");
  mkdirSync(hooksDir);
  writeFileSync(
    join(hooksDir, "status.mjs"),
    `export default {
      onDeviceStatusChanged(d, from, to) { globalThis.__status.push([d.id, from, to, d.status]); },
    };`,
  );
  const live = await startModbusServer();
  live.slave.memory.holding[0] = 2301;
  const dead = await startModbusServer({ onRequest: () => "silence" });
  const upstream = await startUpstream({ strict: true });
  const logs = captureLog();
  const log = logs.log;
  const point = { name: "voltage", table: "holding" as const, address: 0, type: "uint16" as const, scale: 0.1 };
  const config = {
    gatewayId: "gw-first-status",
    dataDir: join(root, "data"),
    rulesDir: join(root, "rules"),
    hooksDir,
    hooks: { timeoutMs: 2000 },
    upstream: { baseUrl: upstream.url, token: "t", heartbeatIntervalMs: 150, timeoutMs: 2000 },
    modbus: {
      buses: [
        { id: "b-live", transport: "tcp", host: "127.0.0.1", port: live.port, timeoutMs: 300 },
        { id: "b-dead", transport: "tcp", host: "127.0.0.1", port: dead.port, timeoutMs: 300 },
      ],
      devices: [
        { id: "live", bus: "b-live", unitId: 1, product: "meter", intervalMs: 200, points: [point] },
        { id: "dead", bus: "b-dead", unitId: 1, product: "meter", intervalMs: 200, offlineAfter: 3, points: [point] },
      ],
    },
    http: { enabled: true, host: "127.0.0.1", port: await freePort() },
  } as Config;
  mkdirSync(join(root, "rules"));
  const agent = createAgent(resolvedConfig(config), { clock: systemClock, log, version: "test" });
  try {
    await agent.start();
    const base = `http://127.0.0.1:${agent.http?.port}`;
    const statusOf = async (id: string): Promise<string | undefined> => {
      const body = (await (await fetch(`${base}/status`)).json()) as {
        data: { devices: { id: string; status: string }[] };
      };
      return body.data.devices.find((d) => d.id === id)?.status;
    };
    // Three failed polls take at least 3 × 300 ms: before that, nothing is known about "dead".
    assert.equal(await statusOf("dead"), "unknown", "not offline before any poll failed");

    await waitFor(() => g.__status.some((e) => e[0] === "dead"), { what: "a status event for the dead device" });
    const polls = agent.metrics.counter("edge_modbus_polls_total", "");
    assert.ok(polls.get({ device: "dead", result: "failed" }) >= 3, "offline only after three failed polls");
    assert.deepEqual(
      g.__status.filter((e) => e[0] === "dead"),
      [["dead", "unknown", "offline", "offline"]],
    );
    await waitFor(() => g.__status.some((e) => e[0] === "live"), { what: "a status event for the live device" });
    assert.deepEqual(
      g.__status.find((e) => e[0] === "live"),
      ["live", "unknown", "online", "online"],
    );
    assert.equal(await statusOf("dead"), "offline");
    assert.equal(await statusOf("live"), "online");

    // The log says it, with the cause.
    const line = await waitFor(() => logs.lines.find((l) => l.msg === "device dead is offline (was unknown)"), {
      what: "the offline log line",
    });
    assert.equal(line.level, 40);
    assert.match(String(line.reason), /3 consecutive failed polls/);
    assert.ok(logs.text.includes("device live is online (was unknown)"));

    // The next heartbeat carries the new status, in the platform's shape and vocabulary.
    const beat = await waitFor(
      () =>
        upstream.requests
          .filter((r) => r.path === "/api/ai/device/heartbeat")
          .map((r) => r.json as { devices: { id: string; status: string; lastSeen: number | null }[] })
          .find((b) => b.devices.some((d) => d.id === "live" && d.status === "online")),
      { what: "a heartbeat with the live device online" },
    );
    const byId = new Map(beat.devices.map((d) => [d.id, d]));
    assert.deepEqual(byId.get("dead"), { id: "dead", status: "offline", lastSeen: null });
    assert.deepEqual(Object.keys(byId.get("live") ?? {}), ["id", "status", "lastSeen"]);
    assert.equal(typeof byId.get("live")?.lastSeen, "number");
    const sent = upstream.requests
      .filter((r) => r.path === "/api/ai/device/heartbeat")
      .flatMap((r) => (r.json as { devices: { status: string }[] }).devices.map((d) => d.status));
    assert.ok(
      sent.every((s) => ["online", "offline", "alarm", "maintenance"].includes(s)),
      `only platform statuses upstream: ${[...new Set(sent)].join(", ")}`,
    );
  } finally {
    await agent.stop();
    await upstream.close();
    await live.close();
    await dead.close();
    rmSync(root, { recursive: true, force: true });
  }
});
