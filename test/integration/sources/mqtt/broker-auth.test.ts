// The embedded broker with logins configured: anonymous and wrong-password clients are refused in
// the CONNACK, the agent's own login and the device users are accepted, and the agent still
// receives the devices' readings. Without logins on a non-loopback address it warns loudly, both
// at start and in validate.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt from "mqtt";
import { createAgent } from "../../../../src/app.js";
import { checkConfig } from "../../../../src/config/checks.js";
import type { Config } from "../../../../src/config/schema.js";
import { systemClock } from "../../../../src/core/clock.js";
import { silentLogger } from "../../../../src/core/log.js";
import { EmbeddedBroker, embeddedBrokerLogins } from "../../../../src/sources/mqtt/embedded-broker.js";
import { resolvedConfig } from "../../../helpers/config.js";
import { captureLog } from "../../../helpers/harness.js";
import { freePort, waitFor } from "../../../helpers/wait.js";
import { makeSource, uniqueId } from "./fixtures.js";

const AGENT = { username: "agent", password: "agent-pass-0123456789" };
const DEVICE = { username: "meter-17", password: "device-pass-9876543210" };

/** Connects once (no retry) and reports the CONNACK outcome: "ok" or the refusal code. */
async function tryConnect(url: string, login?: { username?: string; password?: string }): Promise<"ok" | number> {
  const client = mqtt.connect(url, {
    clientId: uniqueId("probe"),
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...login,
  });
  try {
    return await new Promise<"ok" | number>((resolve, reject) => {
      client.once("connect", () => resolve("ok"));
      client.once("error", (err: Error & { code?: number }) => {
        if (typeof err.code === "number") resolve(err.code);
        else reject(err);
      });
    });
  } finally {
    await client.endAsync(true);
  }
}

describe("embedded broker with logins", () => {
  let broker: EmbeddedBroker;
  let url: string;
  before(async () => {
    const { logins } = embeddedBrokerLogins({ ...AGENT, users: [DEVICE] });
    broker = new EmbeddedBroker({ port: 0, log: silentLogger(), logins });
    await broker.start();
    url = broker.url;
  });
  after(async () => {
    await broker.stop();
  });

  it("refuses anonymous clients (5: not authorized) and wrong passwords or users (4)", async () => {
    assert.equal(await tryConnect(url), 5);
    assert.equal(await tryConnect(url, { username: DEVICE.username, password: "wrong" }), 4);
    assert.equal(await tryConnect(url, { username: DEVICE.username }), 4);
    assert.equal(await tryConnect(url, { username: "nobody", password: DEVICE.password }), 4);
    assert.equal(await tryConnect(url, { username: AGENT.username, password: DEVICE.password }), 4);
  });

  it("accepts the agent's login and the device users", async () => {
    assert.equal(await tryConnect(url, AGENT), "ok");
    assert.equal(await tryConnect(url, DEVICE), "ok");
  });

  it("the agent receives a device user's readings; an anonymous publish never arrives", async () => {
    const { source, sink } = makeSource({ url, config: AGENT });
    await source.start();
    try {
      await waitFor(() => source.connected, { what: "agent connected with its login" });
      // Anonymous: refused at CONNECT, so nothing it sends can reach the agent.
      const anon = mqtt.connect(url, { clientId: uniqueId("anon"), protocolVersion: 4, reconnectPeriod: 0 });
      anon.on("error", () => {});
      anon.publish("meters/intruder/telemetry", JSON.stringify({ v: 1 }));
      const dev = await mqtt.connectAsync(url, { clientId: uniqueId("dev"), protocolVersion: 4, ...DEVICE });
      try {
        await waitFor(
          async () => {
            await dev.publishAsync("meters/m17/telemetry", JSON.stringify({ voltage: 231 }), { qos: 1 });
            return sink.find((r) => r.deviceId === "m17");
          },
          { intervalMs: 100, what: "device reading through the authenticated broker" },
        );
      } finally {
        await dev.endAsync(true);
        await anon.endAsync(true);
      }
      assert.equal(
        sink.find((r) => r.deviceId === "intruder"),
        undefined,
      );
    } finally {
      await source.stop();
    }
  });
});

describe("embeddedBrokerLogins", () => {
  it("device users only: the agent gets a generated login the broker accepts", async () => {
    const { logins, agent } = embeddedBrokerLogins({ users: [DEVICE] });
    assert.ok(agent && agent.username !== DEVICE.username && agent.password.length >= 32);
    assert.equal(logins.length, 2);
    const broker = new EmbeddedBroker({ port: 0, log: silentLogger(), logins });
    await broker.start();
    try {
      assert.equal(await tryConnect(broker.url, agent), "ok");
      assert.equal(await tryConnect(broker.url), 5);
    } finally {
      await broker.stop();
    }
  });
  it("no credentials at all: anonymous broker, as before", () => {
    assert.deepEqual(embeddedBrokerLogins({}), { logins: [], agent: null });
  });
});

describe("the agent with its own broker and device users only", () => {
  it("connects with a generated login and receives an authenticated device's readings", async () => {
    const root = mkdtempSync(join(tmpdir(), "edge-broker-auth-"));
    const port = await freePort();
    const config = Object.freeze({
      gatewayId: "gw-broker",
      dataDir: join(root, "data"),
      rulesDir: join(root, "rules"),
      hooksDir: join(root, "hooks"),
      mqtt: {
        url: "embedded",
        port,
        users: [DEVICE],
        subscriptions: [{ topic: "meters/+/telemetry", qos: 1, device: "{1}", product: "meter", values: "$" }],
      },
      http: { enabled: false },
    }) as Config;
    const agent = createAgent(resolvedConfig(config), { clock: systemClock, log: silentLogger(), version: "test" });
    try {
      await agent.start();
      const url = `mqtt://127.0.0.1:${port}`;
      assert.equal(await tryConnect(url), 5, "anonymous refused");
      const dev = await mqtt.connectAsync(url, { clientId: uniqueId("dev"), protocolVersion: 4, ...DEVICE });
      try {
        await waitFor(
          async () => {
            await dev.publishAsync("meters/m42/telemetry", JSON.stringify({ voltage: 229 }), { qos: 1 });
            return agent.devices.get("m42")?.values.voltage === 229;
          },
          { intervalMs: 100, what: "the device's reading in the agent" },
        );
      } finally {
        await dev.endAsync(true);
      }
    } finally {
      await agent.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("an open embedded broker beyond loopback", () => {
  it("warns loudly at start", async () => {
    const out = captureLog();
    const broker = new EmbeddedBroker({ port: 0, host: "0.0.0.0", log: out.log });
    await broker.start();
    try {
      assert.match(out.text, /"level":40.*WITHOUT AUTHENTICATION/);
      assert.equal(broker.url, `mqtt://127.0.0.1:${broker.port}`);
    } finally {
      await broker.stop();
    }
  });
  it("is silent on loopback and with logins", async () => {
    for (const opts of [{ host: "127.0.0.1" }, { host: "0.0.0.0", logins: [DEVICE] }]) {
      const out = captureLog();
      const broker = new EmbeddedBroker({ port: 0, log: out.log, ...opts });
      await broker.start();
      await broker.stop();
      assert.doesNotMatch(out.text, /WITHOUT AUTHENTICATION/);
    }
  });
  it("validate warns, and checks the users list", () => {
    const base: Config = { gatewayId: "g", mqtt: { url: "embedded", host: "0.0.0.0", subscriptions: [] } };
    const open = checkConfig(base, "agent.json");
    const w = open.find((p) => p.path === "$.mqtt.host");
    assert.equal(w?.severity, "warning");
    assert.match(w?.message ?? "", /without authentication/);
    assert.equal(
      checkConfig({ ...base, mqtt: { ...base.mqtt, url: "embedded", users: [DEVICE] } } as Config, "a").length,
      0,
    );
    const dup = checkConfig(
      { ...base, mqtt: { url: "embedded", subscriptions: [], ...AGENT, users: [DEVICE, DEVICE, AGENT] } } as Config,
      "a",
    );
    assert.deepEqual(
      dup.map((p) => [p.path, p.severity ?? "error"]),
      [
        ["$.mqtt.users[1].username", "error"],
        ["$.mqtt.users[2].username", "error"],
      ],
    );
    assert.equal(checkConfig({ ...base, mqtt: { ...base.mqtt, host: "127.0.0.1" } } as Config, "a").length, 0);
  });
});
