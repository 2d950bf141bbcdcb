// Only one hook may define beforeDeviceStatus: a second one is refused at load (listed as failed
// with a message naming both, reported by validate), the owner keeps intercepting, reloading the
// owner keeps it, and once the owner is gone the refused hook loads.
import assert from "node:assert/strict";
import { utimesSync } from "node:fs";
import { afterEach, test } from "node:test";
import { exclusiveConflict } from "../../../src/hooks/exclusive.js";
import { EXCLUSIVE_METHODS } from "../../../src/hooks/types.js";
import { validateHooksDir } from "../../../src/hooks/validate-dir.js";
import { type Harness, harness } from "../../fixtures/hooks/harness.js";
import { waitFor } from "../../helpers/wait.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const OWNER = (status: string) =>
  `export default { beforeDeviceStatus(c) { return { ...c, status: "${status}", reason: "by a" }; } };`;
const OTHER = `export default { beforeDeviceStatus() { return null; }, onReading() {} };`;

const change = {
  device: { id: "d1", product: "p", status: "online" as const, lastSeen: 1, values: {}, source: "mqtt" as const },
  from: "online" as const,
  to: "offline" as const,
  reason: "silent",
};

function touch(file: string, sec: number): void {
  utimesSync(file, sec, sec);
}

test("exclusivity is declared in one place: beforeDeviceStatus, with what it intercepts", () => {
  assert.deepEqual(Object.keys(EXCLUSIVE_METHODS), ["beforeDeviceStatus"]);
  const c = exclusiveConflict({ name: "b", file: "hooks/b.mjs", methods: ["beforeDeviceStatus"] }, [
    { name: "a", file: "hooks/a.mjs", methods: new Set(["beforeDeviceStatus", "onReading"]) },
  ]);
  assert.equal(
    c?.message,
    "hooks/b.mjs: beforeDeviceStatus is already owned by hook 'a' (hooks/a.mjs); only one hook may intercept " +
      "device status changes — remove the method from one of them",
  );
  assert.equal(
    exclusiveConflict({ name: "a", file: "hooks/a.mjs", methods: ["beforeDeviceStatus"] }, [
      { name: "a", file: "hooks/a.mjs", methods: ["beforeDeviceStatus"] },
    ]),
    undefined,
    "a hook's own previous version is no rival",
  );
});

test("a second hook defining beforeDeviceStatus is refused with both names; the first keeps intercepting", async () => {
  h = harness();
  const a = h.write("a.mjs", OWNER("maintenance"));
  const b = h.write("b.mjs", OTHER);
  await h.manager.start();
  const list = h.manager.list();
  assert.equal(list.find((i) => i.name === "a")?.state, "running");
  const refused = list.find((i) => i.name === "b");
  assert.equal(refused?.state, "failed");
  assert.equal(
    refused?.lastError,
    `${b}: beforeDeviceStatus is already owned by hook 'a' (${a}); only one hook may intercept device status ` +
      "changes — remove the method from one of them",
  );
  const logged = h.logs.find((l) => l.level === 50 && l.hook === "b");
  assert.match(String(logged?.msg), /hook b: not loaded: .*already owned by hook 'a'/);
  const v = await h.manager.statusInterceptor.beforeDeviceStatus(change);
  assert.deepEqual(v, { apply: true, status: "maintenance", reason: "by a" }, "the owner answers");

  // The API refuses it too, with the same message.
  const loaded = await h.manager.load("b");
  assert.equal(loaded.ok, false);
  assert.match(loaded.ok ? "" : (loaded.problems[0]?.message ?? ""), /already owned by hook 'a'/);

  // validate reports the same conflict, on the second file.
  const problems = await validateHooksDir(h.dir);
  assert.deepEqual(
    problems.map((p) => [p.file, p.path]),
    [[b, "$.beforeDeviceStatus"]],
  );
  assert.match(problems[0]?.message ?? "", /already owned by hook 'a'/);
});

test("reloading the owner keeps ownership; unloading it frees the slot and the refused hook loads", async () => {
  h = harness();
  const a = h.write("a.mjs", OWNER("maintenance"));
  h.write("b.mjs", OTHER);
  await h.manager.start();
  // The owner's file changes: it is reloaded and still owns the method.
  h.write("a.mjs", OWNER("alarm"));
  touch(a, 2_000_000_000);
  await h.manager.rescan();
  assert.equal(h.manager.list().find((i) => i.name === "a")?.state, "running");
  assert.deepEqual(await h.manager.statusInterceptor.beforeDeviceStatus(change), {
    apply: true,
    status: "alarm",
    reason: "by a",
  });
  assert.equal(h.manager.list().find((i) => i.name === "b")?.state, "failed");

  const un = await h.manager.unload("a");
  assert.equal(un.ok, true);
  await h.manager.rescan();
  await waitFor(() => h.manager.list().find((i) => i.name === "b")?.state === "running", { what: "b to load" });
  const v = await h.manager.statusInterceptor.beforeDeviceStatus(change);
  assert.equal(v.apply, false, "b now owns it (it vetoes)");
  assert.equal(v.apply === false && v.hook, "b");

  // Now a is the second one: loading it through the API is refused, naming b.
  const again = await h.manager.load("a");
  assert.equal(again.ok, false);
  assert.match(again.ok ? "" : (again.problems[0]?.message ?? ""), /beforeDeviceStatus is already owned by hook 'b'/);
});

test("a running hook whose new version adds beforeDeviceStatus while another owns it keeps its old version", async () => {
  h = harness();
  h.write("a.mjs", OWNER("maintenance"));
  const b = h.write("b.mjs", "export default { onReading() {} };");
  await h.manager.start();
  h.write("b.mjs", OTHER);
  touch(b, 2_000_000_000);
  await h.manager.rescan();
  const info = h.manager.list().find((i) => i.name === "b");
  assert.equal(info?.state, "running");
  assert.deepEqual(info?.methods, ["onReading"], "the previous version keeps running");
  assert.match(info?.lastError ?? "", /already owned by hook 'a'/);
  assert.ok(h.logs.some((l) => String(l.msg).includes("new version not loaded") && l.hook === "b"));
  // Deleting the owner's method (editing a) frees it: b's new version loads at the next rescan.
  const a = h.write("a.mjs", "export default { onReading() {} };");
  touch(a, 2_000_000_001);
  await h.manager.rescan();
  await h.manager.rescan();
  await waitFor(
    () =>
      h.manager
        .list()
        .find((i) => i.name === "b")
        ?.methods.includes("beforeDeviceStatus"),
    { what: "b's new version" },
  );
  assert.equal((await h.manager.statusInterceptor.beforeDeviceStatus(change)).apply, false);
});
