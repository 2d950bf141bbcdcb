// Example hook: forwards every raw MQTT payload / Modbus frame set to a second HTTP endpoint
// (a historian, a second platform), as JSON:
//   {"gatewayId": "...", "source": "mqtt", "topic": "...", "ts": 1767225600000,
//    "encoding": "base64" | "json", "payload": "..." | {...}}
//
// Inert until configured: set FORWARD_URL (and optionally FORWARD_TOKEN, sent as a Bearer token)
// in the environment of the agent. Without FORWARD_URL this module defines no onRawMessage at all,
// so the agent does not even build raw payloads for it.
//
// A slow or unreachable endpoint never slows ingestion: calls run from this hook's own queue,
// a call slower than hooks.timeoutMs is abandoned, and while the queue is full new payloads are
// dropped and counted (edge_hook_dropped_total{hook="raw-forwarder"}).

/** @typedef {import('edge-agent').Hook} Hook */

const url = process.env.FORWARD_URL;
const token = process.env.FORWARD_TOKEN;

/** @type {Hook} */
const forwarder = {
  start(ctx) {
    ctx.log.info({ url }, "forwarding raw payloads");
  },
  async onRawMessage(source, topic, payload, ctx) {
    const body = Buffer.isBuffer(payload)
      ? { encoding: "base64", payload: payload.toString("base64") }
      : { encoding: "json", payload };
    const res = await ctx.http.postJson(
      url,
      { gatewayId: ctx.config.gatewayId, source, topic, ts: Date.now(), ...body },
      token ? { headers: { authorization: `Bearer ${token}` } } : {},
    );
    if (res.status >= 300) throw new Error(`forward endpoint answered HTTP ${res.status}`);
  },
};

/** @type {Hook} */
const off = {
  start(ctx) {
    ctx.log.info("raw forwarding off (set FORWARD_URL to enable)");
  },
};

export default url ? forwarder : off;
