// Address and host-name helpers of src/core/net.ts: every loopback spelling, Host header parsing,
// and the DNS-rebinding allow-list the local API and the embedded broker share.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  allowedHostProblem,
  HostAllowList,
  hostOfHeader,
  isLoopback,
  isWildcard,
  remoteAddress,
} from "../../../src/core/net.js";

describe("isLoopback (one definition for config checks and the API)", () => {
  it("knows every spelling of the loopback addresses", () => {
    for (const h of [
      "LOCALHOST",
      "localhost.",
      "app.localhost",
      "0:0:0:0:0:0:0:1",
      "0000:0000:0000:0000:0000:0000:0000:0001",
      "::ffff:7f00:1",
      "[::ffff:127.0.0.1]",
    ])
      assert.equal(isLoopback(h), true, h);
    for (const h of ["::2", "1::1", "127.0.0.1.evil.example", "localhost.evil.example", "127.0.0.256", "::ffff:a00:1"])
      assert.equal(isLoopback(h), false, h);
  });
  it("isWildcard and remoteAddress", () => {
    for (const h of ["0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0"]) assert.equal(isWildcard(h), true, h);
    assert.equal(isWildcard("127.0.0.1"), false);
    assert.equal(remoteAddress("::ffff:10.1.2.3"), "10.1.2.3");
    assert.equal(remoteAddress("::1"), "::1");
    assert.equal(remoteAddress(undefined), "unknown");
  });
});

describe("hostOfHeader", () => {
  it("splits host and port, and refuses malformed values", () => {
    assert.deepEqual(hostOfHeader("LocalHost:8080"), { host: "localhost", port: 8080 });
    assert.deepEqual(hostOfHeader("[::1]:80"), { host: "::1", port: 80 });
    assert.deepEqual(hostOfHeader("gw.example."), { host: "gw.example", port: null });
    for (const bad of [undefined, "", "a:b:c", "[::1]x", "x y", "h:99999", "h:", "user@h", "h/x", "[nope]"])
      assert.equal(hostOfHeader(bad), null, String(bad));
  });
});

describe("HostAllowList", () => {
  it("on loopback: loopback names and addresses plus allowedHosts, nothing else", () => {
    const a = new HostAllowList({ bindHost: "127.0.0.1", allowedHosts: ["gw.example.com", "*.plant.example"] });
    for (const h of ["localhost", "127.0.0.1", "::1", "gw.example.com", "a.plant.example", "b.c.plant.example"])
      assert.equal(a.allows(h), true, h);
    for (const h of ["evil.example", "plant.example", "xplant.example", "10.0.0.1", "gw.example.com.evil.example"])
      assert.equal(a.allows(h), false, h);
  });
  it("on a specific address: that address too", () => {
    const a = new HostAllowList({ bindHost: "192.168.1.10" });
    assert.equal(a.allows("192.168.1.10"), true);
    assert.equal(a.allows("192.168.1.11"), false);
    assert.equal(new HostAllowList({ bindHost: "fe80::1" }).allows("FE80:0::1"), true);
  });
  it("on every interface: any IP literal (cannot be rebound) and the machine's name, not other names", () => {
    const a = new HostAllowList({ bindHost: "0.0.0.0", machineName: "gw01" });
    for (const h of ["10.9.9.9", "192.168.1.10", "fe80::1", "gw01", "gw01.local", "localhost"])
      assert.equal(a.allows(h), true, h);
    for (const h of ["evil.example", "gw01.evil.example"]) assert.equal(a.allows(h), false, h);
  });
  it("allowedHostProblem explains unusable entries", () => {
    assert.equal(allowedHostProblem("gw-01.plant.example"), null);
    assert.equal(allowedHostProblem("*.plant.example"), null);
    assert.equal(allowedHostProblem("10.0.0.5"), null);
    assert.match(allowedHostProblem("http://gw") ?? "", /without a scheme/);
    assert.match(allowedHostProblem("gw:8080") ?? "", /without a port/);
    assert.match(allowedHostProblem("a b") ?? "", /not a host name/);
  });
});
