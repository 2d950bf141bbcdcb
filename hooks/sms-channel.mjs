// Example hook: a notification channel of its own. A rule's `actions["channel:sms"]: "+420601123456"`
// is delivered by this hook's sendNotification, which posts the message to an HTTP SMS gateway
// (docs/hooks.md, custom channels). Delivery goes through the outbox like every notification: it
// survives restarts, a throw is retried with backoff, a ProcessingError is final (a dead letter).
//
// Inert until configured (environment of the agent):
//   SMS_GATEWAY_URL=https://sms.example.com/api/send   gateway endpoint (required)
//   SMS_GATEWAY_TOKEN=...                               sent as "Authorization: Bearer …" (optional)
//   SMS_MAX_CHARS=300                                   longer texts are cut (default 300)
// The gateway gets `{"to": "+420…", "text": "…"}` as JSON. 2xx: sent. 400–499 (but 408 and 429):
// the gateway refuses this message for good. Anything else: tried again later.

/** @typedef {import('edge-agent').Hook} Hook */

const url = process.env.SMS_GATEWAY_URL;

/** @type {Hook} */
export default {
  // Without a gateway the hook provides no channel: channel:sms messages wait in the outbox.
  channels: url ? ["sms"] : [],

  start(ctx) {
    ctx.log.info(url ? "SMS channel on" : "SMS channel off (set SMS_GATEWAY_URL to turn it on)");
  },

  async sendNotification(_channel, message, ctx) {
    if (!url) throw new Error("SMS_GATEWAY_URL is not set");
    const max = Number(process.env.SMS_MAX_CHARS ?? 300) || 300;
    const text = `${message.subject}\n${message.text}`.slice(0, max);
    const headers = {};
    if (process.env.SMS_GATEWAY_TOKEN) headers.Authorization = `Bearer ${process.env.SMS_GATEWAY_TOKEN}`;
    const res = await ctx.http.postJson(url, { to: message.to, text }, { headers });
    if (res.status >= 200 && res.status < 300) return;
    const refused = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
    const why = `SMS gateway answered ${res.status}: ${res.text.slice(0, 200)}`;
    if (refused) throw new ctx.errors.ProcessingError(why);
    throw new Error(why);
  },
};
