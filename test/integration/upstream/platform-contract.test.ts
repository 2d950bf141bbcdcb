// What the agent sends, checked by a strict fake platform over real HTTP on 127.0.0.1: the platform
// refuses a body without its required fields (seed 003: /alert/add name; /alert/update id and name;
// seed 001: work-order title, integer areaId, alarmId, alarmType, tenant-id). The alarms come from
// the real alarm service and outbox writer; only the clock is manual.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { AlarmService } from "../../../src/alarms/service.js";
import { main as outboxCli } from "../../../src/cli/outbox.js";
import { loadConfig } from "../../../src/config/load.js";
import { silentLogger } from "../../../src/core/log.js";
import { MetricsRegistry } from "../../../src/core/metrics.js";
import type { CompiledRule } from "../../../src/core/ports.js";
import type { RuleDefinition } from "../../../src/core/types.js";
import { PAGE_JS } from "../../../src/http/status-page.js";
import { failureRecorded, outboxRow, stopAndSettle } from "../../helpers/outbox.js";
import {
  commitChange,
  createHarness,
  type FakeUpstream,
  type Harness,
  startUpstream,
  testAlarm,
  testRule,
} from "../../helpers/upstream.js";
import { waitFor } from "../../helpers/wait.js";
import { Devices, reading } from "../alarms/setup.js";
import { startHarness as startHttp } from "../http/fixtures.js";

let h: Harness | undefined;
let up: FakeUpstream | undefined;
let svc: AlarmService | undefined;
afterEach(async () => {
  await svc?.stop();
  await h?.close();
  await up?.close();
  svc = undefined;
  h = undefined;
  up = undefined;
});

const SECRET = "wo-secret-strict-1";
const TOKEN = "tok-strict-0123";
const T0 = Date.UTC(2026, 0, 1);
const CREATE = "/open-api/ops/security/order/create";
const COMPLETE = "/open-api/ops/security/order/auto-complete";

function harness(url: string, tenantId?: string): Harness {
  return createHarness({
    upstream: { baseUrl: url, token: TOKEN },
    workOrders: {
      enabled: true,
      baseUrl: url,
      appId: "edge",
      appSecret: SECRET,
      ...(tenantId !== undefined ? { tenantId } : {}),
    },
  });
}

function settled(hh: Harness): true | undefined {
  return hh.repo.summary(hh.clock.now()).pending === 0 ? true : undefined;
}

function io(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s), env: {}, cwd } };
}

test("strict platform: raise → escalate → de-escalate → resolve with a work order, every request accepted", async () => {
  up = await startUpstream({ appSecret: SECRET, token: TOKEN, strict: true });
  h = harness(up.url);
  const devices = new Devices();
  svc = new AlarmService({
    db: h.db,
    clock: h.clock,
    log: silentLogger(),
    events: h.events,
    metrics: new MetricsRegistry(),
    changeSink: h.writer,
    devices,
    batchMaxDelayMs: 0,
  });
  await svc.start();
  h.dispatcher.start();
  const def: RuleDefinition = testRule({
    id: "overvoltage",
    warnConditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 245 }] },
    actions: { workOrder: { alarmType: "overvoltage" } },
  });
  const rule: CompiledRule = { def, file: "rules/test.json", level: () => 0 };
  const d = devices.device("meter-01");
  for (const [level, voltage] of [
    [1, 247],
    [2, 253],
    [1, 246],
    [0, 230],
  ] as const) {
    svc.observe(rule, d, level, reading(d, { voltage }));
    await svc.flush();
    h.clock.advance(1000);
    h.dispatcher.kick();
    await waitFor(() => h && settled(h), { what: `outbox settled after level ${level}` });
  }
  assert.deepEqual(
    up.refusals().map((r) => `${r.path}: ${r.refused}`),
    [],
    "the strict platform refused nothing",
  );
  const s = h.repo.summary(h.clock.now());
  assert.equal(s.deadLetters, 0, "escalations and the resolve no longer dead-letter");
  assert.equal(s.lastDeadLetter, null);
  assert.equal(up.paths("/alert/add").length, 1);
  const updates = up.paths("/alert/update");
  assert.deepEqual(
    updates.map((r) => (r.json as { status: number }).status),
    [2, 1, 0],
    "escalate, de-escalate, resolve",
  );
  const add = up.paths("/alert/add")[0]?.json as Record<string, unknown>;
  for (const u of updates) {
    const j = u.json as Record<string, unknown>;
    assert.equal(j.id, `up-${String(add.id)}`, "the upstream id");
    assert.equal(j.name, "overvoltage", "every /alert/update carries the alarm's name");
    assert.equal(typeof j.level, "number");
    assert.equal(typeof j.updated, "number");
  }
  assert.equal(up.paths(CREATE).length, 1);
  assert.equal(up.paths(COMPLETE).length, 1);
  for (const r of [...up.paths(CREATE), ...up.paths(COMPLETE)]) assert.equal(r.signatureOk, true);
});

test("an /alert/update queued before updates carried a name gets the alarm's name at send time", async () => {
  up = await startUpstream({ token: TOKEN, strict: true });
  h = createHarness({ upstream: { baseUrl: up.url, token: TOKEN } });
  const a = testAlarm("OLD1", T0, { name: "oldname", status: 1, level: 3 });
  commitChange(h.db, h.writer, "created", a);
  // the row as the previous version wrote it: no name
  h.db
    .prepare(
      "INSERT INTO outbox (kind, class, stream, alarm_id, payload, state, created) VALUES ('alert.update', 'alarm', 'a:OLD1', 'OLD1', ?, 'pending', ?)",
    )
    .run(JSON.stringify({ status: 2, level: 4, updated: T0 + 1 }), T0 + 1);
  h.dispatcher.start();
  await waitFor(() => h && settled(h), { what: "delivered" });
  assert.deepEqual(up.refusals(), []);
  assert.deepEqual(up.paths("/alert/update")[0]?.json, {
    id: "up-OLD1",
    name: "oldname",
    status: 2,
    level: 4,
    updated: T0 + 1,
  });
  assert.equal(h.repo.summary(h.clock.now()).deadLetters, 0);
});

test("the strict fake itself refuses what the platform would: update without name, order without areaId", async () => {
  up = await startUpstream({ appSecret: SECRET, strict: true });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${up?.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
  const upd = await post("/alert/update", { id: "x", status: 0 });
  assert.equal(upd.status, 400);
  assert.equal(upd.body.code, 104001);
  assert.equal((await post("/alert/add", { level: 2 })).body.code, 104001);
  assert.equal((await post("/alert/add", { name: "n", level: "high" })).body.code, 104001);
  assert.equal((await post("/alert/add", { name: "n", location: null })).status, 200);
  // unsigned: the signature check answers first; the field check is covered by the cycle above
  assert.equal((await post(CREATE, { title: "t" }, { "tenant-id": "1" })).body.code, 401);
  assert.equal(up.refusals().length, 3);
});

test("a non-zero work-order code dead-letters with code and msg; outbox retry re-queues it and it is delivered", async () => {
  up = await startUpstream({ appSecret: SECRET, strict: true });
  // a 5xx first (retried as before), then the platform's answer: code 1001
  up.enqueue(
    CREATE,
    { status: 502, body: "bad gateway" },
    { status: 200, body: '{"code":1001,"msg":"area not found"}' },
  );
  h = harness(up.url);
  h.dispatcher.start();
  const rule = testRule({ actions: { workOrder: { alarmType: "overvoltage" } } });
  const a = testAlarm("WD1", T0);
  commitChange(h.db, h.writer, "created", a, { rule });
  // resolved while the create is refused: the completion dies with it (no orderId)
  commitChange(h.db, h.writer, "resolved", { ...a, status: 0, updated: T0 + 5, resolvedAt: T0 + 5 }, { rule });
  h.dispatcher.kick();
  await waitFor(() => up?.paths(CREATE).length === 1, { what: "first create (502)" });
  const failed = await failureRecorded(h.db, "WD1", "workorder.create", 1);
  h.clock.advance(failed.next_at - h.clock.now());
  h.dispatcher.kick();
  await waitFor(() => h && settled(h), { what: "settled" });
  assert.equal(up.paths(CREATE).length, 2, "the 502 was retried once, the code 1001 answer was not");
  const s = h.repo.summary(h.clock.now());
  assert.equal(s.deadLetters, 2);
  assert.equal(s.lastDeadLetter?.kind, "workorder.complete");
  const dead = h.repo.deadLetters(10);
  const create = dead.find((d) => d.kind === "workorder.create");
  assert.equal(create?.code, "1001");
  assert.equal(create?.msg, "area not found");
  assert.match(create?.error ?? "", /code 1001: area not found/);
  assert.match(s.lastErrors["workorder.create"]?.message ?? "", /1001.*area not found/);
  // more time passes: a platform answer is not retried
  for (let i = 0; i < 5; i++) h.clock.advance(60_000);
  h.dispatcher.kick();
  await stopAndSettle(h.dispatcher, up);
  assert.equal(up.paths(CREATE).length, 2);
  assert.equal(outboxRow(h.db, "WD1", "workorder.create")?.state, "dead");
  h.dispatcher.start();

  // the operator's view, from the database file the agent is using
  const file = join(h.dir, "edge-agent.db");
  const show = io(h.dir);
  assert.equal(await outboxCli(["--db", file, "--json"], show.io), 0);
  const report = JSON.parse(show.out.join("")) as {
    deadLetters: number;
    recentDeadLetters: { seq: number; kind: string; code?: string; msg?: string }[];
    lastDeadLetter: { kind: string } | null;
  };
  assert.equal(report.deadLetters, 2);
  const listed = report.recentDeadLetters.find((d) => d.kind === "workorder.create");
  assert.equal(listed?.code, "1001");
  assert.equal(listed?.msg, "area not found");
  const text = io(h.dir);
  assert.equal(await outboxCli(["--db", file], text.io), 0);
  assert.match(text.out.join(""), /workorder\.create alarm WD1 \[code 1001: area not found\]/);
  assert.match(text.out.join(""), /edge-agent outbox retry ID/);

  // /status (and the status page, which renders it) shows the last dead letter with code and msg
  const api = await startHttp({ outbox: h.repo });
  try {
    const st = (await (await api.get("/status")).json()) as {
      data: { outbox: { deadLetters: number; lastDeadLetter: { kind: string; code?: string; msg?: string } } };
    };
    assert.equal(st.data.outbox.deadLetters, 2);
    const last = st.data.outbox.lastDeadLetter;
    assert.equal(last.kind, "workorder.complete");
    // the completion died for want of the create: its reason carries the platform's answer
    assert.match(JSON.stringify(last), /no orderId: the work-order create is dead \(.*code 1001: area not found/);
    assert.ok(PAGE_JS.includes("o.lastDeadLetter"), "the status page renders it");
  } finally {
    await api.api.stop();
  }

  // the platform now accepts (area created); the operator re-queues the create
  const retry = io(h.dir);
  assert.equal(await outboxCli(["retry", String(listed?.seq), "--db", file], retry.io), 0, retry.err.join(""));
  assert.match(retry.out.join(""), /re-queued #\d+ workorder\.create \(alarm WD1\)/);
  assert.match(retry.out.join(""), /re-queued #\d+ workorder\.complete \(alarm WD1\)/);
  h.clock.advance(1000);
  h.dispatcher.kick();
  await waitFor(() => up?.paths(COMPLETE).length === 1 && h && settled(h), { what: "create and complete delivered" });
  assert.equal(up.paths(CREATE).length, 3);
  assert.deepEqual(up.refusals(), []);
  const after = h.repo.summary(h.clock.now());
  assert.equal(after.deadLetters, 0);
  assert.equal(after.lastDeadLetter, null);
  const row = h.db.prepare("SELECT work_order_id FROM alarms WHERE id = 'WD1'").get() as { work_order_id: string };
  assert.equal(up.paths(COMPLETE)[0]?.body.startsWith(`{"orderId":${row.work_order_id},`), true);

  // retrying something that is not a dead letter says so
  const again = io(h.dir);
  assert.equal(await outboxCli(["retry", String(listed?.seq), "--db", file], again.io), 1);
  assert.match(again.err.join(""), /is not a dead letter/);
  const bad = io(h.dir);
  assert.equal(await outboxCli(["retry", "abc", "--db", file], bad.io), 2);
});

test("5xx answers keep retrying; nothing dead-letters", async () => {
  up = await startUpstream({ appSecret: SECRET, strict: true });
  up.enqueue(CREATE, { status: 500, body: '{"code":500,"msg":"系统繁忙"}' }, { status: 503, body: "" });
  h = harness(up.url);
  h.dispatcher.start();
  commitChange(h.db, h.writer, "created", testAlarm("W5", T0), {
    rule: testRule({ actions: { workOrder: {} } }),
  });
  h.dispatcher.kick();
  for (const failures of [1, 2]) {
    // each 5xx is recorded as a retry, then the clock goes to exactly the recorded retry time
    const row = await failureRecorded(h.db, "W5", "workorder.create", failures);
    h.clock.advance(row.next_at - h.clock.now());
    h.dispatcher.kick();
  }
  await waitFor(() => h && settled(h), { what: "delivered after two 5xx" });
  assert.equal(up.paths(CREATE).length, 3);
  assert.equal(h.repo.summary(h.clock.now()).deadLetters, 0);
});

test("tenant-id '1' by default; areaId 0 when the device has none; 人工上报 for an operator's alarm", async () => {
  up = await startUpstream({ appSecret: SECRET, strict: true });
  h = harness(up.url); // no tenantId configured
  h.dispatcher.start();
  const rule = testRule({ actions: { workOrder: { alarmType: "manual" } } });
  // no areaId on the device
  commitChange(h.db, h.writer, "created", testAlarm("N1", T0, { resource: { id: "m9", product: "meter" } }), { rule });
  // an alarm an operator raised by hand (written directly, as the /alert/add path records it)
  commitChange(
    h.db,
    h.writer,
    "created",
    testAlarm("OP1", T0 + 1, { ruleId: "", name: "manual", type: "operator", origin: "operator" }),
    { rule },
  );
  h.dispatcher.kick();
  await waitFor(() => up?.paths(CREATE).length === 2 && h && settled(h), { what: "two creates" });
  assert.deepEqual(up.refusals(), []);
  const byAlarm = new Map(up.paths(CREATE).map((r) => [(r.json as { alarmId: string }).alarmId, r]));
  const n1 = byAlarm.get("N1");
  const op1 = byAlarm.get("OP1");
  assert.equal(n1?.headers["tenant-id"], "1");
  assert.equal(op1?.headers["tenant-id"], "1");
  assert.match(n1?.body ?? "", /"areaId":0,/);
  assert.equal((n1?.json as { triggerSource?: string } | undefined)?.triggerSource, "自动上报");
  assert.equal((op1?.json as { triggerSource?: string } | undefined)?.triggerSource, "人工上报");
  assert.match(op1?.body ?? "", /"areaId":12,/);
  for (const r of up.paths(CREATE)) assert.equal(r.signatureOk, true, "the signature covers the bytes sent");
});

test("config: workOrders.tenantId may be left out and defaults to '1'", async () => {
  const dir = mkdtempSync(join(tmpdir(), "edge-tenant-"));
  try {
    writeFileSync(
      join(dir, "agent.json"),
      JSON.stringify({
        gatewayId: "gw",
        workOrders: { baseUrl: "https://ops.example.com", appId: "edge", appSecret: "s3cret-value" },
      }),
    );
    const loaded = await loadConfig(join(dir, "agent.json"), {}, { cwd: dir });
    assert.deepEqual(
      loaded.problems.filter((p) => p.severity !== "warning"),
      [],
    );
    assert.equal(loaded.config?.workOrders?.tenantId, "1");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
