// Pure pieces of the API's guards: host-name parsing and the DNS-rebinding allow-list, the Origin
// comparison, and the failed-login tracker (bounded log lines, progressive delay, bounded memory).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AuthFailures } from "../../../src/core/auth-failures.js";
import { ManualClock } from "../../../src/core/clock.js";
import {
  allowedHostProblem,
  HostAllowList,
  hostOfHeader,
  isLoopback,
  isWildcard,
  remoteAddress,
} from "../../../src/core/net.js";
import { HostCheck, isCrossOrigin } from "../../../src/http/auth.js";
import { captureLog } from "../../helpers/harness.js";

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

function tracker(over: Partial<ConstructorParameters<typeof AuthFailures>[0]> = {}) {
  const clock = new ManualClock();
  const out = captureLog<{ level: number; msg: string; remote?: string; failures?: number; addresses?: number }>();
  const f = new AuthFailures({
    clock,
    log: out.log,
    what: "test login",
    ...over,
  });
  return { clock, out, f };
}

describe("AuthFailures", () => {
  it("delays after five failures, doubling up to the cap; forgets an address after a quiet minute", () => {
    const { clock, f } = tracker();
    const delays = Array.from({ length: 12 }, () => f.fail("10.0.0.1"));
    assert.deepEqual(delays, [0, 0, 0, 0, 0, 250, 500, 1000, 2000, 4000, 5000, 5000]);
    assert.equal(f.fail("10.0.0.2"), 0, "another address is not slowed");
    clock.advance(60_001);
    assert.equal(f.fail("10.0.0.1"), 0, "a quiet minute resets the address");
    f.stop();
  });

  it("bounds the log: first line per address, summaries per period, one aggregate beyond the budget", () => {
    const { clock, out, f } = tracker({ maxLinesPerPeriod: 3 });
    for (let i = 0; i < 1000; i++) f.fail("10.0.0.1");
    for (let a = 2; a <= 50; a++) for (let i = 0; i < 10; i++) f.fail(`10.0.0.${a}`);
    assert.equal(out.lines.length, 3, "first lines within the budget only");
    clock.advance(60_000);
    const n = out.lines.length;
    assert.ok(n <= 3 + 3 + 1, `${n} lines`);
    const total = out.lines.slice(3).reduce((s, l) => s + (l.failures ?? 0), 0);
    assert.equal(total, 999 + 9 * 2 + 10 * 47, "every failure is accounted for");
    assert.ok(out.lines.every((l) => l.level === 40));
    const aggregate = out.lines.at(-1);
    assert.match(aggregate?.msg ?? "", /other addresses/);
    f.stop();
  });

  it("keeps at most maxAddresses addresses and still counts what it dropped", () => {
    const { clock, out, f } = tracker({ maxAddresses: 100, maxLinesPerPeriod: 0 });
    for (let i = 0; i < 10_000; i++) {
      f.fail(`2001:db8::${i.toString(16)}`);
      f.fail(`2001:db8::${i.toString(16)}`);
    }
    assert.equal(f.tracked, 100);
    assert.equal(f.total, 20_000);
    clock.advance(60_000);
    assert.equal(out.lines.length, 1);
    assert.equal(out.lines[0]?.failures, 20_000);
    assert.equal(out.lines[0]?.addresses, 10_000);
    clock.advance(120_000);
    assert.equal(f.tracked, 0, "quiet addresses are forgotten");
    assert.equal(clock.pendingTimers(), 0, "no timer left once nothing is tracked");
  });

  it("cuts short when too many refusals are held, and stop() releases held ones", async () => {
    const { f } = tracker({ freeFailures: 0, maxHeld: 2 });
    const d1 = f.fail("10.0.0.1");
    const held = [f.hold(d1), f.hold(f.fail("10.0.0.1"))];
    assert.equal(f.fail("10.0.0.1"), -1);
    f.stop();
    await Promise.all(held);
  });
});
