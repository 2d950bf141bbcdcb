// `edge-agent sim`: prints the register map, serves Modbus TCP, and returns 0 on SIGTERM.
import assert from "node:assert/strict";
import { Socket } from "node:net";
import { test } from "node:test";
import { main } from "../../../../src/cli/sim.js";
import { systemClock } from "../../../../src/core/clock.js";
import { silentLogger } from "../../../../src/core/log.js";
import { ModbusSource } from "../../../../src/sources/modbus/source.js";
import { testBus, testMetrics } from "../../../helpers/harness.js";
import { hasSocat, RecordingSink, SOCAT_MISSING, startPtyPair } from "../../../helpers/modbus.js";
import { freePort, waitFor } from "../../../helpers/wait.js";

test("sim serves the meter until SIGTERM and exits 0", async () => {
  const port = await freePort();
  let out = "";
  const done = main(["--port", String(port)], {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      out += s;
    },
    env: {},
    cwd: process.cwd(),
  });
  await waitFor(() => out.includes("Press Ctrl+C"), { what: "sim banner" });
  assert.match(out, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.match(out, /holding 0-1 {3}voltage {6}float32 ABCD/);
  assert.match(out, /input {3}10-11 energy_kwh {3}uint32 {2}CDAB/);
  // A raw FC3 request for voltage: MBAP + unit 1 + 03 0000 0002
  const sock = new Socket();
  await new Promise<void>((r) => sock.connect(port, "127.0.0.1", () => r()));
  const answer = new Promise<Buffer>((r) => sock.once("data", r));
  sock.write(Buffer.from([0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2]));
  const res = await answer;
  sock.destroy();
  assert.equal(res[7], 3);
  assert.ok(Math.abs(res.readFloatBE(9) - 230) < 1);
  process.kill(process.pid, "SIGTERM");
  assert.equal(await done, 0);
  assert.match(out, /sim: stopped/);
});

test("sim rejects a bad port with exit code 2", async () => {
  let err = "";
  const code = await main(["--port", "http"], { stdout: () => {}, stderr: (s) => (err += s), env: {}, cwd: "." });
  assert.equal(code, 2);
  assert.match(err, /--port must be an integer/);
});

test("sim --rtu serves the meter over a serial line (socat pty pair)", {
  skip: hasSocat() ? false : SOCAT_MISSING,
}, async () => {
  const pty = await startPtyPair();
  const port = await freePort();
  let out = "";
  const io = {
    stdout: (s: string) => {
      out += s;
    },
    stderr: (s: string) => {
      out += s;
    },
    env: {},
    cwd: process.cwd(),
  };
  const done = main(["--port", String(port), "--rtu", pty.b, "--baud", "19200", "--unit", "7"], io);
  const sink = new RecordingSink();
  const log = silentLogger();
  const source = new ModbusSource({
    config: {
      buses: [{ id: "s", transport: "rtu", path: pty.a, baudRate: 19200, timeoutMs: 500 }],
      devices: [
        {
          id: "meter",
          bus: "s",
          unitId: 7,
          product: "meter",
          intervalMs: 60_000,
          points: [
            { name: "voltage", table: "holding", address: 0, type: "float32" },
            { name: "energy_kwh", table: "input", address: 10, type: "uint32", order: "CDAB", scale: 0.01 },
          ],
        },
      ],
    },
    sink,
    events: testBus(log),
    clock: systemClock,
    log,
    metrics: testMetrics(),
  });
  try {
    await waitFor(() => out.includes("Press Ctrl+C"), { what: "sim banner" });
    assert.match(out, /Modbus RTU on .* at 19200 baud/);
    assert.match(out, /unit id 7/);
    await source.start();
    const r = await waitFor(() => sink.last("meter"), { what: "RTU reading from the simulator" });
    assert.ok(Math.abs((r.values.voltage as number) - 230) < 1);
    assert.ok((r.values.energy_kwh as number) > 12345);
  } finally {
    await source.stop();
    process.kill(process.pid, "SIGTERM");
    assert.equal(await done, 0);
    await pty.close();
  }
});
