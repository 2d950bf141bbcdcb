// Who is told when, delivered for real: alarm changes committed with the planner, the dispatcher
// sending e-mail to a real SMTP server and WeCom messages to a fake WeCom API, on a manual clock
// that steps through the recipient group's delays.

import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, afterEach, before, test } from "node:test";
import type { NotificationDelivery, NotificationOutcome } from "../../../src/core/notify-ports.js";
import type { RuleActions } from "../../../src/core/types.js";
import type { NotificationMessage, RecipientGroup } from "../../../src/notify/types.js";
import { type Harness as HookHarness, harness as hookHarness } from "../../fixtures/hooks/harness.js";
import { createNotifyHarness, type NotifyHarness, notifyAlarm, resolvedAlarm } from "../../helpers/notify.js";
import { startSmtp, type TestSmtp } from "../../helpers/smtp.js";
import { testRule } from "../../helpers/upstream.js";
import { waitFor } from "../../helpers/wait.js";
import { type FakeWecom, startFakeWecom } from "../../helpers/wecom.js";

let smtp: TestSmtp;
let wecom: FakeWecom;
let h: NotifyHarness | undefined;

before(async () => {
  smtp = await startSmtp();
  wecom = await startFakeWecom();
});
after(async () => {
  await smtp.close();
  await wecom.close();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  smtp.messages.length = 0;
});

const GROUP: RecipientGroup = {
  id: "ops",
  name: "Operations",
  delay: 60,
  users: [{ id: "u1", email: "ann@example.com", wecomUserId: "ann" }],
  principals: [{ id: "p1", email: "boss@example.com" }],
};

function harness(): NotifyHarness {
  h = createNotifyHarness({
    notify: {
      email: { host: smtp.host, port: smtp.port, secure: false, starttls: "off", from: "edge <edge@example.com>" },
      wecom: { corpId: wecom.corpId, agentId: 1000002, secret: wecom.secret, baseUrl: wecom.url },
    },
    groups: [GROUP],
  });
  h.dispatcher.start();
  return h;
}

const mailsTo = (to: string) => smtp.messages.filter((m) => m.envelope.to.includes(to)).map((m) => m.subject);

test("a rule's direct e-mail is told at once of the raise, then of the recovery, in order", async () => {
  const h = harness();
  const sent: NotificationOutcome[] = [];
  h.events.on("notificationSent", (_m, o) => sent.push(o));
  const rule = testRule({ actions: { email: "oncall@example.com" } });
  const a = notifyAlarm("D1", h.clock.now());
  h.commit("created", a, null, rule);
  await waitFor(() => mailsTo("oncall@example.com").length === 1, { what: "raise e-mail" });
  h.clock.advance(5000);
  h.commit("resolved", resolvedAlarm(a, h.clock.now()), a, rule);
  await waitFor(() => mailsTo("oncall@example.com").length === 2, { what: "recover e-mail" });
  assert.deepEqual(mailsTo("oncall@example.com"), [
    "[raise] Over-voltage on incomer (D1)",
    "[recover] Over-voltage on incomer (D1)",
  ]);
  await waitFor(() => sent.length === 2, { what: "notificationSent after commit" });
  assert.deepEqual(
    h.rows("D1").map((r) => r.state),
    ["delivered", "delivered"],
  );
  assert.equal(sent[0]?.alarmId, "D1");
});

test("resolved before the group's delay: nobody is told, the rows are settled as skipped", async () => {
  const h = harness();
  const rule = testRule({ recipient: "ops" });
  const a = notifyAlarm("D2", h.clock.now());
  h.commit("created", a, null, rule);
  h.clock.advance(20_000);
  h.commit("resolved", resolvedAlarm(a, h.clock.now()), a, rule);
  h.clock.advance(200_000);
  await waitFor(() => h.rows("D2").every((r) => r.state === "skipped"), { what: "every row skipped" });
  const rows = h.rows("D2");
  assert.ok(rows.some((r) => r.transition === "raise" && r.last_error === "resolved before the delay"));
  assert.ok(rows.some((r) => r.transition === "recover" && /the raise was not sent/.test(r.last_error ?? "")));
  assert.equal(smtp.messages.length, 0);
  assert.equal(wecom.accepted.length, 0);
});

test("still active: users after the delay, principals after twice the delay, nobody before", async () => {
  const h = harness();
  const rule = testRule({ recipient: "ops" });
  h.commit("created", notifyAlarm("D3", h.clock.now()), null, rule);
  h.clock.advance(59_000);
  h.dispatcher.kick();
  // the rows exist and are not due: a send now would have to show in the outbox first
  assert.ok(h.rows("D3").every((r) => r.state === "pending" && r.attempts === 0));
  assert.equal(smtp.messages.length, 0);
  h.clock.advance(1_000);
  await waitFor(() => mailsTo("ann@example.com").length === 1 && wecom.accepted.length === 1, {
    what: "users told after 60 s",
  });
  assert.equal((wecom.accepted[0]?.json as { touser?: string } | undefined)?.touser, "ann");
  assert.equal(mailsTo("boss@example.com").length, 0);
  h.clock.advance(60_000);
  await waitFor(() => mailsTo("boss@example.com").length === 1, { what: "principal told after 120 s" });
});

test("escalation to status 2 tells the principals at once", async () => {
  const h = harness();
  const rule = testRule({ recipient: "ops" });
  const a = notifyAlarm("D4", h.clock.now(), { status: 1 });
  h.commit("created", a, null, rule);
  h.clock.advance(5_000);
  h.commit("updated", { ...a, status: 2, updated: h.clock.now() }, a, rule);
  await waitFor(() => mailsTo("boss@example.com").length === 1, { what: "principal told on escalation" });
  assert.match(mailsTo("boss@example.com")[0] ?? "", /^\[escalate\]/);
  // the outcome is recorded before time moves on (a send in flight must not see the clock jump)
  await waitFor(() => h.rows("D4").find((r) => r.transition === "escalate")?.state === "delivered", {
    what: "escalation recorded",
  });
  // users still wait for their delay
  assert.equal(mailsTo("ann@example.com").length, 0);
  // to the users' due time exactly: a longer jump would also fire the timeouts of the sends it starts
  h.clock.advance(55_000);
  await waitFor(() => mailsTo("ann@example.com").length === 1, { what: "users after the delay" });
  h.dispatcher.kick();
  await waitFor(() => h.rows("D4").every((r) => r.state === "delivered"), { what: "all settled" });
  assert.equal(mailsTo("boss@example.com").length, 1, "the principal is told once");
});

test("a beforeNotify veto settles the row as skipped, naming the hook; a changed subject is sent", async () => {
  h = createNotifyHarness({
    notify: { email: { host: smtp.host, port: smtp.port, secure: false, starttls: "off", from: "edge@example.com" } },
    hooks: {
      interceptor: {
        active: true,
        beforeNotify: async (m) =>
          m.to === "veto@example.com"
            ? { vetoedBy: "quiet-hours" }
            : { message: { ...m, subject: `SITE: ${m.subject}` } },
      },
      channels: { provider: () => undefined, send: async () => ({ ok: true }) },
    },
  });
  h.dispatcher.start();
  const rule = testRule({ actions: { email: "veto@example.com, ok@example.com" } });
  h.commit("created", notifyAlarm("D5", h.clock.now()), null, rule);
  await waitFor(() => h?.rows("D5").every((r) => r.state !== "pending"), { what: "both settled" });
  const rows = h.rows("D5");
  assert.equal(rows.find((r) => r.to === "veto@example.com")?.last_error, "vetoed by hook quiet-hours");
  assert.deepEqual(mailsTo("ok@example.com"), ["SITE: [raise] Over-voltage on incomer (D5)"]);
  assert.equal(mailsTo("veto@example.com").length, 0);
});

test("a rule's channel:sms goes through the shipped SMS hook to the gateway; a refused number is a dead letter", async () => {
  const got: { to: string; text: string }[] = [];
  const gateway = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const j = JSON.parse(body) as { to: string; text: string };
      got.push(j);
      res.statusCode = j.to === "+420999" ? 400 : 200;
      res.end(j.to === "+420999" ? "unknown number" : "queued");
    });
  });
  await new Promise<void>((r) => gateway.listen(0, "127.0.0.1", () => r()));
  const addr = gateway.address();
  process.env.SMS_GATEWAY_URL = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/send`;
  let hooks: HookHarness | undefined;
  try {
    const lazy = {
      get active() {
        return hooks?.manager.notifyHooks.active ?? false;
      },
      beforeNotify: (m: NotificationMessage, d: NotificationDelivery) =>
        (hooks as HookHarness).manager.notifyHooks.beforeNotify(m, d),
      provider: (c: string) => hooks?.manager.notifyHooks.provider(c),
      send: (c: string, m: NotificationMessage, d: NotificationDelivery) =>
        (hooks as HookHarness).manager.notifyHooks.send(c, m, d),
    };
    h = createNotifyHarness({ notify: {}, hooks: { interceptor: lazy, channels: lazy } });
    hooks = hookHarness({ clock: h.clock, watch: false });
    mkdirSync(hooks.dir, { recursive: true });
    copyFileSync(join("hooks", "sms-channel.mjs"), join(hooks.dir, "sms-channel.mjs"));
    hooks.manager = hooks.make();
    await hooks.manager.start();
    assert.equal(hooks.manager.notifyHooks.provider("sms"), "sms-channel");
    h.dispatcher.start();
    const rule = testRule({ actions: { "channel:sms": "+420111; +420999" } as RuleActions });
    h.commit("created", notifyAlarm("D6", h.clock.now()), null, rule);
    const hh = h;
    await waitFor(() => hh.rows("D6").every((r) => r.state !== "pending"), { what: "both settled" });
    const byTo = new Map(hh.rows("D6").map((r) => [r.to, r]));
    assert.equal(byTo.get("+420111")?.state, "delivered");
    assert.equal(byTo.get("+420999")?.state, "dead");
    assert.match(byTo.get("+420999")?.last_error ?? "", /SMS gateway answered 400: unknown number/);
    assert.deepEqual(
      got.map((g) => g.to),
      ["+420111", "+420999"],
    );
    assert.match(got[0]?.text ?? "", /\[raise\] Over-voltage on incomer/);
  } finally {
    delete process.env.SMS_GATEWAY_URL;
    await hooks?.close();
    await new Promise<void>((r) => gateway.close(() => r()));
  }
});
