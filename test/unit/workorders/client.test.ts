import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveWorkOrders } from "../../../src/config/defaults.js";
import {
  COMPLETE_PATH,
  CREATE_PATH,
  orderIdOf,
  parseCompleteAnswer,
  parseCreateAnswer,
  WorkOrderClient,
  type WorkOrderRequest,
} from "../../../src/workorders/client.js";
import { sign } from "../../../src/workorders/sign.js";

const CONFIG = resolveWorkOrders({
  baseUrl: "https://ops.example.com/prefix/",
  appId: "app-1",
  appSecret: "s3cret",
});
const NOW = Date.UTC(2026, 0, 1);

/** A client over a transport that records each request and answers with the given outcomes in turn. */
function clientAnswering(...answers: ({ kind: "ok"; text: string } | { kind: "aborted" })[]) {
  const sent: WorkOrderRequest[] = [];
  const client = new WorkOrderClient<{ kind: "aborted" }>({
    config: CONFIG,
    now: () => NOW,
    transport: async (req) => {
      sent.push(req);
      const a = answers.shift();
      assert.ok(a, "no more answers");
      return a;
    },
  });
  return { client, sent };
}

test("orderId: data itself, or data.orderId / data.id, kept as exact 64-bit text", () => {
  assert.equal(orderIdOf("1234567890123456789"), "1234567890123456789");
  assert.equal(orderIdOf('"42"'), "42");
  assert.equal(orderIdOf('{"orderId":1234567890123456789}'), "1234567890123456789");
  assert.equal(orderIdOf('{"id":"7"}'), "7");
  assert.equal(orderIdOf('{"orderId":"abc"}'), null);
  assert.equal(orderIdOf("-5"), null, "only non-negative integers are order ids");
  assert.equal(orderIdOf("null"), null);
  assert.equal(orderIdOf(undefined), null);
});

test("create answers: code 0 with an id is created; no code 0 retries; no id dead-letters", () => {
  assert.deepEqual(parseCreateAnswer('{"code":0,"data":1234567890123456789,"msg":""}'), {
    kind: "created",
    orderId: "1234567890123456789",
  });
  assert.deepEqual(parseCreateAnswer('{"code":0,"data":{"orderId":"9"}}'), { kind: "created", orderId: "9" });
  const proxy = parseCreateAnswer("<html>gateway</html>");
  assert.equal(proxy.kind, "retry");
  assert.match((proxy as { reason: string }).reason, /without code 0: <html>gateway<\/html>/);
  const noId = parseCreateAnswer('{"code":0,"data":null}');
  assert.equal(noId.kind, "dead");
  assert.match((noId as { reason: string }).reason, /returned no integer orderId/);
});

test("complete answers: code 0 is completed, anything else retries", () => {
  assert.deepEqual(parseCompleteAnswer('{"code":0,"data":true}'), { kind: "completed" });
  assert.equal(parseCompleteAnswer('{"data":true}').kind, "retry");
});

test("create: signed exact bytes to the create path under the base URL's prefix", async () => {
  const { client, sent } = clientAnswering({ kind: "ok", text: '{"code":0,"data":77}' });
  const out = await client.create({ title: "过压", alarmId: "A1", alarmType: "overvoltage", priority: 1 });
  assert.deepEqual(out, { kind: "created", orderId: "77" });
  const req = sent[0] as WorkOrderRequest;
  assert.equal(req.url.href, `https://ops.example.com/prefix${CREATE_PATH}`);
  assert.equal(req.body, '{"title":"过压","areaId":0,"alarmId":"A1","alarmType":"overvoltage","priority":1}');
  const h = req.headers;
  assert.equal(h["tenant-id"], "1", "the platform's default tenant");
  assert.equal(h.appId, "app-1");
  assert.equal(h.timestamp, String(NOW));
  assert.equal(
    h.sign,
    sign({ appId: "app-1", appSecret: "s3cret", body: req.body, nonce: h.nonce as string, timestamp: String(NOW) }),
  );
});

test("complete: the orderId is a bare integer; a transport failure is passed back untouched", async () => {
  const { client, sent } = clientAnswering({ kind: "ok", text: '{"code":0}' }, { kind: "aborted" });
  assert.deepEqual(await client.complete("1234567890123456789", "done"), { kind: "completed" });
  assert.equal(sent[0]?.url.pathname, `/prefix${COMPLETE_PATH}`);
  assert.equal(sent[0]?.body, '{"orderId":1234567890123456789,"remark":"done"}');
  assert.deepEqual(await client.complete("5", "again"), { kind: "aborted" });
});
