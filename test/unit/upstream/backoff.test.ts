import assert from "node:assert/strict";
import { test } from "node:test";
import { BACKOFF_MAX_MS, backoffMs, retryAfterMs } from "../../../src/upstream/backoff.js";
import { classify } from "../../../src/upstream/http.js";

test("backoff doubles from 1 s to a 5 min cap, jittered within [d/2, d]", () => {
  assert.equal(
    backoffMs(1, () => 1),
    1000,
  );
  assert.equal(
    backoffMs(1, () => 0),
    500,
  );
  assert.equal(
    backoffMs(2, () => 1),
    2000,
  );
  assert.equal(
    backoffMs(5, () => 1),
    16000,
  );
  assert.equal(
    backoffMs(20, () => 1),
    BACKOFF_MAX_MS,
  );
  assert.equal(
    backoffMs(1000, () => 0),
    BACKOFF_MAX_MS / 2,
  );
  for (let i = 0; i < 100; i++) {
    const d = backoffMs(3);
    assert.ok(d >= 2000 && d <= 4000, String(d));
  }
});

test("Retry-After in seconds or as a date, capped", () => {
  assert.equal(retryAfterMs("3", 0), 3000);
  assert.equal(retryAfterMs("100000", 0), BACKOFF_MAX_MS);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 0), 10_000);
  assert.equal(retryAfterMs(undefined, 0), undefined);
  assert.equal(retryAfterMs("soon", 0), undefined);
});

test("responses are classified as docs/upstream.md says", () => {
  assert.equal(classify(200, '{"id":"x"}', undefined, "/alert/add").kind, "ok");
  assert.equal(classify(201, "", undefined, "/alert/add").kind, "ok");
  assert.equal(classify(500, "boom", undefined, "/alert/add").kind, "retry");
  assert.equal(classify(503, "", undefined, "/alert/add").kind, "retry");
  assert.deepEqual(classify(429, "", 7000, "/alert/add"), {
    kind: "retry",
    reason: "HTTP 429 from /alert/add",
    afterMs: 7000,
  });
  assert.equal(classify(401, "", undefined, "/alert/add").kind, "pause");
  assert.equal(classify(403, "", undefined, "/alert/add").kind, "pause");
  assert.equal(classify(200, '{"code":100401,"message":"Unauthorized"}', undefined, "/x").kind, "pause");
  assert.equal(classify(400, '{"code":104001,"message":"Miss required parameter"}', undefined, "/x").kind, "dead");
  assert.equal(classify(200, '{"code":104001}', undefined, "/x").kind, "dead");
  assert.equal(classify(404, "", undefined, "/x").kind, "retry");
  assert.equal(classify(200, '{"code":0,"data":1}', undefined, "/x").kind, "ok");
  assert.equal(classify(200, '{"code":500,"msg":"busy"}', undefined, "/x").kind, "retry");
});

test("work-order answers: a non-zero code is final (dead, with code and msg); 5xx and transport errors retry", () => {
  const wo = { codeIsAnswer: true };
  assert.deepEqual(classify(200, '{"code":1001,"msg":"area not found"}', undefined, "/wo", [], wo), {
    kind: "dead",
    reason: "refused by the platform: code 1001: area not found (HTTP 200 from /wo)",
    answer: { code: "1001", msg: "area not found" },
  });
  // a code in a 5xx answer is still an outage
  assert.equal(classify(503, '{"code":500,"msg":"busy"}', undefined, "/wo", [], wo).kind, "retry");
  assert.equal(classify(500, "", undefined, "/wo", [], wo).kind, "retry");
  // signature / tenant refused: the credentials, not the item
  assert.equal(classify(200, '{"code":401,"msg":"sign error"}', undefined, "/wo", [], wo).kind, "pause");
  assert.equal(classify(200, '{"code":0,"data":7}', undefined, "/wo", [], wo).kind, "ok");
  // the alarm API keeps retrying such answers
  assert.equal(classify(200, '{"code":1001,"msg":"x"}', undefined, "/alert/add").kind, "retry");
  // secrets never reach the stored answer
  const out = classify(200, '{"code":7,"msg":"bad key wo-SECRET-9"}', undefined, "/wo", ["wo-SECRET-9"], wo);
  assert.ok(out.kind === "dead" && !JSON.stringify(out).includes("wo-SECRET-9"));
});

test("error texts never carry secrets", () => {
  const out = classify(500, "bad token tok-SECRET-1", undefined, "/alert/add", ["tok-SECRET-1"]);
  assert.equal(out.kind, "retry");
  assert.ok(out.kind === "retry" && !out.reason.includes("tok-SECRET-1"));
});
