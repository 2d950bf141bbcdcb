// Start-up faults: a broker that is not there yet, unreadable TLS files, an embedded broker whose
// port is taken.

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ManualClock } from "../../../../src/core/clock.js";
import { AgentError } from "../../../../src/core/errors.js";
import { silentLogger } from "../../../../src/core/log.js";
import { EmbeddedBroker } from "../../../../src/sources/mqtt/embedded-broker.js";
import { captureLog } from "../../../helpers/harness.js";
import { freePort, waitFor } from "../../../helpers/wait.js";
import { makeSource, publisher } from "./fixtures.js";

describe("MqttSource lifecycle", () => {
  it("starts without a broker, then connects and subscribes when the broker comes up", async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const { source, sink } = makeSource({ url, config: { reconnectMinMs: 100, reconnectMaxMs: 300 } });
    const broker = new EmbeddedBroker({ port, log: silentLogger() });
    try {
      await source.start();
      assert.equal(source.connected, false);
      await broker.start();
      await waitFor(() => source.connected, { what: "connected once the broker is up" });
      const pub = await publisher(url);
      try {
        await waitFor(
          async () => {
            await pub.publishAsync("meters/late/telemetry", JSON.stringify({ v: 1 }), { qos: 1 });
            return sink.readings.length > 0;
          },
          { intervalMs: 100, what: "reading after late broker start" },
        );
      } finally {
        await pub.endAsync(true);
      }
      assert.equal(sink.readings[0]?.deviceId, "late");
    } finally {
      await source.stop();
      await broker.stop();
    }
  });

  it("a missing TLS file is a clear error naming the key and the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "edge-mqtt-tls-"));
    try {
      const ca = join(dir, "ca.pem");
      await writeFile(ca, "not really a certificate");
      const missing = join(dir, "client.key");
      const { source } = makeSource({
        url: "mqtts://127.0.0.1:1",
        config: { tls: { ca, cert: null, key: missing, rejectUnauthorized: true } },
      });
      await assert.rejects(source.start(), (err: unknown) => {
        assert.ok(err instanceof AgentError);
        assert.equal(err.code, "EA_CONFIG_INVALID");
        assert.equal(err.message, `mqtt.tls.key: cannot read '${missing}': ENOENT`);
        return true;
      });
      assert.equal(source.connected, false);
      await source.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("bad-input logging", () => {
  it("logs at most one line per reason per 10 s, then says how many were suppressed", async () => {
    const broker = new EmbeddedBroker({ port: 0, log: silentLogger() });
    await broker.start();
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const { log, lines } = captureLog<{ msg: string; reason?: string; suppressed?: number }>({ level: "warn" });
    const clock = new ManualClock();
    const { source, sink } = makeSource({ url, clock, log });
    const pub = await publisher(url);
    try {
      await source.start();
      for (let i = 0; i < 5; i++) await pub.publishAsync("meters/m1/telemetry", "{bad", { qos: 1 });
      await pub.publishAsync("meters/m1/telemetry", "[]", { qos: 1 });
      await pub.publishAsync("meters/m1/telemetry", JSON.stringify({ v: 1 }), { qos: 1 });
      await waitFor(() => sink.readings.length === 1, { what: "good reading" });
      const dropped = () => lines.filter((l) => l.msg.startsWith("MQTT message dropped"));
      assert.deepEqual(
        dropped().map((l) => [l.reason, l.suppressed]),
        [
          ["not-json", undefined],
          ["no-metrics", undefined],
        ],
      );
      clock.advance(10_000);
      await pub.publishAsync("meters/m1/telemetry", "{bad", { qos: 1 });
      await waitFor(() => dropped().length === 3, { what: "next not-json line" });
      assert.deepEqual([dropped()[2]?.reason, dropped()[2]?.suppressed], ["not-json", 4]);
    } finally {
      await pub.endAsync(true);
      await source.stop();
      await broker.stop();
    }
  });
});

describe("EmbeddedBroker", () => {
  it("port 0 picks a free port and exposes it", async () => {
    const b = new EmbeddedBroker({ port: 0, log: silentLogger() });
    await b.start();
    try {
      assert.ok(b.port > 0);
      const pub = await publisher(`mqtt://127.0.0.1:${b.port}`);
      await pub.endAsync();
    } finally {
      await b.stop();
    }
  });

  it("a port in use is a clear error", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
    const addr = taken.address();
    const port = typeof addr === "object" && addr ? addr.port : 0;
    try {
      const b = new EmbeddedBroker({ port, log: silentLogger() });
      await assert.rejects(b.start(), (err: unknown) => {
        assert.ok(err instanceof AgentError);
        assert.equal(err.code, "EA_PORT_IN_USE");
        assert.match(err.message, new RegExp(`cannot listen on 127.0.0.1:${port}: port ${port} is already in use`));
        return true;
      });
      await b.stop();
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
