// POST /notify/test through the real local API on 127.0.0.1, with the real channels against a real
// SMTP server and a fake WeCom API on loopback, the real recipients file loader, and the real
// `edge-agent notify test` talking to it: every person and channel of a group gets one test message
// at once (nothing queued); a channel that is not configured, a person without a contact, an SMTP
// refusal and a beforeNotify veto are results with their codes, not errors; unknown and missing
// groups are refused with the platform's codes; the CLI's exit code and lines say the same, also
// when no agent answers; a robot key never appears whole; the status page's "Send test" button
// shows the results.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Agent as HttpClient } from "undici";
import { main as notifyCli } from "../../../src/cli/notify.js";
import { resolveNotify } from "../../../src/config/defaults.js";
import { systemClock } from "../../../src/core/clock.js";
import type { NotificationDelivery, NotifyInterceptor } from "../../../src/core/notify-ports.js";
import type { NotifyTestAnswer } from "../../../src/http/routes/notify.js";
import { buildChannels } from "../../../src/notify/channels/index.js";
import { RecipientFiles } from "../../../src/notify/recipients-admin.js";
import { RecipientsLoader } from "../../../src/notify/recipients-loader.js";
import { renderMessage } from "../../../src/notify/render.js";
import type { ChannelName, NotificationMessage } from "../../../src/notify/types.js";
import { startSmtp, type TestSmtp } from "../../helpers/smtp.js";
import { type FakeElement, runStatusPage } from "../../helpers/status-page-runner.js";
import { freePort, waitFor } from "../../helpers/wait.js";
import { type FakeWecom, startFakeWecom } from "../../helpers/wecom.js";
import { type Harness, startHarness, TOKEN } from "./fixtures.js";

const ROBOT_KEY = "robot-key-0001-abcdef-secret";
const dir = mkdtempSync(join(tmpdir(), "ea-http-notify-test-"));
const recipientsFile = join(dir, "recipients.json");
let h: Harness;
let smtp: TestSmtp;
let wecom: FakeWecom;
let http: HttpClient;
let loader: RecipientsLoader;
let channels: Map<ChannelName, import("../../../src/notify/channels/channel.js").Channel>;
/** What the beforeNotify stand-in does: null lets every message through. */
let veto: ((m: NotificationMessage) => boolean) | null = null;
const seenByHook: { message: NotificationMessage; delivery: NotificationDelivery }[] = [];

const interceptor: NotifyInterceptor<NotificationMessage> = {
  get active() {
    return veto !== null;
  },
  async beforeNotify(message, delivery) {
    seenByHook.push({ message, delivery });
    if (veto?.(message)) return { vetoedBy: "quiet-hours" };
    return { message: { ...message, subject: `[site A] ${message.subject}` } };
  },
};

function writeRecipients(): void {
  writeFileSync(
    recipientsFile,
    JSON.stringify({
      users: [
        { id: "u-li", realname: "Li Wei", email: "li.wei@example.com", wecomUserId: "LiWei" },
        { id: "u-novak", realname: "Jana Novak", email: "jana.novak@example.com" },
        { id: "u-chen", realname: "Chen Jing", wecomUserId: "ChenJing" },
        { id: "u-phone", realname: "Phone Only", phone: "+420 600 000 000" },
      ],
      recipients: [
        {
          id: "switch-room-a",
          name: "Switch room A",
          delay: 2,
          users: ["u-li", "u-novak"],
          principals: ["u-chen", "u-li"],
          robots: ["${ROBOT_KEY}"],
        },
        { id: "phone-only", name: "Phone only", users: ["u-phone"] },
        { id: "empty", name: "Nobody" },
      ],
    }),
  );
}

before(async () => {
  smtp = await startSmtp();
  wecom = await startFakeWecom({ robotKeys: [ROBOT_KEY] });
  http = new HttpClient({ keepAliveTimeout: 1000 });
  const notify = resolveNotify(
    {
      email: { host: smtp.host, port: smtp.port, secure: false, starttls: "off", from: "edge <edge@example.com>" },
      wecom: { corpId: wecom.corpId, agentId: 1000002, secret: wecom.secret, baseUrl: wecom.url },
      robot: { baseUrl: wecom.robotUrl },
    },
    dir,
  );
  writeRecipients();
  const logs = (await import("../../helpers/harness.js")).captureLog({ level: "debug" });
  loader = new RecipientsLoader({
    file: recipientsFile,
    log: logs.log,
    clock: systemClock,
    context: { env: { ROBOT_KEY }, email: true, wecom: true },
  });
  await loader.start();
  channels = buildChannels(notify, { http, clock: systemClock, log: logs.log });
  h = await startHarness({
    recipients: new RecipientFiles({ loader, log: logs.log, now: () => systemClock.now() }),
    notify: {
      recipients: loader,
      channels,
      render: renderMessage,
      lang: "en",
      timezone: "UTC",
      gateway: "gw-test",
      now: () => systemClock.now(),
      interceptor,
    },
    secrets: [ROBOT_KEY],
  });
});

after(async () => {
  await h?.api.stop();
  await loader?.stop();
  for (const c of channels?.values() ?? []) await c.close?.();
  await http?.close();
  await smtp?.close();
  await wecom?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function test(recipient: unknown) {
  const res = await h.post("/notify/test", recipient === undefined ? {} : { recipient });
  const text = await res.text();
  return {
    status: res.status,
    text,
    body: JSON.parse(text) as { code: number; message?: string; data: NotifyTestAnswer },
  };
}

function io() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    io: {
      stdout: (s: string) => {
        out.stdout += s;
      },
      stderr: (s: string) => {
        out.stderr += s;
      },
      env: { API_TOKEN: TOKEN },
      cwd: dir,
    },
  };
}

function configFile(port: number): string {
  const file = join(dir, `agent-${port}.json`);
  writeFileSync(
    file,
    JSON.stringify({ gatewayId: "gw-test", dataDir: dir, http: { host: "127.0.0.1", port, token: "${API_TOKEN}" } }),
  );
  return file;
}

describe("POST /notify/test", () => {
  it("sends one test message per person and channel right now, each arriving once", async () => {
    const mailsBefore = smtp.messages.length;
    const wecomBefore = wecom.accepted.length;
    const robotBefore = wecom.robotAccepted.length;
    const r = await test("switch-room-a");
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.code, 0);
    const rows = r.body.data.results.map((x) => `${x.userId ?? "robot"}/${x.audience}/${x.channel}/${x.to}/${x.ok}`);
    assert.deepEqual(rows.sort(), [
      "robot/robots/robot/****cret/true",
      "u-chen/principals/wecom/ChenJing/true",
      "u-li/users/email/li.wei@example.com/true",
      "u-li/users/wecom/LiWei/true",
      "u-novak/users/email/jana.novak@example.com/true",
    ]);
    assert.ok(!r.text.includes(ROBOT_KEY), "the robot key never appears whole");
    // Sent before the answer: nothing is left to arrive later, and nothing twice.
    const mails = smtp.messages.slice(mailsBefore);
    assert.deepEqual(mails.map((m) => m.envelope.to.join(",")).sort(), [
      "jana.novak@example.com",
      "li.wei@example.com",
    ]);
    assert.ok(
      mails.every((m) => m.subject.length > 0 && (m.text ?? "").length > 0),
      JSON.stringify(mails.map((m) => [m.subject, m.text])),
    );
    const sent = wecom.accepted.slice(wecomBefore).map((q) => (q.json as { touser: string }).touser);
    assert.deepEqual(sent.sort(), ["ChenJing", "LiWei"]);
    assert.equal(wecom.robotAccepted.length - robotBefore, 1);
  });

  it("says what is wrong per channel: not configured, no contact, a refusal, a hook's veto", async () => {
    const robot = channels.get("robot");
    channels.delete("robot");
    smtp.refuse({ code: 550, message: "5.1.1 mailbox unavailable", times: 1 });
    try {
      const r = await test("switch-room-a");
      assert.equal(r.status, 200, r.text);
      const robotRow = r.body.data.results.find((x) => x.channel === "robot");
      assert.equal(robotRow?.code, "not-configured");
      assert.match(robotRow?.message ?? "", /notify\.robot/);
      const refused = r.body.data.results.filter((x) => x.channel === "email" && !x.ok);
      assert.equal(refused.length, 1, JSON.stringify(r.body.data.results));
      assert.match(String(refused[0]?.code), /550/);
    } finally {
      if (robot) channels.set("robot", robot);
    }
    const phone = await test("phone-only");
    assert.deepEqual(
      phone.body.data.results.map((x) => [x.userId, x.channel, x.ok, x.code]),
      [["u-phone", "none", false, "no-contact"]],
    );
    veto = (m) => m.channel === "wecom";
    seenByHook.length = 0;
    const before = smtp.messages.length;
    try {
      const r = await test("switch-room-a");
      const wecomRows = r.body.data.results.filter((x) => x.channel === "wecom");
      assert.ok(wecomRows.length === 2 && wecomRows.every((x) => x.code === "dropped" && !x.ok));
      assert.match(wecomRows[0]?.message ?? "", /quiet-hours/);
      assert.ok(seenByHook.every((s) => s.message.transition === "test" && s.message.recipientId === "switch-room-a"));
      // The hook's change reaches the mail server.
      assert.ok(smtp.messages.slice(before).every((m) => m.subject.startsWith("[site A] ")));
    } finally {
      veto = null;
    }
  });

  it("refuses an unknown or missing group with the platform's codes", async () => {
    const unknown = await test("nope");
    assert.deepEqual([unknown.status, unknown.body.code], [404, 104004]);
    assert.match(unknown.body.message ?? "", /nope/);
    const missing = await test(undefined);
    assert.deepEqual([missing.status, missing.body.code], [400, 104001]);
    assert.match(missing.body.message ?? "", /recipient/);
  });
});

describe("edge-agent notify test", () => {
  it("prints each person, channel, address and result; exit 0 when all went out", async () => {
    const ok = io();
    const before = smtp.messages.length;
    assert.equal(
      await notifyCli(["test", "--recipient", "switch-room-a", "-c", configFile(h.api.port)], ok.io),
      0,
      ok.out.stderr,
    );
    assert.match(ok.out.stdout, /^PERSON\s+CHANNEL\s+TO\s+RESULT/);
    assert.match(ok.out.stdout, /Li Wei \(u-li\)\s+email\s+li\.wei@example\.com\s+ok/);
    assert.match(ok.out.stdout, /\(robot\)\s+robot\s+\*\*\*\*cret\s+ok/);
    assert.match(ok.out.stdout, /All 5 test messages of 'switch-room-a' were accepted/);
    assert.ok(!ok.out.stdout.includes(ROBOT_KEY));
    assert.equal(smtp.messages.length - before, 2);
  });

  it("exit 1 with the failure's code when a channel refuses; --json gives the answer", async () => {
    smtp.refuse({ code: 550, message: "5.1.1 mailbox unavailable", times: 2 });
    const bad = io();
    assert.equal(await notifyCli(["test", "-r", "switch-room-a", "-c", configFile(h.api.port)], bad.io), 1);
    assert.match(bad.out.stdout, /email\s+\S+@example\.com\s+FAILED 550/);
    assert.match(bad.out.stdout, /2 of 5 test messages of 'switch-room-a' failed/);
    const json = io();
    assert.equal(
      await notifyCli(["test", "--recipient", "phone-only", "--json", "-c", configFile(h.api.port)], json.io),
      1,
    );
    const parsed = JSON.parse(json.out.stdout) as NotifyTestAnswer;
    assert.equal(parsed.results[0]?.code, "no-contact");
  });

  it("says clearly when the group is unknown, has nobody, or no agent answers; usage errors exit 2", async () => {
    const unknown = io();
    assert.equal(await notifyCli(["test", "--recipient", "nope", "-c", configFile(h.api.port)], unknown.io), 1);
    assert.match(unknown.out.stderr, /no recipient group 'nope'/);
    const empty = io();
    assert.equal(await notifyCli(["test", "--recipient", "empty", "-c", configFile(h.api.port)], empty.io), 1);
    assert.match(empty.out.stderr, /'empty' has no user, principal or robot to tell/);
    const port = await freePort();
    const down = io();
    assert.equal(await notifyCli(["test", "--recipient", "switch-room-a", "-c", configFile(port)], down.io), 1);
    assert.match(
      down.out.stderr,
      new RegExp(`not reachable at http://127\\.0\\.0\\.1:${port} \\(connection refused\\)`),
    );
    const usage = io();
    assert.equal(await notifyCli(["test", "-c", configFile(h.api.port)], usage.io), 2);
    assert.match(usage.out.stderr, /--recipient ID is required/);
    assert.equal(await notifyCli(["send", "--recipient", "x"], io().io), 2);
  });
});

describe("status page", () => {
  it("lists the groups with a Send test button that shows each result", async () => {
    const page = runStatusPage(h.base, TOKEN);
    try {
      const button = await waitFor(
        () =>
          page
            .byId("notify-rows")
            .findAll((e) => e.tagName === "BUTTON" && e.getAttribute("data-notify-test") === "switch-room-a")[0],
        { what: "the Send test button of switch-room-a" },
      );
      assert.equal(page.byId("notify-section").hidden, false);
      const before = smtp.messages.length;
      button.click();
      const items = await waitFor(
        () => {
          const li = page.byId("notify-results").findAll((e: FakeElement) => e.tagName === "LI");
          return li.length === 5 ? li : null;
        },
        { what: "five result lines" },
      );
      assert.ok(
        items.every((e) => e.getAttribute("data-notify-result") === "ok"),
        items.map((e) => e.textContent).join("\n"),
      );
      assert.match(page.byId("notify-summary").textContent, /5 sent, 0 failed/);
      assert.ok(items.some((e) => /Li Wei \(u-li\) · email · li\.wei@example\.com: ok/.test(e.textContent)));
      assert.equal(smtp.messages.length - before, 2);
    } finally {
      page.close();
    }
  });
});
