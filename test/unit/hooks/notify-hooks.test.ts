// The hooks' part in notifications, through a real HookManager loading hook files: the beforeNotify
// chain (change, veto, a throw keeps the message), the observers of outcomes, and custom channels
// (which hook provides a name; resolve, throw and ProcessingError).

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import type { NotificationDelivery } from "../../../src/core/notify-ports.js";
import type { NotificationMessage } from "../../../src/notify/types.js";
import { type Harness, harness } from "../../fixtures/hooks/harness.js";
import { waitFor } from "../../helpers/wait.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const message = (): NotificationMessage => ({
  channel: "email",
  to: "ann@example.com",
  transition: "raise",
  lang: "en",
  subject: "Over-voltage",
  text: "voltage 262 V",
});
const delivery: NotificationDelivery = { seq: 7, alarmId: "a-1", audience: "direct", attempts: 0 };

test("beforeNotify: changes chain in load order; a throw keeps the message; null vetoes naming the hook", async () => {
  h = harness();
  h.write(
    "a-prefix.mjs",
    `export default { beforeNotify(m) { m.subject = "[site] " + m.subject; m.channel = "wecom"; return m; } };`,
  );
  h.write("b-broken.mjs", `export default { beforeNotify(m) { m.subject = "lost"; throw new Error("boom"); } };`);
  h.write(
    "c-quiet.mjs",
    `export default { beforeNotify(m) { if (m.to === "night@example.com") return null; m.text += " (c)"; } };`,
  );
  await h.manager.start();
  const n = h.manager.notifyHooks;
  assert.equal(n.active, true);
  const out = await n.beforeNotify(message(), delivery);
  assert.ok("message" in out);
  assert.equal(out.message.subject, "[site] Over-voltage");
  assert.equal(out.message.text, "voltage 262 V (c)");
  assert.equal(out.message.channel, "email", "the channel stays the agent's");
  const vetoed = await n.beforeNotify({ ...message(), to: "night@example.com" }, delivery);
  assert.deepEqual(vetoed, { vetoedBy: "c-quiet" });
  assert.equal(h.manager.list().find((i) => i.name === "b-broken")?.errors, 2);
});

test("custom channels: the first hook declaring a name provides it; resolve, throw and ProcessingError", async () => {
  h = harness();
  h.write(
    "a-sms.mjs",
    `export default {
       channels: ["sms"],
       async sendNotification(channel, m, ctx) {
         if (m.to === "+1") return;
         if (m.to === "+2") throw new Error("gateway down");
         throw new ctx.errors.ProcessingError("number refused");
       },
     };`,
  );
  h.write("b-sms.mjs", `export default { channels: ["sms", "pager"], sendNotification() {} };`);
  await h.manager.start();
  const n = h.manager.notifyHooks;
  assert.equal(n.provider("sms"), "a-sms");
  assert.equal(n.provider("pager"), "b-sms");
  assert.equal(n.provider("fax"), undefined);
  const sms = { ...message(), channel: "channel:sms" as const };
  assert.deepEqual(await n.send("sms", { ...sms, to: "+1" }, delivery), { ok: true });
  const retry = await n.send("sms", { ...sms, to: "+2" }, delivery);
  assert.equal(retry.ok, false);
  assert.ok(!retry.ok && !retry.permanent && /gateway down/.test(retry.message));
  const dead = await n.send("sms", { ...sms, to: "+3" }, delivery);
  assert.ok(!dead.ok && dead.permanent && dead.message === "hook a-sms: number refused");
});

test("onNotificationSent / onNotificationFailed observe the recorded outcomes", async () => {
  h = harness();
  h.write(
    "obs.mjs",
    `export default {
       onNotificationSent(m, r, ctx) { ctx.kv.set("sent", { to: m.to, outcome: r.outcome, seq: r.seq }); },
       onNotificationFailed(m, e, ctx) { ctx.kv.set("failed", { to: m.to, outcome: e.outcome, code: e.code }); },
     };`,
  );
  const hh = h;
  await hh.manager.start();
  hh.events.emit("notificationSent", message(), { ...delivery, ok: true, outcome: "sent" });
  hh.events.emit(
    "notificationFailed",
    { ...message(), to: "bob@example.com" },
    {
      ...delivery,
      ok: false,
      outcome: "dead",
      code: "550",
      message: "no such user",
    },
  );
  const kv = (key: string) =>
    (hh.db.prepare("SELECT value FROM kv WHERE ns = ? AND key = ?").get("obs", key) as { value: string } | undefined)
      ?.value;
  await waitFor(() => kv("sent") !== undefined && kv("failed") !== undefined, { what: "both observed" });
  assert.deepEqual(JSON.parse(kv("sent") ?? "null"), { to: "ann@example.com", outcome: "sent", seq: 7 });
  assert.deepEqual(JSON.parse(kv("failed") ?? "null"), { to: "bob@example.com", outcome: "dead", code: "550" });
});
