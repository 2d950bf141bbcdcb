import assert from "node:assert/strict";
import { test } from "node:test";
import { isIntegerText, rawId, rawMembers } from "../../../src/workorders/json-raw.js";

test("64-bit ids are read as their exact digits", () => {
  const m = rawMembers('{"code":0,"data":1234567890123456789,"msg":"ok"}');
  assert.equal(m?.get("data"), "1234567890123456789");
  assert.equal(rawId(m?.get("data")), "1234567890123456789");
  // a JS number would have corrupted it
  assert.notEqual(String(JSON.parse("1234567890123456789")), "1234567890123456789");
});

test("whitespace, nested values, escaped strings and string ids", () => {
  const m = rawMembers(' { "a" : {"x":[1,{"y":"}"}]} , "id" : "abc\\"d" , "n": -9007199254740993 , "t":true}');
  assert.equal(m?.get("a"), '{"x":[1,{"y":"}"}]}');
  assert.equal(rawId(m?.get("id")), 'abc"d');
  assert.equal(rawId(m?.get("n")), "-9007199254740993");
  assert.equal(rawId(m?.get("t")), null);
  assert.equal(rawId(undefined), null);
});

test("non-objects and broken JSON give null", () => {
  assert.equal(rawMembers("[1,2]"), null);
  assert.equal(rawMembers('{"a":'), null);
  assert.equal(rawMembers("<html>"), null);
  assert.deepEqual([...(rawMembers("{}") ?? new Map())], []);
  assert.equal(isIntegerText("123"), true);
  assert.equal(isIntegerText("1e3"), false);
});
