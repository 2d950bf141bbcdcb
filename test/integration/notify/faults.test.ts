// Notifications under faults: an SMTP server down for ten minutes, a WeCom token that expires, a
// WeCom user the API refuses. Real SMTP (test/helpers/smtp.ts), the fake WeCom API, the fake
// platform, real SQLite; the manual clock steps through the backoff.

import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { OutboxRepo } from "../../../src/store/outbox-repo.js";
import { createNotifyHarness, type NotifyHarness, notifyAlarm, resolvedAlarm } from "../../helpers/notify.js";
import { startSmtp, type TestSmtp } from "../../helpers/smtp.js";
import { type FakeUpstream, startUpstream, testRule } from "../../helpers/upstream.js";
import { waitFor } from "../../helpers/wait.js";
import { type FakeWecom, startFakeWecom } from "../../helpers/wecom.js";

let smtp: TestSmtp;
let up: FakeUpstream;
let h: NotifyHarness | undefined;
let wecom: FakeWecom | undefined;

before(async () => {
  smtp = await startSmtp();
  up = await startUpstream();
});
after(async () => {
  await smtp.close();
  await up.close();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  await wecom?.close();
  wecom = undefined;
  smtp.messages.length = 0;
});

const subjects = (to: string) => smtp.messages.filter((m) => m.envelope.to.includes(to)).map((m) => m.subject);

test("SMTP down for 10 minutes through a raise and a resolve: both arrive once, in order, after it returns; the platform is not held back", async () => {
  h = createNotifyHarness({
    notify: { email: { host: smtp.host, port: smtp.port, secure: false, starttls: "off", from: "edge@example.com" } },
    upstream: { baseUrl: up.url, token: "t" },
  });
  const hh = h;
  hh.dispatcher.start();
  await smtp.down();
  const rule = testRule({ actions: { email: "oncall@example.com" } });
  const a = notifyAlarm("F1", hh.clock.now());
  hh.commit("created", a, null, rule);
  await waitFor(() => up.paths("/alert/add").length === 1, { what: "alert.add while SMTP is down" });
  await hh.stepUntil(() => (hh.rows("F1")[0]?.attempts ?? 0) >= 2, {
    stepMs: 5_000,
    maxMs: 60_000,
    what: "the e-mail failed twice",
  });
  await hh.stepUntil(() => hh.clock.now() - a.created >= 300_000, { stepMs: 5_000, maxMs: 300_000, what: "5 min" });
  hh.commit("resolved", resolvedAlarm(a, hh.clock.now()), a, rule);
  await waitFor(() => up.paths("/alert/update").length === 1, { what: "alert.update while SMTP is down" });
  await hh.stepUntil(() => hh.clock.now() - a.created >= 600_000, { stepMs: 5_000, maxMs: 300_000, what: "10 min" });
  assert.equal(smtp.messages.length, 0);
  const raise = hh.rows("F1")[0];
  assert.equal(raise?.state, "pending");
  assert.match(raise?.last_error ?? "", /email/);
  await smtp.up();
  // the backoff is at most 5 minutes: within it both go
  await hh.stepUntil(() => hh.rows("F1").every((r) => r.state === "delivered"), {
    stepMs: 5_000,
    maxMs: 330_000,
    what: "raise and recover delivered",
  });
  assert.deepEqual(subjects("oncall@example.com"), [
    "[raise] Over-voltage on incomer (F1)",
    "[recover] Over-voltage on incomer (F1)",
  ]);
  // the platform got the alarm and its resolve while the SMTP server was down, once each
  assert.equal(up.paths("/alert/add").length, 1);
  assert.equal(up.paths("/alert/update").length, 1);
});

test("WeCom 'access token expired' once: the token is refreshed and the message sent once", async () => {
  wecom = await startFakeWecom();
  const w = wecom;
  h = createNotifyHarness({
    notify: { wecom: { corpId: w.corpId, agentId: 1000002, secret: w.secret, baseUrl: w.url } },
  });
  const hh = h;
  hh.dispatcher.start();
  const rule = testRule({ actions: { wechat: "ann" } });
  hh.commit("created", notifyAlarm("F2", hh.clock.now()), null, rule);
  await waitFor(() => w.accepted.length === 1, { what: "first message" });
  w.expireTokens();
  hh.commit(
    "created",
    notifyAlarm("F3", hh.clock.now(), { resource: { id: "meter-02", product: "meter" } }),
    null,
    rule,
  );
  await hh.stepUntil(() => hh.rows("F3")[0]?.state === "delivered", {
    stepMs: 1_000,
    maxMs: 60_000,
    what: "second message delivered",
  });
  assert.equal(w.accepted.length, 2, "each message accepted once");
  assert.equal(w.tokens.length, 2, "a new token was fetched");
  assert.ok(
    w.requests.some((r) => r.api === "send" && r.query.access_token === w.tokens[0]),
    "the expired token was tried",
  );
});

test("WeCom refuses one user for good: that row is a dead letter with the API's code and message, the others are sent", async () => {
  wecom = await startFakeWecom({ knownUsers: ["ann", "bob"] });
  const w = wecom;
  h = createNotifyHarness({
    notify: { wecom: { corpId: w.corpId, agentId: 1000002, secret: w.secret, baseUrl: w.url } },
  });
  const hh = h;
  hh.dispatcher.start();
  const rule = testRule({ actions: { wechat: "ann|ghost|bob" } });
  hh.commit("created", notifyAlarm("F4", hh.clock.now()), null, rule);
  await hh.stepUntil(() => hh.rows("F4").every((r) => r.state !== "pending"), {
    stepMs: 1_000,
    maxMs: 30_000,
    what: "every row settled",
  });
  const byTo = new Map(hh.rows("F4").map((r) => [r.to, r]));
  assert.equal(byTo.get("ann")?.state, "delivered");
  assert.equal(byTo.get("bob")?.state, "delivered");
  assert.equal(byTo.get("ghost")?.state, "dead");
  assert.equal(w.accepted.map((r) => (r.json as { touser?: string }).touser).join(","), "ann,bob");
  const dead = new OutboxRepo({ db: hh.db }).deadLetters(10);
  assert.equal(dead.length, 1);
  assert.equal(dead[0]?.kind, "notify");
  assert.equal(dead[0]?.alarmId, "F4");
  assert.equal(dead[0]?.code, "81013");
  assert.match(dead[0]?.msg ?? "", /invalid/);
  // What `edge-agent outbox`, /status and the page show per channel.
  assert.deepEqual(new OutboxRepo({ db: hh.db }).summary(hh.clock.now()).notifications, {
    wecom: { pending: 0, sent: 2, skipped: 0, failed: 1 },
  });
});

test("an SMTP server that stalls holds a few connection slots, never the alarms' or the other channels'", async () => {
  h = createNotifyHarness({
    notify: {
      email: {
        host: smtp.host,
        port: smtp.port,
        secure: false,
        starttls: "off",
        from: "edge@example.com",
        timeoutMs: 120_000,
      },
    },
    upstream: { baseUrl: up.url, token: "t" },
  });
  const hh = h;
  const before = up.paths("/alert/add").length;
  smtp.hold();
  try {
    hh.dispatcher.start();
    // 40 alarms, each with its own e-mail: 40 streams whose sends hang on the stalled server.
    for (let i = 0; i < 40; i++) {
      const rule = testRule({ id: `stall-${i}`, actions: { email: `oncall-${i}@example.com` } });
      hh.commit("created", notifyAlarm(`S${i}`, hh.clock.now(), { ruleId: rule.id }), null, rule);
    }
    await waitFor(() => up.paths("/alert/add").length === before + 40, { what: "the 40 alarms at the platform" });
    await waitFor(() => smtp.connections > 0, { what: "e-mails waiting on the stalled server" });
    // An alarm raised now still goes at once, while every e-mail is still hanging.
    hh.commit(
      "created",
      notifyAlarm("S-late", hh.clock.now(), { ruleId: "stall-late" }),
      null,
      testRule({ id: "stall-late" }),
    );
    await waitFor(() => up.paths("/alert/add").length === before + 41, {
      what: "the later alarm at the platform while SMTP stalls",
      timeoutMs: 5_000,
    });
    assert.equal(smtp.messages.length, 0, "nothing went through the stalled server");
  } finally {
    smtp.release();
  }
});
