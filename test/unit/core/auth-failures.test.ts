// The failed-login tracker shared by the local API and the embedded MQTT broker: bounded log
// lines, progressive delay, bounded memory, all on the injected clock.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AuthFailures } from "../../../src/core/auth-failures.js";
import { ManualClock } from "../../../src/core/clock.js";
import { captureLog } from "../../helpers/harness.js";

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
