// `edge-agent sim`: prints the register map, serves Modbus TCP, and returns 0 on SIGTERM.
import assert from "node:assert/strict";
import { Socket } from "node:net";
import { test } from "node:test";
import { main } from "../../../src/cli/sim.js";
import { freePort, waitFor } from "../../helpers/wait.js";

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
