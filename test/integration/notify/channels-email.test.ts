import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { Agent } from "undici";
import { resolveNotify } from "../../../src/config/defaults.js";
import { ManualClock } from "../../../src/core/clock.js";
import type { Alarm } from "../../../src/core/types.js";
import type { ChannelResult } from "../../../src/notify/channels/channel.js";
import { EmailChannel, type EmailConfig } from "../../../src/notify/channels/email.js";
import { buildChannels } from "../../../src/notify/channels/index.js";
import { renderMessage } from "../../../src/notify/render.js";
import type { NotificationMessage } from "../../../src/notify/types.js";
import { captureLog } from "../../helpers/harness.js";
import { startSmtp, type TestSmtp } from "../../helpers/smtp.js";
import { waitFor } from "../../helpers/wait.js";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function smtp(opts?: Parameters<typeof startSmtp>[0]): Promise<TestSmtp> {
  const s = await startSmtp(opts);
  cleanup.push(() => s.close());
  return s;
}

function channel(cfg: Partial<EmailConfig> & { port: number }, secrets: string[] = []) {
  const cap = captureLog({ level: "debug", secrets });
  const clock = new ManualClock();
  const ch = new EmailChannel(
    { host: "127.0.0.1", from: "edge-agent <alarms@example.com>", starttls: "opportunistic", timeoutMs: 5000, ...cfg },
    { http: new Agent(), clock, log: cap.log },
  );
  cleanup.push(() => ch.close());
  return { ch, cap, clock };
}

const CREATED = Date.UTC(2026, 10, 29, 14, 3, 15);
const alarm: Alarm = {
  id: "a-1",
  ruleId: "r-1",
  name: "meterOvervoltage",
  title: "过压 <b>",
  message: "voltage 253.1 > 250",
  type: "rule",
  level: 4,
  status: 2,
  resource: { id: "meter-01", name: "进线 1", product: "meter" },
  location: null,
  details: { held: [{ fact: "voltage", operator: "greaterThan", threshold: 250, actual: 253.1 }] },
  period: 0,
  created: CREATED,
  updated: CREATED,
  resolvedAt: null,
  upstreamId: null,
  workOrderId: null,
};

const message = (to: string): NotificationMessage =>
  renderMessage({
    alarm,
    transition: "raise",
    channel: "email",
    to,
    lang: "zh",
    timezone: "Asia/Shanghai",
    now: CREATED,
  });

function failed(r: ChannelResult): Extract<ChannelResult, { ok: false }> {
  assert.equal(r.ok, false, JSON.stringify(r));
  return r as Extract<ChannelResult, { ok: false }>;
}

test("a message arrives with plain text and HTML, the right subject, sender and recipient", async () => {
  const s = await smtp();
  const { ch } = channel({ port: s.port });
  const msg = message("ops@example.com");
  const r = await ch.send(msg);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(s.messages.length, 1);
  const got = s.messages[0]!;
  assert.deepEqual(got.envelope, { from: "alarms@example.com", to: ["ops@example.com"] });
  assert.equal(got.subject, "【严重】告警：过压 <b>（进线 1 (meter-01)）");
  assert.match(got.from, /^"?edge-agent"? <alarms@example\.com>$/);
  assert.equal(got.to, "ops@example.com");
  assert.equal(got.text, msg.text);
  assert.match(got.text ?? "", /数值：voltage = 253.1（阈值 > 250）/);
  assert.equal(got.html, msg.html);
  assert.match(got.html ?? "", /过压 &lt;b&gt;/);
  assert.equal(got.headers["auto-submitted"], "auto-generated");
  assert.equal(ch.target, `email:127.0.0.1:${s.port}`);
});

test("several messages go over the pooled connection", async () => {
  const s = await smtp();
  const { ch } = channel({ port: s.port });
  const results = await Promise.all(
    ["a@example.com", "b@example.com", "c@example.com"].map((to) => ch.send(message(to))),
  );
  assert.deepEqual(
    results.map((r) => r.ok),
    [true, true, true],
  );
  assert.deepEqual(s.messages.map((m) => m.envelope.to[0]).sort(), ["a@example.com", "b@example.com", "c@example.com"]);
  assert.ok(s.connections <= 2, `connections: ${s.connections}`);
});

test("STARTTLS opportunistic against a server without TLS sends in plain text; required refuses to", async () => {
  const s = await smtp();
  const { ch } = channel({ port: s.port, starttls: "opportunistic" });
  assert.equal((await ch.send(message("ops@example.com"))).ok, true);
  assert.equal(s.messages.length, 1);
  assert.equal(s.messages[0]?.secure, false);
  const { ch: strict } = channel({ port: s.port, starttls: "required" });
  const r = failed(await strict.send(message("ops@example.com")));

  assert.equal(r.permanent, false);
  assert.match(r.message, /STARTTLS.*notify\.email\.starttls/);
  assert.equal(s.messages.length, 1, "nothing sent without the required TLS");
});

test("a 5xx reply is permanent, with the SMTP code and text; a 4xx reply is retried", async () => {
  const s = await smtp();
  const { ch } = channel({ port: s.port });
  s.refuse({ code: 550, message: "5.1.1 <nobody@example.com>: Mailbox unavailable", at: "rcpt" });
  const r = failed(await ch.send(message("nobody@example.com")));
  assert.equal(r.permanent, true);
  assert.equal(r.code, 550);
  assert.match(r.message, /550 5\.1\.1 <nobody@example\.com>: Mailbox unavailable/);
  s.refuse({ code: 451, message: "4.3.0 Temporary local problem", at: "data", times: 1 });
  const t = failed(await ch.send(message("ops@example.com")));
  assert.equal(t.permanent, false);
  assert.equal(t.code, 451);
  assert.equal(s.messages.length, 0);
  assert.equal((await ch.send(message("ops@example.com"))).ok, true, "accepted again after the refusal");
  assert.equal(s.messages.length, 1);
});

test("server down: retryable; back up on the same port: delivered by the same channel", async () => {
  const s = await smtp();
  const { ch } = channel({ port: s.port });
  assert.equal((await ch.send(message("ops@example.com"))).ok, true);
  await s.down();
  const r = failed(await ch.send(message("ops@example.com")));
  assert.equal(r.permanent, false);
  assert.match(r.message, new RegExp(`127\\.0\\.0\\.1:${s.port}`));
  await s.up();
  const again = await ch.send(message("ops@example.com"));
  assert.equal(again.ok, true, JSON.stringify(again));
  assert.equal(s.messages.length, 2);
});

test("login: accepted with the right password; a refused login is retried with a hint and the password is never shown", async () => {
  const password = "sm7p-Pa55word!";
  const s = await smtp({ users: { alarms: password } });
  const { ch, cap } = channel({ port: s.port, user: "alarms", password }, [password]);
  assert.equal((await ch.send(message("ops@example.com"))).ok, true);
  assert.equal(s.messages[0]?.user, "alarms");
  const { ch: wrong, cap: wrongCap } = channel({ port: s.port, user: "alarms", password: "wrong-password-1" }, [
    "wrong-password-1",
  ]);
  const r = failed(await wrong.send(message("ops@example.com")));
  assert.equal(r.permanent, false);
  assert.match(r.message, /refused the login.*notify\.email\.password/);
  assert.doesNotMatch(JSON.stringify(r), /wrong-password-1/);
  assert.doesNotMatch(cap.text + wrongCap.text, /sm7p-Pa55word!|wrong-password-1/);
});

test("buildChannels builds only the configured channels; a closed e-mail channel sends nothing", async () => {
  const s = await smtp();
  const deps = { http: new Agent(), clock: new ManualClock(), log: captureLog().log };
  const none = buildChannels(resolveNotify({}, process.cwd()), deps);
  assert.equal(none.size, 0);
  const chans = buildChannels(
    resolveNotify({ email: { host: "127.0.0.1", port: s.port, from: "a@example.com" }, robot: {} }, process.cwd()),
    deps,
  );
  assert.deepEqual([...chans.keys()].sort(), ["email", "robot"]);
  const email = chans.get("email")!;
  assert.equal((await email.send(message("ops@example.com"))).ok, true);
  await email.close?.();
  const r = failed(await email.send(message("ops@example.com")));
  assert.equal(r.permanent, false);
  assert.equal(s.messages.length, 1);
});

test("a server that accepts the connection and then says nothing: retryable after timeoutMs", async () => {
  const s = await smtp();
  const { ch, clock } = channel({ port: s.port, timeoutMs: 5000 });
  s.hold();
  const pending = ch.send(message("ops@example.com"));
  await waitFor(() => s.connections === 1, { what: "the connection" });
  clock.advance(4999);
  clock.advance(1);
  const r = failed(await pending);
  assert.equal(r.permanent, false);
  assert.equal(r.code, "ETIMEDOUT");
  assert.match(r.message, /within 5000 ms/);
  s.release();
  assert.equal(s.messages.length, 0);
});
