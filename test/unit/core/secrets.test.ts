import assert from "node:assert/strict";
import { test } from "node:test";
import { maskForms, maskText } from "../../../src/core/secrets.js";
import { captureLog } from "../../helpers/harness.js";

test("a secret holding quotes and backslashes is masked in the serialized log line", () => {
  const secret = 'pa"ss\\word-42';
  const out = captureLog({ secrets: [secret] });
  out.log.warn({ detail: `upstream said: ${secret}` }, `connect failed with ${secret}`);
  const line = out.text;
  assert.ok(line.includes("[REDACTED]"), line);
  assert.ok(!line.includes("ss\\\\word"), line);
  assert.ok(!line.includes("word-42"), line);
});

test("a secret that contains another is masked whole", () => {
  const forms = maskForms(["abcd", "xxabcdyy"]);
  assert.equal(maskText("[xxabcdyy] [abcd]", forms), "[[REDACTED]] [[REDACTED]]");
});

test("secrets shorter than four characters are not masked (they would hide ordinary words)", () => {
  assert.equal(maskText("on off", maskForms(["on"])), "on off");
});
