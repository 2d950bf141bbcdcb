// Faults over real Modbus TCP: silent units, exceptions, "illegal data address" splitting, a peer that
// drops the connection or goes away and comes back, and a peer that accepts but never answers.
// Throughout, the healthy device must keep its poll rate and status changes must reach the sink.

import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, test } from "node:test";
import type { ModbusConfig } from "../../../../src/config/schema.js";
import { systemClock } from "../../../../src/core/clock.js";
import { silentLogger } from "../../../../src/core/log.js";
import { ModbusTcpSlave } from "../../../../src/sources/modbus/slave.js";
import { ModbusSource } from "../../../../src/sources/modbus/source.js";
import { testBus, testMetrics } from "../../../helpers/harness.js";
import { RecordingSink, startModbusServer, type TestModbusServer } from "../../../helpers/modbus.js";
import { SIXTY_POINT_MINIMAL_REQUESTS, sixtyPointDevice } from "../../../helpers/modbus-plan-fixture.js";
import { waitFor } from "../../../helpers/wait.js";

const INTERVAL = 250;
let shared: TestModbusServer;
let flaky: TestModbusServer;
let planSrv: TestModbusServer;
let slow: TestModbusServer;
let mute: Server;
const muteSockets = new Set<Socket>();
let mutePort = 0;
let source: ModbusSource;
const sink = new RecordingSink();
const metrics = testMetrics();
let unit2Answers = false;
const t0 = Date.now();

before(async () => {
  shared = await startModbusServer({
    onRequest: (r) => {
      if (r.unit === 2 && !unit2Answers) return "silence";
      if (r.unit === 3) return 4; // server device failure
      // unit 4: registers 5..9 do not exist (a merged read across them is refused)
      if (r.unit === 4 && r.fc === 3 && r.address <= 9 && r.address + r.count > 5) return 2;
      return undefined;
    },
  });
  shared.slave.memory.holding[0] = 11;
  shared.slave.memory.holding[10] = 22;
  flaky = await startModbusServer();
  flaky.slave.memory.holding[0] = 7;
  planSrv = await startModbusServer();
  slow = await startModbusServer({ onRequest: () => "silence" });
  mute = createServer((s) => {
    muteSockets.add(s);
    s.on("close", () => muteSockets.delete(s));
  });
  await new Promise<void>((r) => mute.listen(0, "127.0.0.1", () => r()));
  mutePort = (mute.address() as { port: number }).port;

  const dev = (id: string, bus: string, unitId: number, points: ModbusConfig["devices"][number]["points"]) => ({
    id,
    bus,
    unitId,
    product: "meter",
    intervalMs: INTERVAL,
    points,
  });
  const u16 = (name: string, address: number) => ({
    name,
    table: "holding" as const,
    address,
    type: "uint16" as const,
  });
  const config: ModbusConfig = {
    buses: [
      { id: "shared", transport: "tcp", host: "127.0.0.1", port: shared.port, timeoutMs: 150 },
      {
        id: "flaky",
        transport: "tcp",
        host: "127.0.0.1",
        port: flaky.port,
        timeoutMs: 150,
        reconnectMinMs: 100,
        reconnectMaxMs: 200,
      },
      { id: "mute", transport: "tcp", host: "127.0.0.1", port: mutePort, timeoutMs: 150, reconnectMinMs: 100 },
      { id: "plan", transport: "tcp", host: "127.0.0.1", port: planSrv.port, timeoutMs: 500 },
      { id: "slow", transport: "tcp", host: "127.0.0.1", port: slow.port, timeoutMs: 300 },
    ],
    devices: [
      dev("good", "shared", 1, [u16("v", 0)]),
      dev("silent", "shared", 2, [u16("v", 0)]),
      dev("failing", "shared", 3, [u16("v", 0)]),
      dev("holes", "shared", 4, [u16("a", 0), u16("b", 7), u16("c", 10)]),
      dev("flaky", "flaky", 1, [u16("v", 0)]),
      dev("mute", "mute", 1, [u16("v", 0)]),
      sixtyPointDevice("plan"),
      { ...dev("overrun", "slow", 1, [u16("v", 0)]), intervalMs: 100 },
    ],
  };
  const log = silentLogger();
  source = new ModbusSource({ config, sink, events: testBus(log), clock: systemClock, log, metrics });
  await source.start();
});

after(async () => {
  await source.stop();
  await shared.close();
  await flaky.close();
  await planSrv.close();
  await slow.close();
  for (const s of muteSockets) s.destroy();
  await new Promise<void>((r) => mute.close(() => r()));
});

const offline = (id: string) => sink.reachability.find((e) => e.deviceId === id && !e.reachable);
const onlineAfter = (id: string, at: number) =>
  sink.reachability.find((e) => e.deviceId === id && e.reachable && e.at >= at);

test("the 60-point device is read with exactly the minimal number of requests", async () => {
  const r = await waitFor(() => sink.last("dev-60"), { what: "dev-60 reading" });
  assert.equal(Object.keys(r.values).length, 60);
  assert.equal(planSrv.slave.requests, SIXTY_POINT_MINIMAL_REQUESTS);
});

test("a silent unit and a failing unit go offline; the healthy device on the same bus is not held up", async () => {
  const s = await waitFor(() => offline("silent"), { what: "silent offline", timeoutMs: 5000 });
  assert.match(s.reason ?? "", /3 consecutive failed polls/);
  assert.match(s.reason ?? "", /within 150 ms|no answer/);
  const f = await waitFor(() => offline("failing"), { what: "failing offline", timeoutMs: 5000 });
  assert.match(f.reason ?? "", /exception 4 \(server device failure\)/);
  assert.equal(offline("good"), undefined);
  unit2Answers = true;
  const back = Date.now();
  await waitFor(() => onlineAfter("silent", back - 1), { what: "silent back online", timeoutMs: 3000 });
});

test("a merged read refused with illegal data address is split; readable points still arrive", async () => {
  const r = await waitFor(() => sink.of("holes").find((x) => "c" in x.values), { what: "holes reading" });
  assert.deepEqual(r.values, { a: 11, c: 22 });
  const plan = source.planOf("holes");
  assert.deepEqual(
    plan.map((p) => [p.address, p.count]),
    [
      [0, 1],
      [10, 1],
    ],
  );
  assert.equal(offline("holes"), undefined);
});

test("a TCP peer that drops the connection or goes away and comes back", async () => {
  await waitFor(() => sink.last("flaky"), { what: "flaky reading" });
  flaky.tcp.dropConnections();
  const n = sink.of("flaky").length;
  await waitFor(() => sink.of("flaky").length >= n + 2, { what: "readings after a dropped connection" });
  const port = flaky.port;
  await flaky.close();
  await waitFor(() => offline("flaky"), { what: "flaky offline", timeoutMs: 5000 });
  const tcp = new ModbusTcpSlave(flaky.slave);
  await tcp.listen(port);
  flaky = { ...flaky, tcp, close: () => tcp.close() };
  const back = Date.now();
  await waitFor(() => onlineAfter("flaky", back), { what: "flaky online again", timeoutMs: 5000 });
});

test("a peer that accepts but never answers goes offline; healthy devices kept their rate throughout", async () => {
  const m = await waitFor(() => offline("mute"), { what: "mute offline", timeoutMs: 5000 });
  assert.match(m.reason ?? "", /150 ms|not connected|timeouts/);
  const elapsed = Date.now() - t0;
  const expected = elapsed / INTERVAL;
  const got = sink.of("good").length;
  assert.ok(
    got >= expected * 0.8,
    `good device polled ${got} times in ${elapsed} ms, expected ~${expected.toFixed(1)}`,
  );
  const polls = metrics.counter("edge_modbus_polls_total", "");
  assert.equal(polls.get({ device: "good", result: "skipped" }), 0);
  assert.equal(polls.get({ device: "good", result: "failed" }), 0);
  assert.ok(metrics.counter("edge_modbus_timeouts_total", "").get({ bus: "shared" }) >= 3);
});

test("a poll that overruns its interval is skipped, not queued behind itself", async () => {
  const polls = metrics.counter("edge_modbus_polls_total", "");
  await waitFor(() => polls.get({ device: "overrun", result: "skipped" }) >= 4, { what: "skipped polls" });
  const done = polls.get({ device: "overrun", result: "failed" });
  // 300 ms timeouts at a 100 ms interval: about one request per 300 ms, never a backlog.
  const elapsed = Date.now() - t0;
  assert.ok(slow.slave.requests <= elapsed / 300 + 2, `${slow.slave.requests} requests in ${elapsed} ms`);
  assert.ok(slow.slave.requests <= done + 1);
});
