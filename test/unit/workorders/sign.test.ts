// Known-answer vectors computed with an independent implementation (Python hashlib, json.dumps
// ensure_ascii=False, compact separators), so a change in bytes or concatenation order fails here.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createPayloadFor,
  DEFAULT_TRIGGER_SOURCE,
  priorityForLevel,
  resolvePriority,
} from "../../../src/store/outbox-payloads.js";
import { completeBody, createBody } from "../../../src/workorders/body.js";
import { newNonce, queryString, sign, signedHeaders } from "../../../src/workorders/sign.js";
import { testAlarm, testRule } from "../../helpers/upstream.js";

const SECRET = "s3cr3t-key";

test("create body with a Chinese title: exact bytes and signature match the reference", () => {
  const body = createBody({
    title: "配电柜过压告警",
    areaId: 12,
    alarmId: "01JABCDEF",
    alarmType: "overvoltage",
    description: "",
    priority: 1,
    triggerSource: "自动上报",
    cameraId: "",
  });
  assert.equal(
    body,
    '{"title":"配电柜过压告警","areaId":12,"alarmId":"01JABCDEF","alarmType":"overvoltage","priority":1,"triggerSource":"自动上报"}',
  );
  const s = sign({ appId: "edge", appSecret: SECRET, body, nonce: "0123456789abcdef", timestamp: "1767225600000" });
  assert.equal(s, "077634af423359984b6c59990876d67c94ecb06108726d82558fb67fa44e980f");
});

test("complete body keeps a 64-bit orderId exact as a bare integer, and signs", () => {
  const body = completeBody("1234567890123456789", "恢复正常");
  assert.equal(body, '{"orderId":1234567890123456789,"remark":"恢复正常"}');
  const s = sign({ appId: "edge", appSecret: SECRET, body, nonce: "fedcba9876543210", timestamp: "1767225600001" });
  assert.equal(s, "1cb4de0ff294cb1c066ff5a7d967f9b9fd01df587f0ee4305d2f170107179d2e");
  assert.throws(() => completeBody("12.5", "x"), TypeError);
});

test("query parameters are sorted by key and prefixed", () => {
  assert.equal(queryString({ b: "2", a: "1" }), "a=1&b=2");
  assert.equal(queryString(undefined), "");
  const s = sign({
    appId: "edge",
    appSecret: SECRET,
    body: "{}",
    nonce: "0000000000000000",
    timestamp: "1",
    query: { b: "2", a: "1" },
  });
  assert.equal(s, "c145ac7f2b75eff3c64dd05bd5828cf1c0bb2b40a9117687fdf4496c8f22a00a");
});

test("signed headers: names, tenant-id, 16-hex nonce never reused, ms timestamp", () => {
  const h = signedHeaders({ appId: "edge", appSecret: SECRET, tenantId: "7", body: "{}", nowMs: 1767225600123 });
  assert.equal(h["Content-Type"], "application/json");
  assert.equal(h["tenant-id"], "7");
  assert.equal(h.appId, "edge");
  assert.equal(h.timestamp, "1767225600123");
  assert.match(h.nonce, /^[0-9a-f]{16}$/);
  assert.equal(h.sign, sign({ appId: "edge", appSecret: SECRET, body: "{}", nonce: h.nonce, timestamp: h.timestamp }));
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) seen.add(newNonce());
  assert.equal(seen.size, 2000);
});

test("priority follows the rule, else the alarm level", () => {
  assert.deepEqual([5, 4, 3, 2, 1, 0].map(priorityForLevel), [0, 1, 2, 3, 3, 3]);
  assert.equal(resolvePriority(0, 1), 0);
  assert.equal(resolvePriority(undefined, 5), 0);
});

test("create payload from an alarm: defaults, omitted empties, rule overrides", () => {
  const alarm = testAlarm("A1", 1000, { level: 3, message: "" });
  const p = createPayloadFor(alarm, testRule({ actions: { workOrder: { alarmType: "overvoltage" } } }));
  assert.deepEqual(p, {
    title: "Over-voltage on incomer",
    areaId: 12,
    alarmId: "A1",
    alarmType: "overvoltage",
    priority: 2,
    triggerSource: DEFAULT_TRIGGER_SOURCE,
  });
  assert.equal(
    createBody(p),
    '{"title":"Over-voltage on incomer","areaId":12,"alarmId":"A1","alarmType":"overvoltage","priority":2,"triggerSource":"自动上报"}',
  );
  const q = createPayloadFor(
    testAlarm("A2", 1000, { resource: { id: "m", product: "meter" } }),
    testRule({ actions: { workOrder: { priority: 0, cameraId: "cam-3", triggerSource: "人工上报" } } }),
  );
  // the platform's areaId is a required integer: 0 when the device has none
  assert.equal(q.areaId, 0);
  assert.equal(q.priority, 0);
  assert.equal(q.cameraId, "cam-3");
  assert.equal(q.description, "voltage 262 V > 250 V");
  assert.match(createBody(q), /^\{"title":"Over-voltage on incomer","areaId":0,"alarmId":"A2",/);
  assert.equal(q.triggerSource, "人工上报", "the rule's explicit triggerSource wins");
});

test("triggerSource: 自动上报 for a rule's alarm, 人工上报 for an operator's, unless the rule says otherwise", () => {
  const rule = testRule({ actions: { workOrder: {} } });
  assert.equal(createPayloadFor(testAlarm("R1", 1000), rule).triggerSource, "自动上报");
  assert.equal(createPayloadFor(testAlarm("R2", 1000, { origin: "rule" }), rule).triggerSource, "自动上报");
  assert.equal(createPayloadFor(testAlarm("O1", 1000, { origin: "operator" }), rule).triggerSource, "人工上报");
  const explicit = testRule({ actions: { workOrder: { triggerSource: "自动上报" } } });
  assert.equal(createPayloadFor(testAlarm("O2", 1000, { origin: "operator" }), explicit).triggerSource, "自动上报");
});

test("createBody: areaId always present and an integer on the wire", () => {
  const base = { title: "t", alarmId: "A", alarmType: "x" };
  // a row queued before areaId was always set
  assert.equal(createBody(base), '{"title":"t","areaId":0,"alarmId":"A","alarmType":"x"}');
  assert.equal(createBody({ ...base, areaId: "" }), '{"title":"t","areaId":0,"alarmId":"A","alarmType":"x"}');
  // a decimal string from the config is written as the integer, exactly (even beyond 2^53)
  assert.equal(
    createBody({ ...base, areaId: "9007199254740993" }),
    '{"title":"t","areaId":9007199254740993,"alarmId":"A","alarmType":"x"}',
  );
  assert.equal(createBody({ ...base, areaId: 12 }), '{"title":"t","areaId":12,"alarmId":"A","alarmType":"x"}');
  // not an integer: sent as given (validate warns about it)
  assert.equal(createBody({ ...base, areaId: "A-7" }), '{"title":"t","areaId":"A-7","alarmId":"A","alarmType":"x"}');
  assert.equal(createBody({ ...base, areaId: "012" }), '{"title":"t","areaId":"012","alarmId":"A","alarmType":"x"}');
});
