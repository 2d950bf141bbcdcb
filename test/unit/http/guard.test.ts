// Pure pieces of the API's guards: the Host check's messages and the Origin comparison. The
// helpers they build on are tested beside their module (test/unit/core/net.test.ts,
// test/unit/core/auth-failures.test.ts).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HostCheck, isCrossOrigin } from "../../../src/http/auth.js";

describe("HostCheck and isCrossOrigin", () => {
  const check = new HostCheck({ bindHost: "127.0.0.1", allowedHosts: ["gw.example"] });
  it("gives a message a site engineer can act on", () => {
    const bad = check.check("evil.example:8080");
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.message, /"evil\.example".*http\.allowedHosts/);
    const none = check.check(undefined);
    assert.equal(none.ok, false);
    if (!none.ok) assert.match(none.message, /no Host header/);
    assert.deepEqual(check.check("gw.example:8080"), { ok: true, host: "gw.example", port: 8080 });
  });
  it("compares Origin with the validated host and port", () => {
    const host = { host: "localhost", port: 8080 };
    assert.equal(isCrossOrigin(undefined, host), false);
    assert.equal(isCrossOrigin("http://localhost:8080", host), false);
    assert.equal(isCrossOrigin("http://LOCALHOST:8080", host), false);
    assert.equal(isCrossOrigin("http://localhost:8081", host), true);
    assert.equal(isCrossOrigin("http://evil.example:8080", host), true);
    assert.equal(isCrossOrigin("null", host), true);
    assert.equal(isCrossOrigin("garbage", host), true);
    assert.equal(isCrossOrigin("http://localhost", { host: "localhost", port: null }), false);
  });
});
