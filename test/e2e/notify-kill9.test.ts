// A notification committed with its alarm survives a kill -9 before it could be sent: the real agent
// raises an alarm from an MQTT reading while the SMTP server is down, is killed, restarts with the
// server back, and the e-mail is sent exactly once.

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import mqtt from "mqtt";
import { type AgentProcess, makeTempDir, removeDir, startAgent } from "../helpers/agent-process.js";
import { startBroker, type TestBroker } from "../helpers/broker.js";
import { startSmtp, type TestSmtp } from "../helpers/smtp.js";
import { waitFor } from "../helpers/wait.js";

let broker: TestBroker | undefined;
let smtp: TestSmtp | undefined;
const agents: AgentProcess[] = [];
const dirs: string[] = [];

after(async () => {
  for (const a of agents) await a.kill();
  await smtp?.close();
  await broker?.stop();
  for (const d of dirs) removeDir(d);
});

interface Row {
  state: string;
  attempts: number;
  payload: string;
}
function notifyRows(dbFile: string): Row[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    return db.prepare("SELECT state, attempts, payload FROM outbox WHERE kind = 'notify' ORDER BY seq").all() as Row[];
  } finally {
    db.close();
  }
}

test("kill -9 between the commit and the send: the e-mail goes exactly once after restart", async () => {
  broker = await startBroker();
  smtp = await startSmtp();
  const mail = smtp;
  await mail.down();
  const dir = makeTempDir("edge-notify-kill9-");
  dirs.push(dir);
  mkdirSync(join(dir, "rules"));
  mkdirSync(join(dir, "hooks"));
  writeFileSync(
    join(dir, "rules", "overvoltage.json"),
    JSON.stringify({
      id: "overvoltage",
      name: "overvoltage",
      title: "Over-voltage",
      key: "meter",
      type: "rule",
      level: 4,
      conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
      actions: { alarm: true, email: "oncall@example.com" },
    }),
  );
  const config = {
    gatewayId: "gw-notify-e2e",
    dataDir: join(dir, "data"),
    rulesDir: join(dir, "rules"),
    hooksDir: join(dir, "hooks"),
    mqtt: {
      url: broker.url,
      clientId: `edge-agent-notify-${process.pid}`,
      subscriptions: [{ topic: "meters/+/telemetry", qos: 1, device: "{1}", product: "meter", values: "$" }],
    },
    notify: {
      email: {
        host: mail.host,
        port: mail.port,
        secure: false,
        starttls: "off",
        from: "edge@example.com",
        timeoutMs: 2000,
      },
    },
    http: { enabled: false },
  };
  const dbFile = join(dir, "data", "edge-agent.db");

  const a = startAgent(config, { dir });
  agents.push(a);
  await a.waitForLog((l) => l.msg === "MQTT subscriptions active", "MQTT subscriptions");
  const pub = await mqtt.connectAsync(broker.url, { clientId: `pub-notify-${process.pid}` });
  try {
    await new Promise<void>((resolve, reject) =>
      pub.publish("meters/meter-01/telemetry", JSON.stringify({ voltage: 262 }), { qos: 1 }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  } finally {
    await pub.endAsync();
  }
  await a.waitForLog((l) => l.msg === "alarm raised", "alarm raised");
  // Committed with the alarm, tried, not sent (the SMTP server refuses connections).
  await waitFor(() => notifyRows(dbFile).some((r) => r.state === "pending" && r.attempts >= 1), {
    what: "a failed attempt recorded",
    timeoutMs: 15_000,
  });
  await a.kill();
  assert.equal(mail.messages.length, 0);
  const before = notifyRows(dbFile);
  assert.equal(before.length, 1);
  assert.equal(JSON.parse(before[0]?.payload ?? "{}").to, "oncall@example.com");

  await mail.up();
  const b = startAgent(config, { dir });
  agents.push(b);
  await waitFor(() => notifyRows(dbFile)[0]?.state === "delivered", {
    what: "delivered after restart",
    timeoutMs: 30_000,
  });
  assert.equal(mail.messages.length, 1);
  assert.deepEqual(mail.messages[0]?.envelope.to, ["oncall@example.com"]);
  // and not again: the agent keeps running with nothing left to send
  const code = await b.stop();
  assert.equal(code, 0);
  assert.equal(mail.messages.length, 1);
  assert.equal(notifyRows(dbFile).length, 1);
});
