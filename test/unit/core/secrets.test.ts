import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger } from "../../../src/core/log.js";
import { maskForms, maskText } from "../../../src/core/secrets.js";

function capture(): { stream: Writable; text: () => string } {
  let buf = "";
  const stream = new Writable({
    write(chunk, _enc, cb) {
      buf += String(chunk);
      cb();
    },
  });
  return { stream, text: () => buf };
}

test("a secret holding quotes and backslashes is masked in the serialized log line", () => {
  const secret = 'pa"ss\\word-42';
  const out = capture();
  const log = createLogger({ secrets: [secret], destination: out.stream });
  log.warn({ detail: `upstream said: ${secret}` }, `connect failed with ${secret}`);
  const line = out.text();
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
