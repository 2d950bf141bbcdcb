// The hook author's types (src/index.ts, published as `edge-agent`): a typed hook object and a hook
// class compile and behave as typed; `tsc -p test/tsconfig.json` is the other half of this test.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Alarm, Hook, HookClass, HookContext, KpiPeriod, Reading } from "../../../src/index.js";

const typed: Hook = {
  beforeAlarm(alarm: Alarm): Alarm | null {
    return alarm.level >= 4 ? { ...alarm, title: `[critical] ${alarm.title}` } : null;
  },
  async onReading(reading: Reading, _device, ctx: HookContext): Promise<void> {
    ctx.kv.set("last", reading.ts);
  },
  kpis(period: KpiPeriod): Record<string, number> {
    return { [period]: 1 };
  },
};

class Typed implements Hook {
  constructor(readonly ctx: HookContext) {}
  kpis(): Record<string, number> {
    return { name: this.ctx.name.length };
  }
}
const ctor: HookClass = Typed;

test("typed hooks behave as their types say", async () => {
  const alarm = { level: 4, title: "t" } as Alarm;
  assert.equal((await typed.beforeAlarm?.(alarm, {} as never, {} as never, {} as HookContext))?.title, "[critical] t");
  assert.deepEqual(await typed.kpis?.("month", {} as HookContext), { month: 1 });
  assert.deepEqual(new ctor({ name: "abc" } as HookContext).kpis?.("today", {} as HookContext), { name: 3 });
});
