// Fault test: the broker is down for 10 s and comes back on the same port. The source must back off
// while it is gone (not hammer it every 100 ms), reconnect, and receive what is published afterwards.
// mosquitto keeps our persistent session across its restart (persistence file); aedes starts empty,
// so there the source must subscribe again on its own (connack.sessionPresent = false).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MqttClient } from "mqtt";
import { availableKinds, startBroker } from "../../../helpers/broker.js";
import { waitFor } from "../../../helpers/wait.js";
import { makeSource, publisher } from "./fixtures.js";

const OUTAGE_MS = 10_000;

describe("broker restart", { concurrency: true }, () => {
  for (const kind of availableKinds()) {
    it(`${kind}: reconnects with backoff after a ${OUTAGE_MS / 1000} s outage, re-subscribes and resumes`, async () => {
      const broker = await startBroker(kind);
      const pubs: MqttClient[] = [];
      const { source, sink, metrics } = makeSource({
        url: broker.url,
        config: { reconnectMinMs: 100, reconnectMaxMs: 2000 },
      });
      try {
        await source.start();
        const pub1 = await publisher(broker.url);
        pubs.push(pub1);
        await pub1.publishAsync("meters/m1/telemetry", JSON.stringify({ seq: 1 }), { qos: 1 });
        await waitFor(() => sink.readings.length === 1, { what: "reading before outage" });

        await broker.down();
        await waitFor(() => !source.connected, { what: "source sees the outage" });
        const outageStart = Date.now();
        await new Promise((r) => setTimeout(r, OUTAGE_MS)); // the outage itself is the scenario, not a synchronisation
        await broker.restart();
        const attempts = metrics.counter("edge_mqtt_reconnects_total", "").get();
        // Fixed 100 ms retries would be ~100 attempts; doubling to 2 s gives ~10.
        assert.ok(attempts >= 3 && attempts <= 20, `reconnect attempts during outage: ${attempts}`);

        await waitFor(() => source.connected, { timeoutMs: 8000, what: "reconnected" });
        const reconnectedAfter = Date.now() - outageStart;
        const pub2 = await publisher(broker.url);
        pubs.push(pub2);
        // The subscription may land a moment after CONNACK when the broker lost our session.
        await waitFor(
          async () => {
            await pub2.publishAsync("meters/m1/telemetry", JSON.stringify({ seq: 2 }), { qos: 1 });
            return sink.readings.some((r) => r.values.seq === 2);
          },
          { timeoutMs: 8000, intervalMs: 200, what: "reading published after restart" },
        );
        assert.ok(reconnectedAfter < OUTAGE_MS + 4000, `reconnected ${reconnectedAfter} ms after the outage began`);
      } finally {
        for (const p of pubs) await p.endAsync(true);
        await source.stop();
        await broker.stop();
      }
    });
  }
});
