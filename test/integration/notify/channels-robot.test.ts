import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { Agent } from "undici";
import { ManualClock } from "../../../src/core/clock.js";
import type { ChannelResult } from "../../../src/notify/channels/channel.js";
import { describeRobot, RobotChannel } from "../../../src/notify/channels/robot.js";
import { renderMessage } from "../../../src/notify/render.js";
import type { NotificationMessage } from "../../../src/notify/types.js";
import { captureLog } from "../../helpers/harness.js";
import { startFakeWecom } from "../../helpers/wecom.js";

const KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup() {
  const api = await startFakeWecom({ robotKeys: [KEY] });
  const http = new Agent();
  cleanup.push(
    () => api.close(),
    () => http.close(),
  );
  const cap = captureLog({ level: "debug" });
  const ch = new RobotChannel(
    { baseUrl: api.robotUrl, timeoutMs: 5000 },
    { http, clock: new ManualClock(), log: cap.log },
  );
  return { api, ch, cap };
}

const msg = (to: string): NotificationMessage =>
  renderMessage({
    transition: "test",
    channel: "robot",
    to,
    lang: "zh",
    timezone: "Asia/Shanghai",
    now: Date.UTC(2026, 10, 29, 14, 3, 15),
    gateway: "gw-07",
  });

function failed(r: ChannelResult): Extract<ChannelResult, { ok: false }> {
  assert.equal(r.ok, false, JSON.stringify(r));
  return r as Extract<ChannelResult, { ok: false }>;
}

test("a key: markdown posted to the webhook with the key, answered errcode 0", async () => {
  const { api, ch } = await setup();
  const m = msg(KEY);
  const r = await ch.send(m);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(api.robotAccepted.length, 1);
  const got = api.robotAccepted[0]!;
  assert.equal(got.method, "POST");
  assert.equal(got.path, "/cgi-bin/webhook/send");
  assert.equal(got.query.key, KEY);
  assert.deepEqual(got.json, { msgtype: "markdown", markdown: { content: m.text } });
  assert.match(m.text, /^\*\*<font color="comment">测试消息<\/font>\*\*/);
});

test("a full webhook URL is used as given", async () => {
  const { api, ch } = await setup();
  const r = await ch.send(msg(`${api.robotUrl}?key=${KEY}`));
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(api.robotAccepted[0]?.query.key, KEY);
});

test("93000 (invalid key) is permanent, and the key is masked everywhere", async () => {
  const { api, ch, cap } = await setup();
  const bad = "0000aaaa-bad0-key0-0000-00000000wxyz";
  api.script("robot", (req) => ({ errcode: 93000, errmsg: `invalid webhook url, key=${req.query.key}` }));
  const r = failed(await ch.send(msg(bad)));
  assert.equal(r.permanent, true);
  assert.equal(r.code, 93000);
  assert.match(r.message, /\*\*\*\*wxyz/);
  assert.match(r.message, /errcode 93000: invalid webhook url/);
  const shown = JSON.stringify(r) + cap.text;
  assert.ok(!shown.includes(bad), shown);
  assert.ok(!shown.includes(bad.slice(0, 20)), shown);
  assert.equal(
    describeRobot(`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${bad}`),
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****wxyz",
  );
});

test("rate limit (45009), busy (-1) and network errors are retryable, the key masked", async () => {
  const { api, ch } = await setup();
  api.script(
    "robot",
    { errcode: 45009, errmsg: "api freq out of limit" },
    { errcode: -1, errmsg: "system busy" },
    "close",
  );
  const limited = failed(await ch.send(msg(KEY)));
  assert.deepEqual([limited.permanent, limited.code, limited.retryAfterMs], [false, 45009, 60_000]);
  const busy = failed(await ch.send(msg(KEY)));
  assert.deepEqual([busy.permanent, busy.code], [false, -1]);
  const dropped = failed(await ch.send(msg(KEY)));
  assert.equal(dropped.permanent, false);
  await api.close();
  const down = failed(await ch.send(msg(`${api.robotUrl}?key=${KEY}`)));
  assert.equal(down.permanent, false);
  assert.match(down.message, /cannot reach/);
  const shown = JSON.stringify([limited, busy, dropped, down]);
  assert.ok(!shown.includes(KEY), shown);
});

test("an address that is neither a key nor a URL is permanent", async () => {
  const { api, ch } = await setup();
  const r = failed(await ch.send(msg("not a key/with spaces")));
  assert.equal(r.permanent, true);
  assert.equal(api.requests.length, 0);
});
