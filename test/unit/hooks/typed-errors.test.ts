// The typed hook errors: exported by the package entry and given on ctx.errors; a method that
// cannot refuse (observers, beforeAlarm, kpis…) logs one with the hook's name, the error's name
// and message, and counts it like any failure.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import * as pkg from "../../../src/index.js";
import { type Harness, harness, sampleAlarm } from "../../fixtures/hooks/harness.js";
import { waitFor } from "../../helpers/wait.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

test("the package entry exports the typed errors; InvalidDataInput carries its fields", () => {
  const denied = new pkg.PermissionDenied("This site forbids user removal");
  assert.equal(denied.name, "PermissionDenied");
  assert.equal(pkg.hookErrorKind(denied), "denied");
  const invalid = new pkg.InvalidDataInput({ password: "too short" });
  assert.deepEqual(invalid.fields, { password: "too short" });
  assert.equal(invalid.message, "password: too short");
  assert.equal(new pkg.ProcessingError().message, "Blocked by hook");
  assert.equal(pkg.hookErrorKind(new Error("x")), null);
});

test("ctx.errors gives hooks the same classes", async () => {
  h = harness();
  h.write(
    "probe.mjs",
    `export default { start(ctx) {
      const e = new ctx.errors.InvalidDataInput({ level: "bad" });
      globalThis.__probe = { names: Object.keys(ctx.errors), e };
    } };`,
  );
  await h.manager.start();
  const probe = (globalThis as unknown as { __probe: { names: string[]; e: Error } }).__probe;
  assert.deepEqual(probe.names.sort(), ["InvalidDataInput", "PermissionDenied", "ProcessingError"]);
  assert.ok(probe.e instanceof pkg.InvalidDataInput, "the very class the package exports");
});

test("a typed error where nothing can be refused is a failure logged with name and message, no stack", async () => {
  h = harness();
  h.write(
    "thrower.mjs",
    `export default {
      onAlarmResolved(alarm, device, ctx) { throw new ctx.errors.PermissionDenied("not on my shift"); },
      beforeAlarm(alarm, device, rule, ctx) { throw new ctx.errors.ProcessingError("too many alarms"); },
    };`,
  );
  await h.manager.start();
  const device = {
    id: "meter-01",
    product: "meter",
    status: "online" as const,
    lastSeen: 1,
    values: {},
    source: "mqtt" as const,
  };
  h.events.emit("alarmResolved", sampleAlarm({ status: 0 }), device);
  const line = await waitFor(() => h.logs.find((l) => l.hook === "thrower" && l.method === "onAlarmResolved"), {
    what: "the observer's failure",
  });
  assert.equal(line.level, 50);
  assert.equal(line.error, "PermissionDenied");
  assert.equal(line.reason, "not on my shift");
  assert.equal(line.err, undefined, "no stack for a typed error");
  assert.match(line.msg, /^hook thrower: onAlarmResolved threw PermissionDenied: not on my shift/);

  const rule = { id: "r-1", name: "r", key: "meter", type: "rule", level: 4, conditions: { all: [] } };
  const kept = await h.manager.alarmInterceptor.beforeAlarm(sampleAlarm(), device, rule as never);
  assert.equal(kept?.title, "Over-voltage", "beforeAlarm cannot refuse: the alarm goes on unchanged");
  assert.ok(h.logs.some((l) => l.hook === "thrower" && l.method === "beforeAlarm" && l.error === "ProcessingError"));
  assert.equal(h.manager.list().find((i) => i.name === "thrower")?.errors, 2);
});
