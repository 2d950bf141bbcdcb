// The shipped example hooks (hooks/*.mjs) against a real HTTP server on 127.0.0.1: inert without
// configuration, and doing their job when configured.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import type { DeviceState, RuleDefinition } from "../../../src/core/types.js";
import { type Harness, harness, sampleAlarm } from "../../fixtures/hooks/harness.js";
import { ObservedActivity } from "../../helpers/hook-activity.js";
import { waitFor } from "../../helpers/wait.js";

const EXAMPLES = ["wecom-alarm-notify.mjs", "critical-interlock.mjs", "raw-forwarder.mjs"];
const ENV = ["WECOM_WEBHOOK_URL", "INTERLOCK_DEVICE", "INTERLOCK_RULES", "FORWARD_URL", "FORWARD_TOKEN"];
let h: Harness;
let server: Server | null = null;
afterEach(async () => {
  for (const k of ENV) delete process.env[k];
  await h?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

function withExamples(): Harness {
  const hh = harness();
  mkdirSync(hh.dir, { recursive: true });
  for (const f of EXAMPLES) copyFileSync(join("hooks", f), join(hh.dir, f));
  return hh;
}

async function recorder(): Promise<{
  url: string;
  got: { path: string; headers: Record<string, unknown>; body: unknown }[];
}> {
  const got: { path: string; headers: Record<string, unknown>; body: unknown }[] = [];
  server = createServer((req, res) => {
    let data = "";
    req.on("data", (c) => {
      data += c;
    });
    req.on("end", () => {
      got.push({ path: req.url ?? "", headers: req.headers, body: JSON.parse(data) });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ errcode: 0, errmsg: "ok" }));
    });
  });
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", () => r()));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`, got };
}

const device: DeviceState = {
  id: "meter-01",
  product: "meter",
  status: "alarm",
  lastSeen: 1,
  values: {},
  source: "modbus",
};
const rule: RuleDefinition = {
  id: "meter-overvoltage",
  name: "overvoltage",
  key: "meter",
  type: "rule",
  level: 4,
  conditions: { all: [] },
};

test("without configuration the examples load, send nothing and do not subscribe to raw payloads", async () => {
  h = withExamples();
  const activity = new ObservedActivity();
  h.manager = h.make({ activity });
  await h.manager.start();
  assert.deepEqual(
    h.manager.list().map((i) => [i.name, i.state]),
    [
      ["critical-interlock", "running"],
      ["raw-forwarder", "running"],
      ["wecom-alarm-notify", "running"],
    ],
  );
  assert.equal(h.events.hasListeners("rawMessage"), false);
  h.events.emit("alarmCreated", sampleAlarm(), device, rule);
  await waitFor(() => h.logs.some((l) => l.msg === "interlock off (set INTERLOCK_DEVICE to arm it)"));
  // Both alarm hooks ran for the alarm and finished: whatever they were going to write or post is done.
  await waitFor(
    () =>
      activity.handled("critical-interlock", "onAlarmCreated") &&
      activity.handled("wecom-alarm-notify", "onAlarmCreated"),
    { what: "the alarm hooks handled the alarm" },
  );
  assert.equal(h.writes.length, 0);
  assert.equal(
    h.manager.list().reduce((n, i) => n + i.errors, 0),
    0,
  );
});

test("configured: WeCom markdown is posted, the interlock writes its coil, raw payloads are forwarded", async () => {
  const srv = await recorder();
  process.env.WECOM_WEBHOOK_URL = `${srv.url}/cgi-bin/webhook/send?key=k1`;
  process.env.INTERLOCK_DEVICE = "meter-01";
  process.env.INTERLOCK_RULES = "meter-overvoltage";
  process.env.FORWARD_URL = `${srv.url}/ingest`;
  process.env.FORWARD_TOKEN = "fwd-secret";
  h = withExamples();
  await h.manager.start();
  assert.equal(h.events.hasListeners("rawMessage"), true);
  h.events.emit("alarmCreated", sampleAlarm(), device, rule);
  h.events.emit("alarmCreated", sampleAlarm({ id: "a-2", level: 2 }), device, rule); // below both thresholds
  h.events.emit("rawMessage", "mqtt", "meters/meter-01/telemetry", Buffer.from('{"voltage":260}'));
  await waitFor(() => srv.got.length === 2 && h.writes.length === 1, { what: "posts and the write" });
  assert.deepEqual(h.writes, [{ deviceId: "meter-01", point: "breaker_on", value: false }]);
  const wecom = srv.got.find((g) => g.path.startsWith("/cgi-bin/webhook/send?key=k1"));
  const md = (wecom?.body as { msgtype: string; markdown: { content: string } }) ?? null;
  assert.equal(md?.msgtype, "markdown");
  assert.match(md.markdown.content, /Alarm: Over-voltage/);
  assert.match(md.markdown.content, /Device: meter-01/);
  const fwd = srv.got.find((g) => g.path === "/ingest");
  assert.equal(fwd?.headers.authorization, "Bearer fwd-secret");
  const b = fwd?.body as { encoding: string; payload: string; topic: string; gatewayId: string };
  assert.equal(b.topic, "meters/meter-01/telemetry");
  assert.equal(b.gatewayId, "gw-test");
  assert.equal(Buffer.from(b.payload, "base64").toString(), '{"voltage":260}');
  const kv = h.db.prepare("SELECT value FROM kv WHERE ns = 'critical-interlock' AND key = 'lastTrip'").get() as {
    value: string;
  };
  assert.equal(JSON.parse(kv.value).alarmId, "a-1");
});
