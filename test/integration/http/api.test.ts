// The local API over a real HTTP server on 127.0.0.1: auth, every endpoint's happy path and its
// bad inputs, rule round-trip, manual resolve, live events, and secret redaction.

import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { resolveHttp } from "../../../src/config/defaults.js";
import { AgentError } from "../../../src/core/errors.js";
import { silentLogger } from "../../../src/core/log.js";
import { testBus } from "../../helpers/harness.js";
import { waitFor } from "../../helpers/wait.js";
import { APP_SECRET, type Harness, MQTT_PASSWORD, makeAlarm, startHarness, TOKEN } from "./fixtures.js";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.api.stop();
});

const RULE = {
  id: "meter-overvoltage",
  name: "overvoltage",
  key: "meter",
  type: "rule",
  level: 4,
  conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
};

describe("authentication", () => {
  const protectedRoutes: [string, string][] = [
    ["GET", "/metrics"],
    ["GET", "/status"],
    ["GET", "/events"],
    ["GET", "/alert/list"],
    ["GET", "/alert/get?id=x"],
    ["POST", "/alert/update"],
    ["GET", "/rule/list"],
    ["GET", "/rule/get?id=x"],
    ["POST", "/rule/add"],
    ["POST", "/rule/update"],
    ["POST", "/rule/del"],
    ["GET", "/hooks/list"],
    ["POST", "/hooks/load"],
    ["POST", "/hooks/unload"],
  ];
  for (const [method, path] of protectedRoutes) {
    it(`${method} ${path} without a token is 401 100401`, async () => {
      const res = await fetch(h.base + path, { method, ...(method === "POST" ? { body: "{}" } : {}) });
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { code: 100401, message: "Unauthorized" });
    });
  }
  it("a wrong token is refused, a right one accepted", async () => {
    const wrong = await fetch(`${h.base}/status`, { headers: { Authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
    const basic = await fetch(`${h.base}/status`, { headers: { Authorization: `Basic ${TOKEN}` } });
    assert.equal(basic.status, 401);
    const right = await fetch(`${h.base}/status`, { headers: { Authorization: `bearer ${TOKEN}` } });
    assert.equal(right.status, 200);
  });
  it("/health and the page shell need no token, and the shell holds no token", async () => {
    assert.equal((await fetch(`${h.base}/health`)).status, 200);
    for (const p of ["/", "/assets/app.js", "/assets/app.css"]) {
      const res = await fetch(h.base + p);
      assert.equal(res.status, 200, p);
      assert.ok(!(await res.text()).includes(TOKEN), p);
    }
  });
  it("a cross-origin POST is 403 100403", async () => {
    const res = await h.post("/rule/del", { id: "x" }, { headers: { Origin: "http://evil.example" } });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { code: number }).code, 100403);
  });
  it("refuses to start beyond loopback without a token", async () => {
    const log = silentLogger();
    const { HttpApi } = await import("../../../src/http/server.js");
    for (const token of [undefined, ""]) {
      const api = new HttpApi({
        ...minimalOptions(log),
        config: resolveHttp({ host: "0.0.0.0", port: 0, ...(token === undefined ? {} : { token }) }),
      });
      await assert.rejects(api.start(), (err: unknown) => {
        assert.ok(err instanceof AgentError);
        assert.equal(err.code, "EA_CONFIG_INVALID");
        assert.match(err.message, /http\.token/);
        return true;
      });
    }
  });
  it("a port another program holds is EA_PORT_IN_USE, naming the address and the setting", async () => {
    const { HttpApi } = await import("../../../src/http/server.js");
    const api = new HttpApi({ ...minimalOptions(silentLogger()), config: resolveHttp({ port: h.api.port }) });
    await assert.rejects(api.start(), (err: unknown) => {
      assert.ok(err instanceof AgentError);
      assert.equal(err.code, "EA_PORT_IN_USE");
      assert.match(err.message, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${h.api.port}: .*change http\\.port`));
      return true;
    });
    await api.stop();
  });
});

function minimalOptions(log: ReturnType<typeof silentLogger>) {
  return {
    config: resolveHttp(undefined),
    gatewayId: "g",
    version: "0",
    clock: h.clock,
    log,
    metrics: h.metrics,
    events: testBus(log),
    devices: h.devices,
    alarms: h.alarms,
    tracker: h.alarms,
    rules: h.rules,
    health: () => ({ ok: true, parts: {} }),
    publicConfig: () => ({}),
  };
}

describe("routing", () => {
  it("unknown route is 404, wrong method 405 with Allow", async () => {
    const res = await h.get("/nope");
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: number }).code, 100404);
    const m = await h.get("/rule/add");
    assert.equal(m.status, 405);
    assert.equal(m.headers.get("allow"), "POST");
  });
});

describe("health, metrics, status", () => {
  it("/health is 503 naming the failing part", async () => {
    h.healthy.ok = false;
    try {
      const res = await fetch(`${h.base}/health`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as { ok: boolean; failing: string[]; parts: Record<string, unknown> };
      assert.equal(body.ok, false);
      assert.deepEqual(body.failing, ["mqtt"]);
    } finally {
      h.healthy.ok = true;
    }
  });

  it("/metrics is Prometheus text with runtime, alarm and outbox gauges", async () => {
    h.alarms.put(makeAlarm("m-1", { status: 2 }));
    h.alarms.put(makeAlarm("m-2", { status: 1 }));
    h.alarms.put(makeAlarm("m-3", { status: 2 }));
    h.metrics.counter("edge_readings_total", "Readings ingested, by source").inc({ source: "modbus" }, 50);
    h.clock.advance(5000);
    try {
      const res = await h.get("/metrics");
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      assert.match(text, /^edge_alarms_by_status\{status="2"\} 2$/m);
      assert.match(text, /^edge_alarms_by_status\{status="1"\} 1$/m);
      assert.match(text, /^edge_outbox_pending 7$/m);
      assert.match(text, /^edge_outbox_oldest_pending_age_seconds 93$/m);
      assert.match(text, /^edge_readings_per_second\{source="modbus"\} 10$/m);
      assert.match(text, /^edge_event_loop_lag_seconds\{quantile="0\.99"\} [0-9.e-]+$/m);
      assert.match(text, /^edge_process_resident_memory_bytes [1-9][0-9]*$/m);
      assert.match(text, /^# TYPE edge_http_requests_total counter$/m);
    } finally {
      for (const id of ["m-1", "m-2", "m-3"]) h.alarms.byId.delete(id);
    }
  });

  it("/status shows devices, alarms with work orders, outbox, hooks and rule problems — without secrets", async () => {
    h.alarms.put(makeAlarm("s-1", { workOrderId: "1234567890123456789" }));
    h.rules.problemList = [{ file: "rules/bad.json", path: "$.level", message: "must be an integer 0–5" }];
    await h.hooks.load("audit");
    try {
      const res = await h.get("/status");
      assert.equal(res.status, 200);
      const text = await res.text();
      const body = JSON.parse(text) as { code: number; data: any };
      assert.equal(body.code, 0);
      const d = body.data;
      assert.equal(d.gateway.id, "gw-test");
      assert.equal(d.gateway.version, "9.9.9");
      assert.equal(d.devices[0].id, "meter-01");
      assert.equal(d.devices[0].values.voltage, 231.5);
      assert.equal(d.alarms.active[0].workOrderId, "1234567890123456789");
      assert.equal(d.alarms.active[0].device.id, "meter-01");
      assert.equal(d.outbox.pending, 7);
      assert.equal(d.hooks[0].name, "audit");
      assert.equal(d.rules.problems[0].file, "rules/bad.json");
      for (const secret of [TOKEN, APP_SECRET, MQTT_PASSWORD]) assert.ok(!text.includes(secret), `leaked ${secret}`);
      assert.equal(d.config.workOrders.appSecret, "[REDACTED]");
      assert.match(d.outbox.lastErrors.alarm.message, /\[REDACTED\]/);
    } finally {
      h.alarms.byId.delete("s-1");
      h.rules.problemList = [];
      await h.hooks.unload("audit");
    }
  });
});

describe("alarms", () => {
  before(() => {
    for (let i = 0; i < 5; i++) {
      h.alarms.put(
        makeAlarm(`a-${i}`, {
          created: 1000 + i,
          level: i,
          status: i % 2 === 0 ? 2 : 0,
          resource: { id: i < 3 ? "meter-01" : "meter-02", product: "meter" },
          title: i === 4 ? "Breaker tripped" : "Over-voltage",
        }),
      );
    }
  });
  after(() => {
    for (let i = 0; i < 5; i++) h.alarms.byId.delete(`a-${i}`);
  });

  it("/alert/list pages and sorts in the platform's shape", async () => {
    const res = await h.get("/alert/list?offset=1&limit=2&order=desc&orderBy=created");
    const body = (await res.json()) as { total: number; offset: number; limit: number; alerts: any[] };
    assert.equal(body.total, 5);
    assert.equal(body.offset, 1);
    assert.equal(body.limit, 2);
    assert.deepEqual(
      body.alerts.map((a) => a.id),
      ["a-3", "a-2"],
    );
    assert.equal(body.alerts[0].device.id, "meter-02");
  });

  it("/alert/list filters by status, did and q", async () => {
    const active = (await (await h.get("/alert/list?status=active")).json()) as { total: number };
    assert.equal(active.total, 3);
    const resolved = (await (await h.get("/alert/list?status=0&did=meter-01")).json()) as { alerts: any[] };
    assert.deepEqual(
      resolved.alerts.map((a) => a.id),
      ["a-1"],
    );
    const q = (await (await h.get("/alert/list?q=breaker")).json()) as { alerts: any[] };
    assert.deepEqual(
      q.alerts.map((a) => a.id),
      ["a-4"],
    );
  });

  for (const [query, field] of [
    ["limit=ten", "limit"],
    ["limit=5000", "limit"],
    ["offset=-1", "offset"],
    ["order=sideways", "order"],
    ["orderBy=password", "orderBy"],
    ["status=7", "status"],
  ]) {
    it(`/alert/list?${query} is 400 104001 naming ${field}`, async () => {
      const res = await h.get(`/alert/list?${query}`);
      assert.equal(res.status, 400);
      const body = (await res.json()) as { code: number; message: string; field: string };
      assert.equal(body.code, 104001);
      assert.equal(body.field, field);
      assert.match(body.message, new RegExp(`Invalid parameter: ${field}`));
    });
  }

  it("/alert/get returns one alarm, 400 without id, 404 for an unknown id", async () => {
    const ok = await h.get("/alert/get?id=a-2");
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { id: string }).id, "a-2");
    const miss = await h.get("/alert/get");
    assert.equal(miss.status, 400);
    assert.deepEqual(await miss.json(), { code: 104001, message: "Miss required parameter: id", field: "id" });
    const unknown = await h.get("/alert/get?id=zzz");
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { code: number }).code, 104004);
  });

  it("/alert/update resolves manually through the tracker, which emits the resolve", async () => {
    let emitted: string | undefined;
    const off = h.events.on("alarmResolved", (a) => {
      emitted = a.id;
    });
    try {
      const res = await h.post("/alert/update", { id: "a-0", status: 0, remark: "fuse replaced" });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { id: string; status: number; resolvedAt: number };
      assert.equal(body.status, 0);
      assert.equal(body.resolvedAt, h.clock.now());
      assert.equal(emitted, "a-0");
      assert.deepEqual(h.alarms.resolves.at(-1), { id: "a-0", by: "operator", remark: "fuse replaced" });
      assert.equal(h.alarms.get("a-0")?.status, 0);
      const again = await h.post("/alert/update", { id: "a-0", status: 0 });
      assert.equal(again.status, 409);
    } finally {
      off();
    }
  });

  for (const [name, body, status, code, re] of [
    ["missing id", { status: 0 }, 400, 104001, /Miss required parameter: id/],
    ["missing status", { id: "a-2" }, 400, 104001, /Miss required parameter: status/],
    ["id of wrong type", { id: 5, status: 0 }, 400, 104001, /Invalid parameter: id/],
    ["status other than 0", { id: "a-2", status: 2 }, 400, 104001, /Invalid parameter: status/],
    ["unknown id", { id: "nope", status: 0 }, 404, 104004, /No alarm with id nope/],
    ["malformed JSON", '{"id": "a-2", ', 400, 104001, /Malformed JSON body/],
    ["an array body", "[1,2]", 400, 104001, /Invalid parameter: body/],
    ["an empty body", "", 400, 104001, /Miss required parameter: body/],
  ] as const) {
    it(`/alert/update with ${name} is ${status} ${code}`, async () => {
      const res = await h.post("/alert/update", body);
      assert.equal(res.status, status);
      const out = (await res.json()) as { code: number; message: string };
      assert.equal(out.code, code);
      assert.match(out.message, re);
      assert.equal(h.alarms.get("a-2")?.status, 2, "nothing was resolved");
    });
  }

  it("a huge body is 413 104013 and the server keeps serving", async () => {
    const huge = JSON.stringify({ id: "a-2", status: 0, pad: "x".repeat(400 * 1024) });
    const res = await h.post("/alert/update", huge);
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { code: number }).code, 104013);
    // Also without Content-Length (chunked): the limit is enforced while reading.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${h.base}/rule/add`,
        { method: "POST", headers: { Authorization: `Bearer ${TOKEN}`, "Transfer-Encoding": "chunked" } },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      for (let i = 0; i < 40; i++) req.write("y".repeat(16 * 1024));
      req.end();
    });
    assert.equal(chunked, 413);
    assert.equal((await h.get("/alert/get?id=a-2")).status, 200);
  });
});

describe("rules", () => {
  it("add → get → list → update → del answer the rule object itself, file beside it", async () => {
    const add = await h.post("/rule/add", RULE);
    assert.equal(add.status, 200);
    const shaped = { ...RULE, file: "rules/meter-overvoltage.json" };
    assert.deepEqual(await add.json(), shaped);
    assert.deepEqual(await (await h.get(`/rule/get?id=${RULE.id}`)).json(), shaped);
    const list = (await (await h.get("/rule/list")).json()) as Record<string, unknown>;
    assert.deepEqual(list, { total: 1, offset: 0, limit: 100, rules: [shaped], problems: [] });
    const upd = await h.post("/rule/update", { ...RULE, level: 5 });
    assert.equal(upd.status, 200);
    assert.equal(((await upd.json()) as { level: number }).level, 5);
    assert.equal(h.rules.get(RULE.id)?.def.level, 5);
    const del = await h.post("/rule/del", { id: RULE.id });
    assert.deepEqual(await del.json(), { ...shaped, level: 5 }, "the deleted rule is returned");
    const gone = await h.get(`/rule/get?id=${RULE.id}`);
    assert.equal(gone.status, 404);
    assert.deepEqual(await gone.json(), {
      code: 104004,
      message: "Rule not found: meter-overvoltage",
      id: "meter-overvoltage",
    });
  });

  it("a bad rule is refused with 104001 naming the field", async () => {
    const { key: _k, ...noKey } = RULE;
    const res = await h.post("/rule/add", noKey);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: number; message: string; field: string; problems: unknown[] };
    assert.equal(body.code, 104001);
    assert.equal(body.message, "Miss required parameter: key");
    assert.equal(body.field, "key");
    const bad = (await (await h.post("/rule/add", { ...RULE, level: 9 })).json()) as { message: string; field: string };
    assert.equal(bad.field, "level");
    assert.match(bad.message, /^Invalid parameter: level \(must be an integer 0–5\)$/);
    assert.equal(h.rules.byId.size, 0);
  });

  it("unknown ids are 404 104004; a missing id is 400 104001; list parameters are checked", async () => {
    for (const res of [
      await h.post("/rule/update", { ...RULE, id: "ghost" }),
      await h.post("/rule/del", { id: "ghost" }),
    ]) {
      assert.equal(res.status, 404);
      assert.deepEqual(await res.json(), { code: 104004, message: "Rule not found: ghost", id: "ghost" });
    }
    const miss = await h.post("/rule/del", {});
    assert.equal(miss.status, 400);
    assert.equal(((await miss.json()) as { message: string }).message, "Miss required parameter: id");
    assert.equal((await h.get("/rule/get")).status, 400);
    for (const q of ["limit=x", "limit=5000", "offset=-1", "order=up", "orderBy=conditions"]) {
      const res = await h.get(`/rule/list?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(((await res.json()) as { code: number }).code, 104001);
    }
  });
});

describe("hooks", () => {
  it("load, list, unload, and unknown names", async () => {
    const load = await h.post("/hooks/load", { name: "kpi" });
    assert.equal(load.status, 200);
    const list = (await (await h.get("/hooks/list")).json()) as { data: { hooks: { name: string }[] } };
    assert.deepEqual(
      list.data.hooks.map((x) => x.name),
      ["kpi"],
    );
    assert.equal((await h.post("/hooks/unload", { name: "kpi" })).status, 200);
    assert.equal(h.hooks.byName.size, 0);
    assert.equal((await h.post("/hooks/load", { name: "ghost" })).status, 404);
    assert.equal((await h.post("/hooks/unload", { name: "kpi" })).status, 404);
    const bad = await h.post("/hooks/load", { name: ["kpi"] });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /Invalid parameter: name/);
  });
});

describe("live events", () => {
  it("/events streams alarm changes at once and device values coalesced per second", async () => {
    const ctrl = new AbortController();
    const res = await h.get("/events", { signal: ctrl.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const reader = res.body!.getReader();
    let text = "";
    const dec = new TextDecoder();
    const readUntil = async (re: RegExp) =>
      waitFor(
        async () => {
          if (re.test(text)) return true;
          const { value } = await reader.read();
          if (value) text += dec.decode(value);
          return re.test(text);
        },
        { what: String(re), timeoutMs: 5000 },
      );
    await readUntil(/retry: 2000/);
    const dev = h.devices.get("meter-01")!;
    const leaky = makeAlarm("live-1", { details: { note: `pushed with ${APP_SECRET}`, token: TOKEN } });
    h.events.emit("alarmCreated", leaky, dev, RULE as never);
    await readUntil(/event: alarm\ndata: .*"live-1"/);
    assert.ok(!text.includes(APP_SECRET) && !text.includes(TOKEN), "events carry no secret");
    dev.values.voltage = 244.4;
    h.events.emit("reading", { deviceId: "meter-01", product: "meter", ts: 1, values: {}, source: "modbus" }, dev);
    assert.ok(!/event: devices/.test(text), "device values wait for the flush");
    h.clock.advance(1000);
    await readUntil(/event: devices\ndata: .*244\.4/);
    ctrl.abort();
  });
});

describe("log hygiene", () => {
  it("no secret reaches the log, whatever the requests carried", async () => {
    await h.post("/alert/update", { id: "nope", status: 0, password: MQTT_PASSWORD });
    await h.get(`/alert/list?q=${TOKEN}`);
    await fetch(`${h.base}/status`, { headers: { Authorization: "Bearer wrong-token-value" } });
    await h.get("/status");
    const text = h.logs.text;
    assert.ok(text.includes("local API listening"), "the log was captured");
    for (const secret of [TOKEN, APP_SECRET, MQTT_PASSWORD]) assert.ok(!text.includes(secret), `log leaked ${secret}`);
  });
});
