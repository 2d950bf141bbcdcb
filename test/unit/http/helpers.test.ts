// Pure pieces of the local API: loopback detection, token comparison, redaction, query parsing.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isLoopback } from "../../../src/core/net.js";
import { redact } from "../../../src/core/redact.js";
import { REDACTED } from "../../../src/core/secrets.js";
import { TokenCheck } from "../../../src/http/auth.js";
import { HttpError } from "../../../src/http/errors.js";
import { parseAlarmList } from "../../../src/http/routes/alarms.js";

describe("isLoopback", () => {
  it("accepts only addresses this machine alone can reach", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"]) {
      assert.equal(isLoopback(h), true, h);
    }
    for (const h of ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com", "128.0.0.1", "::ffff:10.0.0.1"]) {
      assert.equal(isLoopback(h), false, h);
    }
  });
});

describe("TokenCheck", () => {
  it("accepts exactly Bearer <token>", () => {
    const t = new TokenCheck("abc123");
    assert.equal(t.required, true);
    assert.equal(t.accepts("Bearer abc123"), true);
    assert.equal(t.accepts("bearer  abc123 "), true);
    assert.equal(t.accepts("Bearer abc1234"), false);
    assert.equal(t.accepts("Bearer abc12"), false);
    assert.equal(t.accepts("abc123"), false);
    assert.equal(t.accepts(undefined), false);
  });
  it("an empty token means no authentication", () => {
    assert.equal(new TokenCheck("").required, false);
    assert.equal(new TokenCheck(undefined).accepts(undefined), true);
  });
});

describe("redact", () => {
  it("masks secret keys at any depth and known secret values anywhere", () => {
    const out = redact(
      {
        mqtt: { password: "pw-1234", url: "mqtt://x" },
        list: [{ token: "t-1" }, "error: secret-value-9 rejected"],
        key: "meter",
        emptyToken: { token: "" },
      },
      ["secret-value-9"],
    );
    assert.deepEqual(out, {
      mqtt: { password: REDACTED, url: "mqtt://x" },
      list: [{ token: REDACTED }, `error: ${REDACTED} rejected`],
      key: "meter",
      emptyToken: { token: "" },
    });
  });
});

describe("parseAlarmList", () => {
  it("applies the platform's defaults", () => {
    assert.deepEqual(parseAlarmList(new URLSearchParams("")), { offset: 0, limit: 100 });
  });
  it("parses every parameter", () => {
    const q = parseAlarmList(new URLSearchParams("offset=5&limit=10&order=desc&orderBy=level&q=volt&did=m1&status=1"));
    assert.deepEqual(q, { offset: 5, limit: 10, order: "desc", orderBy: "level", q: "volt", did: "m1", status: 1 });
    assert.equal(parseAlarmList(new URLSearchParams("status=active")).status, "active");
  });
  it("refuses wrong types naming the field", () => {
    for (const [qs, field] of [
      ["limit=1.5", "limit"],
      ["offset=abc", "offset"],
      ["status=open", "status"],
    ]) {
      assert.throws(
        () => parseAlarmList(new URLSearchParams(qs)),
        (e: unknown) => e instanceof HttpError && e.status === 400 && e.code === 104001 && e.extra?.field === field,
      );
    }
  });
});
