// beforeRequest chains through a real HookManager: load order, each hook's own copy, body rewrites
// only for POST, a malformed answer logged and ignored, the first refusal ends the chain.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import type { ApiRequest } from "../../../src/core/ports.js";
import { type Harness, harness } from "../../fixtures/hooks/harness.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const g = globalThis as unknown as { __chain: unknown[] };
const post = (body: Record<string, unknown>): ApiRequest => ({
  method: "POST",
  path: "/alert/update",
  query: {},
  body,
  remote: "10.0.0.7",
});

test("no hook defines beforeRequest: the port is inactive", async () => {
  h = harness();
  h.write("obs.mjs", "export default { onReading() {} };");
  await h.manager.start();
  assert.equal(h.manager.requestInterceptor.active, false);
});

test("hooks run in load order, each sees the previous body; a hook's changes without return are dropped", async () => {
  h = harness();
  g.__chain = [];
  h.write(
    "a.mjs",
    `export default { beforeRequest(req) { globalThis.__chain.push(["a", req.body.n]); return { ...req, body: { n: req.body.n + 1 } }; } };`,
  );
  h.write(
    "b.mjs",
    `export default { beforeRequest(req) { globalThis.__chain.push(["b", req.body.n]); req.body.n = 99; } };`,
  );
  h.write(
    "c.mjs",
    `export default { async beforeRequest(req) { globalThis.__chain.push(["c", req.body.n]); return { ...req, body: { n: req.body.n * 10 } }; } };`,
  );
  await h.manager.start();
  const port = h.manager.requestInterceptor;
  assert.equal(port.active, true);
  const input = post({ n: 1 });
  assert.deepEqual(await port.beforeRequest(input), { ok: true, body: { n: 20 } });
  assert.deepEqual(g.__chain, [
    ["a", 1],
    ["b", 2],
    ["c", 2],
  ]);
  assert.deepEqual(input.body, { n: 1 }, "the server's request is never changed in place");
  // A GET has no body to replace: whatever a hook returns, the request passes as it is.
  g.__chain = [];
  assert.deepEqual(
    await port.beforeRequest({ method: "GET", path: "/alert/list", query: {}, body: undefined, remote: "x" }),
    { ok: true },
  );
});

test("a body that is not an object is a failure (logged, counted) and the previous body goes on", async () => {
  h = harness();
  h.write("bad.mjs", `export default { beforeRequest(req) { return { ...req, body: "text" }; } };`);
  await h.manager.start();
  assert.deepEqual(await h.manager.requestInterceptor.beforeRequest(post({ n: 1 })), { ok: true });
  assert.ok(h.logs.some((l) => l.hook === "bad" && String(l.msg).includes("whose body is string")));
  assert.equal(h.manager.list()[0]?.errors, 1);
});

test("the first refusal ends the chain and says which hook refused", async () => {
  h = harness();
  g.__chain = [];
  h.write("a.mjs", `export default { beforeRequest(req, ctx) { throw new ctx.errors.PermissionDenied(); } };`);
  h.write("b.mjs", `export default { beforeRequest() { globalThis.__chain.push("b"); } };`);
  await h.manager.start();
  assert.deepEqual(await h.manager.requestInterceptor.beforeRequest(post({})), {
    ok: false,
    httpStatus: 403,
    code: 100403,
    message: "Permission denied",
    hook: "a",
  });
  assert.deepEqual(g.__chain, []);
  assert.equal(h.manager.list()[0]?.errors, 0, "a refusal is not a failure");
});
