// Contract suite: the same behaviour of MqttSource against every broker available here
// (mosquitto when installed, and the embedded aedes broker).

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { MqttClient } from "mqtt";
import { ManualClock } from "../../../../src/core/clock.js";
import { availableKinds, startBroker, type TestBroker } from "../../../helpers/broker.js";
import { testBus } from "../../../helpers/harness.js";
import { waitFor } from "../../../helpers/wait.js";
import { makeSource, messages, publisher, uniqueId } from "./fixtures.js";

for (const kind of availableKinds()) {
  describe(`MqttSource over ${kind}`, { concurrency: false }, () => {
    let broker: TestBroker;
    let pub: MqttClient;
    before(async () => {
      broker = await startBroker(kind);
      pub = await publisher(broker.url);
    });
    after(async () => {
      await pub?.endAsync();
      await broker?.stop();
    });

    it("maps messages from the broker to readings", async () => {
      const { source, sink } = makeSource({
        url: broker.url,
        subscriptions: [
          { topic: "t1/meters/+/telemetry", qos: 1, device: "{1}", product: "meter", timestamp: "ts", values: "$" },
          { topic: "t1/sensors/+/+", qos: 0, device: "{1}", product: "sensor" },
        ],
      });
      await source.start();
      try {
        assert.equal(source.connected, true);
        const ts = Date.UTC(2026, 4, 1);
        await pub.publishAsync("t1/meters/m-7/telemetry", JSON.stringify({ ts, voltage: 229.5, fw: "2.1" }), {
          qos: 1,
        });
        await pub.publishAsync("t1/sensors/s-1/temp", "21.25", { qos: 1 });
        await pub.publishAsync("t1/meters/m-7/telemetry", JSON.stringify({ event: "door_open" }), { qos: 1 });
        await waitFor(() => sink.readings.length >= 3, { what: "3 readings" });
        const [a, b, c] = sink.readings;
        assert.deepEqual(
          { id: a?.deviceId, p: a?.product, ts: a?.ts, v: a?.values },
          { id: "m-7", p: "meter", ts, v: { voltage: 229.5, fw: "2.1" } },
        );
        assert.deepEqual(
          { id: b?.deviceId, p: b?.product, v: b?.values },
          { id: "s-1", p: "sensor", v: { temp: 21.25 } },
        );
        assert.equal(c?.event, "door_open");
      } finally {
        await source.stop();
      }
    });

    it("counts bad input, keeps running, and the next good message arrives", async () => {
      const { source, sink, metrics } = makeSource({
        url: broker.url,
        subscriptions: [
          { topic: "t2/meters/+/telemetry", qos: 1, device: "{1}", product: "meter", timestamp: "ts" },
          { topic: "t2/by-id", qos: 1, device: "$.meta.id", product: "meter" },
        ],
        config: { maxPayloadBytes: 64 * 1024 },
      });
      await source.start();
      try {
        const t = "t2/meters/m1/telemetry";
        await pub.publishAsync(t, "{not json", { qos: 1 });
        await pub.publishAsync(t, JSON.stringify([1, 2]), { qos: 1 });
        await pub.publishAsync(t, JSON.stringify({ fw: "x".repeat(5000) }), { qos: 1 });
        await pub.publishAsync(t, Buffer.alloc(1024 * 1024, 0x41), { qos: 1 });
        await pub.publishAsync("t2/by-id", JSON.stringify({ voltage: 1 }), { qos: 1 });
        await pub.publishAsync(t, JSON.stringify({ ts: "last tuesday", voltage: 1 }), { qos: 1 });
        await pub.publishAsync(t, JSON.stringify({ voltage: 230.5, dump: "x".repeat(5000) }), { qos: 1 });
        await waitFor(() => sink.readings.length >= 1, { what: "good reading after bad ones" });
        assert.equal(source.connected, true);
        assert.equal(sink.readings.length, 1);
        assert.deepEqual(sink.readings[0]?.values, { voltage: 230.5 });
        assert.equal(messages(metrics, "not-json"), 1);
        assert.equal(messages(metrics, "no-metrics"), 1);
        assert.equal(messages(metrics, "bad-values"), 1);
        assert.equal(messages(metrics, "too-large"), 1);
        assert.equal(messages(metrics, "no-device"), 1);
        assert.equal(messages(metrics, "bad-timestamp"), 1);
        assert.equal(messages(metrics, "ok"), 1);
        assert.equal(metrics.counter("edge_mqtt_values_dropped_total", "").get({ reason: "string-too-long" }), 2);
        assert.match(metrics.render(), /edge_mqtt_messages_total\{result="too-large"\} 1/);
      } finally {
        await source.stop();
      }
    });

    it("emits rawMessage before parsing, even for bad payloads", async () => {
      const events = testBus();
      const raw: [string, string][] = [];
      events.on("rawMessage", (src, topic, payload) => {
        raw.push([src, `${topic} ${Buffer.isBuffer(payload) ? payload.toString() : "?"}`]);
      });
      const { source } = makeSource({
        url: broker.url,
        events,
        subscriptions: [{ topic: "t3/+", device: "{1}", product: "p", qos: 1 }],
      });
      await source.start();
      try {
        await pub.publishAsync("t3/a", "garbage", { qos: 1 });
        await waitFor(() => raw.length >= 1, { what: "raw message" });
        assert.deepEqual(raw[0], ["mqtt", "t3/a garbage"]);
      } finally {
        await source.stop();
      }
    });

    it("persistent session: QoS 1 messages published while the agent is down arrive when it starts again", async () => {
      const clientId = uniqueId("persist");
      const sub = { topic: "t4/meters/+/telemetry", qos: 1 as const, device: "{1}", product: "meter" };
      const first = makeSource({ url: broker.url, clientId, subscriptions: [sub] });
      await first.source.start();
      await first.source.stop();
      for (let i = 0; i < 5; i++) {
        await pub.publishAsync("t4/meters/m1/telemetry", JSON.stringify({ seq: i }), { qos: 1 });
      }
      const second = makeSource({ url: broker.url, clientId, subscriptions: [sub] });
      await second.source.start();
      try {
        await waitFor(() => second.sink.readings.length >= 5, { what: "5 queued readings" });
        assert.deepEqual(
          second.sink.readings.map((r) => r.values.seq),
          [0, 1, 2, 3, 4],
        );
      } finally {
        await second.source.stop();
      }
    });

    it("device goes offline after offlineAfter × expectedIntervalMs of silence and online at the next message", async () => {
      const clock = new ManualClock();
      const { source, sink } = makeSource({
        url: broker.url,
        clock,
        subscriptions: [
          { topic: "t5/+/v", device: "{1}", product: "p", qos: 1, expectedIntervalMs: 1000, offlineAfter: 3 },
        ],
      });
      await source.start();
      try {
        await pub.publishAsync("t5/d1/v", "1", { qos: 1 });
        await waitFor(() => sink.readings.length === 1, { what: "first reading" });
        clock.advance(2900);
        assert.equal(sink.reachability.length, 0, "not offline before 3 intervals");
        clock.advance(200);
        assert.equal(sink.reachability.length, 1);
        assert.equal(sink.reachability[0]?.deviceId, "d1");
        assert.equal(sink.reachability[0]?.reachable, false);
        assert.match(sink.reachability[0]?.reason ?? "", /no MQTT message for 3 s/);
        clock.advance(10_000);
        assert.equal(sink.reachability.length, 1, "offline reported once");
        await pub.publishAsync("t5/d1/v", "2", { qos: 1 });
        await waitFor(() => sink.reachability.length === 2, { what: "back online" });
        assert.deepEqual(sink.reachability[1], { deviceId: "d1", reachable: true });
        await pub.publishAsync("t5/d1/v", "3", { qos: 1 });
        await waitFor(() => sink.readings.length === 3, { what: "third reading" });
        assert.equal(sink.reachability.length, 2, "online reported only on change");
      } finally {
        await source.stop();
      }
      assert.equal(clock.pendingTimers(), 0, "stop clears the silence check");
    });
  });
}
