// A site as an engineer sets it up (docs/notifications.md): the real agent process with SMTP (a real
// SMTP server on loopback), WeCom (a fake WeCom API on loopback, application messages and a group
// robot) and one recipient group with a 2 s delay, while the upstream platform is down the whole
// time (its port is closed). `edge-agent notify test` reports ok for every channel and the test
// messages arrive; then a real over-voltage reading through a real MQTT broker raises an alarm
// whose message reaches the group's users after the delay, not before, by e-mail, WeCom and the
// robot; the reading back to normal sends the "recovered" message to the same people; every
// message arrives exactly once.

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import mqtt from "mqtt";
import { main as notifyCli } from "../../src/cli/notify.js";
import type { NotifyTestAnswer } from "../../src/http/routes/notify.js";
import { type AgentProcess, makeTempDir, removeDir, startAgent } from "../helpers/agent-process.js";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";
import { freePort, waitFor } from "../helpers/wait.js";
import { type FakeWecom, startFakeWecom } from "../helpers/wecom.js";

const API_TOKEN = "site-api-token-5c1e9b";
const WECOM_SECRET = "wecom-app-secret-77d0e1";
const ROBOT_KEY = "robot-key-site-a-4f2b";
const DELAY_S = 2;

let broker: TestBroker | undefined;
let smtp: TestSmtp | undefined;
let wecom: FakeWecom | undefined;
let agent: AgentProcess | undefined;
let pub: mqtt.MqttClient | undefined;
let dir: string | undefined;
let stopRecorder: (() => void) | undefined;

after(async () => {
  stopRecorder?.();
  await pub?.endAsync();
  await agent?.stop();
  await smtp?.close();
  await wecom?.close();
  await broker?.stop();
  if (dir) removeDir(dir);
});

/** When each message was first seen (our clock, within a few ms of its arrival). */
interface Arrival {
  channel: "email" | "wecom" | "robot";
  to: string;
  subject: string;
  at: number;
}

function recordArrivals(s: TestSmtp, w: FakeWecom): { arrivals: Arrival[]; stop(): void } {
  const arrivals: Arrival[] = [];
  let mails = 0;
  let sent = 0;
  let posts = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    for (; mails < s.messages.length; mails++) {
      const m = s.messages[mails];
      if (m) arrivals.push({ channel: "email", to: m.envelope.to.join(","), subject: m.subject, at: now });
    }
    for (; sent < w.accepted.length; sent++) {
      const j = w.accepted[sent]?.json as { touser?: string; text?: { content?: string } } | undefined;
      arrivals.push({
        channel: "wecom",
        to: j?.touser ?? "",
        subject: j?.text?.content?.split("\n")[0] ?? "",
        at: now,
      });
    }
    for (; posts < w.robotAccepted.length; posts++) {
      const j = w.robotAccepted[posts]?.json as { markdown?: { content?: string } } | undefined;
      arrivals.push({ channel: "robot", to: "robot", subject: j?.markdown?.content?.split("\n")[0] ?? "", at: now });
    }
  }, 5);
  return { arrivals, stop: () => clearInterval(timer) };
}

const sorted = (xs: Arrival[]) => xs.map((a) => `${a.channel}:${a.to}`).sort();

test("a site with SMTP, WeCom and one group is told of an over-voltage after the delay and of its recovery, once each, while the platform is down", async () => {
  broker = await startBroker();
  smtp = await startSmtp();
  wecom = await startFakeWecom({ secret: WECOM_SECRET, robotKeys: [ROBOT_KEY] });
  const rec = recordArrivals(smtp, wecom);
  stopRecorder = rec.stop;
  const upstreamPort = await freePort(); // nothing listens there: the platform is down
  const httpPort = await freePort();
  dir = makeTempDir("edge-agent-e2e-notify-");
  for (const d of ["rules", "hooks", "tasks"]) mkdirSync(join(dir, d));
  writeFileSync(
    join(dir, "rules", "overvoltage.json"),
    JSON.stringify({
      id: "meter-overvoltage",
      name: "overvoltage",
      title: "Over-voltage on the incomer",
      message: "Supply voltage above 250 V",
      key: "meter",
      type: "rule",
      level: 4,
      recipient: "switch-room-a",
      conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
      actions: { alarm: true },
    }),
  );
  writeFileSync(
    join(dir, "recipients.json"),
    JSON.stringify({
      users: [
        { id: "u-li", realname: "Li Wei", email: "li.wei@example.com", wecomUserId: "LiWei" },
        { id: "u-novak", realname: "Jana Novak", email: "jana.novak@example.com" },
      ],
      recipients: [
        {
          id: "switch-room-a",
          name: "Switch room A",
          delay: DELAY_S,
          users: ["u-li", "u-novak"],
          robots: ["${ROBOT_KEY}"],
        },
      ],
    }),
  );
  const env = { API_TOKEN, WECOM_SECRET, ROBOT_KEY };
  agent = startAgent(
    {
      gatewayId: "site-a",
      dataDir: join(dir, "data"),
      rulesDir: join(dir, "rules"),
      hooksDir: join(dir, "hooks"),
      tasksDir: join(dir, "tasks"),
      mqtt: {
        url: broker.url,
        clientId: `edge-agent-e2e-notify-${process.pid}`,
        subscriptions: [{ topic: "meters/+/telemetry", qos: 1, device: "{1}", product: "meter", values: "$" }],
      },
      devices: { "meter-01": { name: "Main incomer" } },
      upstream: { baseUrl: `http://127.0.0.1:${upstreamPort}`, heartbeatIntervalMs: 60_000, timeoutMs: 1000 },
      http: { host: "127.0.0.1", port: httpPort, token: "${API_TOKEN}" },
      notify: {
        recipientsFile: join(dir, "recipients.json"),
        email: {
          host: smtp.host,
          port: smtp.port,
          secure: false,
          starttls: "off",
          from: "Switch room A <edge@example.com>",
        },
        wecom: { corpId: wecom.corpId, agentId: 1000002, secret: "${WECOM_SECRET}", baseUrl: wecom.url },
        robot: { baseUrl: wecom.robotUrl },
      },
    },
    { dir, env },
  );
  await agent.waitForLog((l) => l.msg === "local API listening", "the local API");
  await agent.waitForLog((l) => l.msg === "MQTT subscriptions active", "MQTT subscriptions");

  // 1. notify test: ok on every channel, and the test messages arrive.
  const out = { stdout: "", stderr: "" };
  const io = {
    stdout: (s: string) => {
      out.stdout += s;
    },
    stderr: (s: string) => {
      out.stderr += s;
    },
    env,
    cwd: dir,
  };
  assert.equal(await notifyCli(["test", "--recipient", "switch-room-a", "-c", agent.configFile], io), 0, out.stderr);
  assert.match(out.stdout, /All 4 test messages of 'switch-room-a' were accepted/);
  const json = { stdout: "", stderr: "" };
  const jsonIo = {
    ...io,
    stdout: (s: string) => {
      json.stdout += s;
    },
  };
  assert.equal(await notifyCli(["test", "-r", "switch-room-a", "--json", "-c", agent.configFile], jsonIo), 0);
  const answer = JSON.parse(json.stdout) as NotifyTestAnswer;
  assert.deepEqual(
    answer.results.map((r) => `${r.channel}:${r.to}:${r.ok}`).sort(),
    [
      "email:jana.novak@example.com:true",
      "email:li.wei@example.com:true",
      "robot:****4f2b:true",
      "wecom:LiWei:true",
    ].sort(),
  );
  const testMessages = await waitFor(() => (rec.arrivals.length >= 8 ? rec.arrivals.slice() : null), {
    what: "two rounds of test messages",
  });
  assert.ok(
    testMessages.every((a) => /test message/i.test(a.subject)),
    JSON.stringify(testMessages),
  );
  const expected = ["email:jana.novak@example.com", "email:li.wei@example.com", "robot:robot", "wecom:LiWei"];
  assert.deepEqual(sorted(testMessages), [...expected, ...expected].sort());

  // 2. A real over-voltage: told after the delay, not before.
  pub = await mqtt.connectAsync(broker.url, { clientId: `pub-notify-${process.pid}` });
  await pub.publishAsync("meters/meter-01/telemetry", JSON.stringify({ voltage: 262 }), { qos: 1 });
  const api = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    return (await res.json()) as { alerts: { id: string; created: number; status: number }[] };
  };
  const alarm = await waitFor(async () => (await api("/alert/list?status=active")).alerts[0], {
    what: "the over-voltage alarm",
  });
  const raised = await waitFor(
    () => {
      const a = rec.arrivals.slice(8);
      return a.length >= 4 ? a : null;
    },
    { what: "the alarm's messages to the group", timeoutMs: 20_000 },
  );
  assert.deepEqual(sorted(raised.slice(0, 4)), expected);
  for (const a of raised) {
    assert.ok(
      a.at - alarm.created >= DELAY_S * 1000 - 50,
      `${a.channel} to ${a.to} arrived ${a.at - alarm.created} ms after the alarm, before the ${DELAY_S} s delay`,
    );
    assert.match(a.subject, /Over-voltage on the incomer/);
  }

  // 3. Back to normal: the "recovered" message reaches the same people.
  await pub.publishAsync("meters/meter-01/telemetry", JSON.stringify({ voltage: 231 }), { qos: 1 });
  const recovered = await waitFor(
    () => {
      const a = rec.arrivals.slice(12);
      return a.length >= 4 ? a : null;
    },
    { what: "the recovered messages", timeoutMs: 20_000 },
  );
  assert.deepEqual(sorted(recovered.slice(0, 4)), expected);
  assert.ok(
    recovered.every((a) => /recovered/i.test(a.subject)),
    JSON.stringify(recovered),
  );

  // 4. Exactly once: every notification is delivered and nothing is left to send; the alarm's
  // upstream items still wait for the platform, which was down the whole time.
  const db = new Database(join(dir, "data", "edge-agent.db"), { readonly: true, fileMustExist: true });
  try {
    const states = await waitFor(
      () => {
        const rows = db
          .prepare("SELECT kind, state, count(*) AS n FROM outbox GROUP BY kind, state ORDER BY kind, state")
          .all() as { kind: string; state: string; n: number }[];
        const notify = rows.filter((r) => r.kind === "notify");
        return notify.every((r) => r.state === "delivered") && notify.length > 0 ? rows : null;
      },
      { what: "every notification delivered" },
    );
    assert.deepEqual(
      states.filter((r) => r.kind === "notify").map((r) => [r.state, r.n]),
      [["delivered", 8]],
    );
    assert.ok(
      states.some((r) => r.kind.startsWith("alert.") && r.state === "pending"),
      `the platform's items wait: ${JSON.stringify(states)}`,
    );
  } finally {
    db.close();
  }
  assert.equal(rec.arrivals.length, 16, JSON.stringify(rec.arrivals.slice(16)));
  assert.equal(smtp.messages.length, 8);
  assert.ok(
    !agent.lines.some((l) => JSON.stringify(l).includes(ROBOT_KEY) || JSON.stringify(l).includes(WECOM_SECRET)),
  );
});
