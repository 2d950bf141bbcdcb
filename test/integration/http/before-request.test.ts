// beforeRequest hooks on the local API: a real HttpApi on 127.0.0.1 with a real HookManager loading
// hook files from a temp dir. Refusals answer with the platform's codes, a broken hook lets the
// request pass, the hook never sees the token, and a rewritten body reaches the handler.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { ManualClock } from "../../../src/core/clock.js";
import type { RequestInterceptor } from "../../../src/core/ports.js";
import type { RuleDefinition } from "../../../src/core/types.js";
import { type Harness as HookHarness, harness as hookHarness } from "../../fixtures/hooks/harness.js";
import { waitFor } from "../../helpers/wait.js";
import { type Harness, makeAlarm, startHarness, TOKEN } from "./fixtures.js";

const g = globalThis as unknown as { __req: { hook: string; req: unknown }[]; __reqMode: string };

const GUARD = `
class InvalidDataInput extends Error {
  constructor(fields) { super(Object.values(fields).join("; ")); this.name = "InvalidDataInput"; this.fields = fields; }
}
export default {
  async beforeRequest(req, ctx) {
    globalThis.__req.push({ hook: ctx.name, req: structuredClone(req) });
    const mode = globalThis.__reqMode;
    if (req.path === "/rule/del") throw new ctx.errors.PermissionDenied("This site forbids rule removal");
    if (req.path === "/rule/add" && req.body?.level === 5) {
      throw new InvalidDataInput({ level: "level 5 needs the site manager's approval" });
    }
    if (req.path === "/rule/update") throw new ctx.errors.ProcessingError("Rules are frozen during commissioning");
    if (req.path === "/alert/list" && mode === "bug") throw new TypeError("guard bug: cannot read 'x' of undefined");
    if (req.path === "/alert/list" && mode === "hang") return new Promise(() => {});
    if (req.path === "/alert/update") {
      req.body.remark = "[checked] " + req.body.remark;
      return req;
    }
  },
};`;

// Runs after the guard (file-name order): it sees the body as the guard left it.
const AUDIT = `
export default {
  beforeRequest(req, ctx) {
    globalThis.__req.push({ hook: ctx.name, req: structuredClone(req) });
  },
};`;

let hooks: HookHarness;
let h: Harness;

before(async () => {
  g.__req = [];
  g.__reqMode = "";
  hooks = hookHarness({ hooksConfig: { timeoutMs: 1000 } });
  hooks.write("a-guard.mjs", GUARD);
  hooks.write("b-audit.mjs", AUDIT);
  await hooks.manager.start();
  h = await startHarness({ requestInterceptor: hooks.manager.requestInterceptor });
});
after(async () => {
  await h.api.stop();
  await hooks.close();
});
beforeEach(() => {
  g.__req = [];
  g.__reqMode = "";
});

const RULE = {
  id: "meter-overvoltage",
  name: "overvoltage",
  key: "meter",
  type: "rule",
  level: 4,
  conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
};

function seeds(): void {
  h.rules.byId.set(RULE.id, {
    def: RULE as unknown as RuleDefinition,
    doc: { ...RULE },
    file: `rules/${RULE.id}.json`,
    problems: [],
  });
}

describe("beforeRequest", () => {
  it("PermissionDenied: /rule/del is 403 100403 with the hook's message and the rule still exists", async () => {
    seeds();
    const res = await h.post("/rule/del", { id: RULE.id });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { code: 100403, message: "This site forbids rule removal" });
    assert.ok(h.rules.byId.has(RULE.id), "the handler never ran");
    assert.deepEqual(
      g.__req.map((r) => r.hook),
      ["a-guard"],
      "a refusal ends the chain",
    );
    const line = hooks.logs.find((l) => String(l.msg).startsWith("local API request refused by hook a-guard"));
    assert.ok(line, "the refusal is logged with the hook's name");
    assert.equal(line.kind, "denied");
  });

  it("InvalidDataInput: 400 104001 with the message and the fields; ProcessingError: 400 104001", async () => {
    const bad = await h.post("/rule/add", { ...RULE, id: "r-5", level: 5 });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), {
      code: 104001,
      message: "level 5 needs the site manager's approval",
      fields: { level: "level 5 needs the site manager's approval" },
    });
    assert.equal(h.rules.byId.has("r-5"), false);
    const frozen = await h.post("/rule/update", RULE);
    assert.equal(frozen.status, 400);
    assert.deepEqual(await frozen.json(), { code: 104001, message: "Rules are frozen during commissioning" });
  });

  it("a plain throw is logged with the hook's name and stack, and the request passes", async () => {
    g.__reqMode = "bug";
    const res = await h.get("/alert/list");
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(((await res.json()) as { alerts: unknown[] }).alerts));
    const err = hooks.logs.find((l) => l.level === 50 && l.hook === "a-guard" && l.method === "beforeRequest");
    assert.ok(err, "the failure is logged with the hook and the method");
    assert.match(err.err?.stack ?? "", /guard bug/);
    assert.deepEqual(
      g.__req.map((r) => r.hook),
      ["a-guard", "b-audit"],
      "the next hook still runs",
    );
  });

  it("a hook that does not answer within hooks.timeoutMs is abandoned and the request passes", async () => {
    g.__reqMode = "hang";
    const pending = h.get("/alert/list?limit=1");
    await waitFor(() => g.__req.length === 1, { what: "the guard to be called" });
    // The hook's deadline runs on the hook manager's clock.
    (hooks.clock as ManualClock).advance(1000);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.ok(hooks.logs.some((l) => l.hook === "a-guard" && String(l.msg).includes("did not finish within 1000 ms")));
  });

  it("the hook sees method, path, query, body and remote only: never the token or another header", async () => {
    await h.get("/alert/list?did=meter-01&status=active", { headers: { "X-Site-Secret": "hdr-secret" } });
    const seen = g.__req[0]?.req as Record<string, unknown>;
    assert.deepEqual(Object.keys(seen).sort(), ["body", "method", "path", "query", "remote"]);
    assert.deepEqual(seen, {
      method: "GET",
      path: "/alert/list",
      query: { did: "meter-01", status: "active" },
      body: undefined,
      remote: "127.0.0.1",
    });
    const all = JSON.stringify(g.__req);
    assert.equal(all.includes(TOKEN), false);
    assert.equal(all.includes("hdr-secret"), false);
  });

  it("a returned body reaches the handler and the next hook", async () => {
    h.alarms.put(makeAlarm("al-1"));
    const res = await h.post("/alert/update", { id: "al-1", status: 0, remark: "fuse replaced", by: "j.smith" });
    assert.equal(res.status, 200);
    assert.deepEqual(h.alarms.resolves.at(-1), { id: "al-1", by: "j.smith", remark: "[checked] fuse replaced" });
    const audit = g.__req.find((r) => r.hook === "b-audit")?.req as { body: { remark: string } };
    assert.equal(audit.body.remark, "[checked] fuse replaced");
  });

  it("no hook on unauthenticated requests, /health or the page shell", async () => {
    const unauth = await fetch(`${h.base}/rule/del`, { method: "POST", body: JSON.stringify({ id: RULE.id }) });
    assert.equal(unauth.status, 401);
    const health = await fetch(`${h.base}/health`);
    assert.equal(health.status, 200);
    const page = await fetch(`${h.base}/`);
    assert.ok(page.status < 500);
    assert.deepEqual(g.__req, [], "no hook was called");
  });
});

describe("beforeRequest without a hook", () => {
  it("an inactive interceptor is never called", async () => {
    let calls = 0;
    const idle: RequestInterceptor = {
      active: false,
      beforeRequest: async () => {
        calls++;
        return { ok: false, code: 100403, httpStatus: 403, message: "must not be asked", hook: "x" };
      },
    };
    const plain = await startHarness({ requestInterceptor: idle });
    try {
      const res = await plain.post("/rule/add", { ...RULE, id: "r-idle" });
      assert.equal(res.status, 200);
      assert.equal(calls, 0);
    } finally {
      await plain.api.stop();
    }
  });
});
