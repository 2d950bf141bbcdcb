import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { Agent } from "undici";
import { ManualClock } from "../../../src/core/clock.js";
import type { ChannelResult } from "../../../src/notify/channels/channel.js";
import { WecomChannel } from "../../../src/notify/channels/wecom.js";
import type { NotificationMessage } from "../../../src/notify/types.js";
import { captureLog } from "../../helpers/harness.js";
import { type FakeWecom, startFakeWecom } from "../../helpers/wecom.js";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(opts: Parameters<typeof startFakeWecom>[0] = {}) {
  const api = await startFakeWecom(opts);
  const http = new Agent();
  cleanup.push(
    () => api.close(),
    () => http.close(),
  );
  const clock = new ManualClock();
  const cap = captureLog({ level: "debug" });
  const ch = new WecomChannel(
    { corpId: api.corpId, agentId: 1000002, secret: api.secret, baseUrl: api.url, timeoutMs: 5000 },
    { http, clock, log: cap.log },
  );
  return { api, ch, clock, cap };
}

const msg = (to: string, text = "Alarm: Over-voltage\nDevice: meter-01"): NotificationMessage => ({
  channel: "wecom",
  to,
  transition: "raise",
  lang: "en",
  subject: "Alarm",
  text,
});

function failed(r: ChannelResult): Extract<ChannelResult, { ok: false }> {
  assert.equal(r.ok, false, JSON.stringify(r));
  return r as Extract<ChannelResult, { ok: false }>;
}

/** Nothing the channel returned or logged shows the secret or a whole token. */
function assertNoSecrets(api: FakeWecom, text: string): void {
  assert.ok(!text.includes(api.secret), `secret in: ${text}`);
  for (const t of api.tokens) assert.ok(!text.includes(t), `token in: ${text}`);
}

test("the token is fetched once and reused for several sends; renewed before it expires", async () => {
  const { api, ch, clock, cap } = await setup({ expiresInS: 7200 });
  for (const to of ["zhangsan", "lisi", "wangwu"]) {
    const r = await ch.send(msg(to));
    assert.equal(r.ok, true, JSON.stringify(r));
  }
  assert.equal(api.count("gettoken"), 1);
  assert.equal(api.accepted.length, 3);
  const first = api.accepted[0]!;
  assert.equal(first.method, "POST");
  assert.equal(first.query.access_token, api.tokens[0]);
  assert.deepEqual(first.json, {
    touser: "zhangsan",
    msgtype: "text",
    agentid: 1000002,
    text: { content: "Alarm: Over-voltage\nDevice: meter-01" },
  });
  assert.equal(api.requests[0]?.query.corpid, api.corpId);
  // Concurrent sends with no token yet share one fetch.
  clock.advance(7200_000 - 299_000);
  const rs = await Promise.all([ch.send(msg("a")), ch.send(msg("b")), ch.send(msg("c"))]);
  assert.deepEqual(
    rs.map((r) => r.ok),
    [true, true, true],
  );
  assert.equal(api.count("gettoken"), 2, "renewed once, shortly before expiry");
  assert.equal(api.accepted.at(-1)?.query.access_token, api.tokens[1]);
  assertNoSecrets(api, cap.text);
});

test("token expired once: refreshed and the message sent exactly once", async () => {
  const { api, ch, cap } = await setup();
  assert.equal((await ch.send(msg("zhangsan"))).ok, true);
  api.expireTokens();
  const r = await ch.send(msg("lisi"));
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(api.count("gettoken"), 2);
  const toLisi = api.requests.filter((q) => q.api === "send" && (q.json as { touser: string }).touser === "lisi");
  assert.deepEqual(
    toLisi.map((q) => q.errcode),
    [42001, 0],
  );
  assert.equal(api.accepted.filter((q) => (q.json as { touser: string }).touser === "lisi").length, 1);
  assert.ok(cap.lines.some((l) => /refused the access token/.test(l.msg)));
  assertNoSecrets(api, cap.text);
});

test("a token refused twice in a row is retried later, not sent a third time", async () => {
  const { api, ch } = await setup();
  api.script(
    "send",
    { errcode: 40014, errmsg: "invalid access_token" },
    { errcode: 42001, errmsg: "access_token expired" },
  );
  const r = failed(await ch.send(msg("zhangsan")));
  assert.equal(r.permanent, false);
  assert.equal(r.code, 42001);
  assert.equal(api.count("send"), 2);
  assert.equal(api.accepted.length, 0);
});

test("a permanent errcode gives a permanent result with errcode and errmsg, the token masked", async () => {
  const { api, ch, cap } = await setup();
  api.script("send", (req) => ({
    errcode: 60111,
    errmsg: `userid not found, hint: [access_token=${req.query.access_token}]`,
  }));
  const r = failed(await ch.send(msg("nobody")));
  assert.equal(r.permanent, true);
  assert.equal(r.code, 60111);
  assert.match(r.message, /errcode 60111: userid not found/);
  assert.match(r.message, new RegExp(`access_token=\\*\\*\\*\\*${api.tokens[0]!.slice(-4)}`));
  assertNoSecrets(api, JSON.stringify(r) + cap.text);
});

test("an unknown user (81013, or listed in invaliduser) is permanent", async () => {
  const { ch } = await setup({ knownUsers: ["zhangsan"] });
  const r = failed(await ch.send(msg("ghost")));
  assert.equal(r.permanent, true);
  assert.equal(r.code, 81013);
  assert.equal((await ch.send(msg("zhangsan"))).ok, true);
});

test("busy (-1), rate limit (45009), HTTP 5xx, a dropped connection and an untrusted IP (60020) are retryable", async () => {
  const { api, ch } = await setup();
  api.script(
    "send",
    { errcode: -1, errmsg: "system busy" },
    { errcode: 45009, errmsg: "api freq out of limit" },
    { status: 502, body: "bad gateway" },
    "close",
    { errcode: 60020, errmsg: "not allow to access from your ip" },
  );
  const busy = failed(await ch.send(msg("zhangsan")));
  assert.deepEqual([busy.permanent, busy.code], [false, -1]);
  const limited = failed(await ch.send(msg("zhangsan")));
  assert.deepEqual([limited.permanent, limited.code, limited.retryAfterMs], [false, 45009, 60_000]);
  const http = failed(await ch.send(msg("zhangsan")));
  assert.deepEqual([http.permanent, http.code], [false, 502]);
  const dropped = failed(await ch.send(msg("zhangsan")));
  assert.equal(dropped.permanent, false);
  const ip = failed(await ch.send(msg("zhangsan")));
  assert.deepEqual([ip.permanent, ip.code], [false, 60020]);
  assert.match(ip.message, /trusted IPs/);
  assertNoSecrets(api, JSON.stringify([busy, limited, http, dropped, ip]));
  assert.equal((await ch.send(msg("zhangsan"))).ok, true);
  assert.equal(api.count("gettoken"), 1);
});

test("a wrong secret is retried (nothing dead-lettered) with a hint, the secret never shown", async () => {
  const api = await startFakeWecom();
  const http = new Agent();
  cleanup.push(
    () => api.close(),
    () => http.close(),
  );
  const cap = captureLog({ level: "debug" });
  const secret = "not-the-right-secret-42";
  const ch = new WecomChannel(
    { corpId: api.corpId, agentId: 1, secret, baseUrl: api.url },
    { http, clock: new ManualClock(), log: cap.log },
  );
  const r = failed(await ch.send(msg("zhangsan")));
  assert.equal(r.permanent, false);
  assert.equal(r.code, 40001);
  assert.match(r.message, /notify\.wecom\.secret/);
  assert.ok(!(JSON.stringify(r) + cap.text).includes(secret));
  assert.equal(api.count("send"), 0);
});

test("a cancelled send stops at once and is retryable", async () => {
  const { ch } = await setup();
  const ctl = new AbortController();
  ctl.abort();
  const r = failed(await ch.send(msg("zhangsan"), ctl.signal));
  assert.equal(r.permanent, false);
  assert.equal(r.code, "aborted");
});

test("text longer than WeCom takes is cut to 2048 bytes on a character boundary", async () => {
  const { api, ch } = await setup();
  assert.equal((await ch.send(msg("zhangsan", "告".repeat(1000)))).ok, true);
  const content = (api.accepted[0]!.json as { text: { content: string } }).text.content;
  assert.ok(Buffer.byteLength(content) <= 2048);
  assert.match(content, /^告+…$/);
});
