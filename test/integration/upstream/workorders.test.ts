// Signed work-order client through the outbox (SPEC §8), against a fake API that verifies the
// signature with its own implementation.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import type { WorkOrder } from "../../../src/core/types.js";
import { failureRecorded } from "../../helpers/outbox.js";
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

let h: Harness | undefined;
let up: FakeUpstream | undefined;
afterEach(async () => {
  await h?.close();
  await up?.close();
  h = undefined;
  up = undefined;
});

const SECRET = "wo-secret-42";
const T0 = Date.UTC(2026, 0, 1);
const CREATE = "/open-api/ops/security/order/create";
const COMPLETE = "/open-api/ops/security/order/auto-complete";

function harness(url: string): Harness {
  return createHarness({
    upstream: { baseUrl: url, token: "tok-abcdef" },
    workOrders: { enabled: true, baseUrl: url, appId: "edge", appSecret: SECRET, tenantId: "7" },
  });
}

test("create fails twice (HTTP 500, HTTP 503 with a code), then succeeds; the auto-complete carries the exact 64-bit orderId", async () => {
  up = await startUpstream({ appSecret: SECRET });
  up.enqueue(CREATE, { status: 500, body: "busy" }, { status: 503, body: '{"code":500,"msg":"数据库忙"}' });
  h = harness(up.url);
  const created: WorkOrder[] = [];
  const completed: WorkOrder[] = [];
  h.events.on("workOrderCreated", (o) => created.push(o));
  h.events.on("workOrderCompleted", (o) => completed.push(o));
  h.dispatcher.start();
  const rule = testRule({ level: 5, actions: { workOrder: { alarmType: "overvoltage" } } });
  const a = testAlarm("W1", T0, { title: "配电柜过压告警", level: 5 });
  commitChange(h.db, h.writer, "created", a, { rule });
  // resolved while the create is still failing: the completion must wait for the orderId
  commitChange(h.db, h.writer, "resolved", { ...a, status: 0, updated: T0 + 5, resolvedAt: T0 + 5 }, { rule });
  h.dispatcher.kick();
  await waitFor(() => up?.paths(CREATE).length === 1, { what: "first create" });
  for (const failures of [1, 2]) {
    // step to the retry time the dispatcher recorded for the failed create, and no further
    const row = await failureRecorded(h.db, "W1", "workorder.create", failures);
    assert.equal(up.paths(COMPLETE).length, 0, "no completion without an orderId");
    h.clock.advance(row.next_at - h.clock.now());
    h.dispatcher.kick();
    await waitFor(() => up?.paths(CREATE).length === failures + 1, { what: `create attempt ${failures + 1}` });
  }
  await waitFor(() => completed.length === 1, { what: "completion confirmed" });
  assert.equal(up.paths(CREATE).length, 3);
  assert.equal(up.paths(COMPLETE).length, 1);
  const complete = up.paths(COMPLETE)[0];
  assert.equal(
    complete?.body,
    '{"orderId":1234567890123456789,"remark":"Auto-completed by edge-agent: voltage back to 231 V (cleared by rule at 2026-01-01T00:00:00.005Z)"}',
  );
  // the completion went after the successful create
  const createOk = up.paths(CREATE)[2];
  assert.ok(createOk && complete && up.requests.indexOf(complete) > up.requests.indexOf(createOk));
  for (const r of [...up.paths(CREATE), ...up.paths(COMPLETE)]) {
    assert.equal(r.signatureOk, true, "signature verifies");
    assert.equal(r.headers["tenant-id"], "7");
    assert.equal(r.headers.appid, "edge");
    assert.match(String(r.headers.nonce), /^[0-9a-f]{16}$/);
    assert.match(String(r.headers.timestamp), /^\d{13}$/);
    assert.equal(r.headers.authorization, undefined, "the upstream token is not sent to the work-order API");
  }
  const nonces = new Set([...up.paths(CREATE), ...up.paths(COMPLETE)].map((r) => r.headers.nonce));
  assert.equal(nonces.size, 4, "nonces never reused");
  const createBody = up.paths(CREATE)[2]?.body ?? "";
  assert.equal(
    createBody,
    '{"title":"配电柜过压告警","areaId":12,"alarmId":"W1","alarmType":"overvoltage","description":"voltage 262 V > 250 V","priority":0,"triggerSource":"自动上报"}',
  );
  const row = h.db.prepare("SELECT work_order_id, doc FROM alarms WHERE id = 'W1'").get() as {
    work_order_id: string;
    doc: string;
  };
  assert.equal(row.work_order_id, "1234567890123456789");
  assert.equal(created[0]?.orderId, "1234567890123456789");
  assert.equal(created[0]?.title, "配电柜过压告警");
  assert.equal(completed[0]?.orderId, "1234567890123456789");
  assert.match(h.repo.summary(h.clock.now()).lastErrors["workorder.create"]?.message ?? "", /数据库忙/);
  // the alarm itself was not held up by the failing work-order API
  assert.equal(up.paths("/alert/add").length, 1);
  assert.ok(!h.logs.join("").includes(SECRET), "appSecret never logged");
});

test("signature matches for a body with optional fields omitted", async () => {
  up = await startUpstream({ appSecret: SECRET });
  h = harness(up.url);
  h.dispatcher.start();
  const rule = testRule({ level: 1, actions: { workOrder: {} } });
  commitChange(
    h.db,
    h.writer,
    "created",
    testAlarm("W2", T0, { message: "", level: 1, resource: { id: "m9", product: "meter" } }),
    { rule },
  );
  h.dispatcher.kick();
  await waitFor(() => up?.paths(CREATE).length === 1 && h?.repo.summary(h.clock.now()).pending === 0, {
    what: "create",
  });
  const r = up.paths(CREATE)[0];
  assert.equal(
    r?.body,
    '{"title":"Over-voltage on incomer","areaId":0,"alarmId":"W2","alarmType":"overvoltage","priority":3,"triggerSource":"自动上报"}',
  );
  assert.equal(r?.signatureOk, true);
});
