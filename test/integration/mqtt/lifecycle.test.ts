// Start-up faults: a broker that is not there yet, unreadable TLS files, an embedded broker whose
// port is taken.

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AgentError } from "../../../src/core/errors.js";
import { silentLogger } from "../../../src/core/log.js";
import { EmbeddedBroker } from "../../../src/sources/mqtt/embedded-broker.js";
import { freePort, waitFor } from "../../helpers/wait.js";
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
        assert.match(err.message, new RegExp(`cannot listen on 127.0.0.1:${port}: port ${port} is already in use`));
        return true;
      });
      await b.stop();
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
