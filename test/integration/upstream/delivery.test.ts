// Store-and-forward against a real HTTP server on loopback (SPEC §7): order, outage, pause on
// 401, dead-letter on 400, concurrency. Only the clock is manual (it drives backoff).
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import {
  commitChange,
  createHarness,
  FakeUpstream,
  type Harness,
  perAlarmSequence,
  startUpstream,
  testAlarm,
} from "../../helpers/upstream.js";
import { waitFor } from "../../helpers/wait.js";

let h: Harness | undefined;
let up: FakeUpstream | undefined;
afterEach(async () => {
  await h?.close();
  await up?.close();
  h = undefined;
  up = undefined;
});

const TOKEN = "tok-0123456789";
/** The harness clock's start: alarm times are near it, so retention does not expire them. */
const T0 = Date.UTC(2026, 0, 1);

function raiseAndResolve(hh: Harness, id: string, t: number, escalate = false): void {
  t += T0;
  const a = testAlarm(id, t, { status: 1, level: 3 });
  commitChange(hh.db, hh.writer, "created", a);
  if (escalate) commitChange(hh.db, hh.writer, "updated", { ...a, status: 2, level: 4, updated: t + 1 });
  commitChange(hh.db, hh.writer, "resolved", { ...a, status: 0, updated: t + 2, resolvedAt: t + 2 });
}

test("happy path: add with Idempotency-Key and bearer token, update with the upstream id", async () => {
  up = await startUpstream();
  h = createHarness({ upstream: { baseUrl: up.url, token: TOKEN } });
  h.dispatcher.start();
  raiseAndResolve(h, "A1", 1000, true);
  h.dispatcher.kick();
  await waitFor(() => up?.requests.length === 3, { what: "3 requests" });
  const [add, esc, res] = up.requests;
  assert.equal(add?.path, "/alert/add");
  assert.equal(add?.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(add?.headers["idempotency-key"], "A1");
  assert.equal(add?.headers["content-type"], "application/json");
  const body = add?.json as Record<string, unknown>;
  assert.equal(body.id, "A1");
  assert.deepEqual(body.device, { id: "meter-01", name: "Main incomer", product: "meter", areaId: 12 });
  assert.equal(body.ruleId, "meter-overvoltage");
  assert.deepEqual(esc?.json, { id: "up-A1", name: "overvoltage", status: 2, level: 4, updated: T0 + 1001 });
  assert.deepEqual(res?.json, { id: "up-A1", name: "overvoltage", status: 0, level: 3, updated: T0 + 1002 });
  await waitFor(() => h?.repo.summary(h.clock.now()).delivered === 3, { what: "delivered recorded" });
  const row = h.db.prepare("SELECT upstream_id, doc FROM alarms WHERE id = 'A1'").get() as {
    upstream_id: string;
    doc: string;
  };
  assert.equal(row.upstream_id, "up-A1");
  assert.equal(JSON.parse(row.doc).upstreamId, "up-A1");
  assert.ok(!h.logs.join("").includes(TOKEN), "token never logged");
});

test("upstream down while alarms are raised and resolved, then up: everything arrives once, in order", async () => {
  up = await startUpstream();
  const port = up.port;
  await up.close();
  h = createHarness({ upstream: { baseUrl: `http://127.0.0.1:${port}`, token: TOKEN } });
  h.dispatcher.start();
  for (let i = 0; i < 20; i++) raiseAndResolve(h, `B${String(i).padStart(2, "0")}`, 1000 + i * 10, i % 2 === 0);
  h.dispatcher.kick();
  await waitFor(() => h?.logs.some((l) => l.includes("delivery failed")), { what: "a failed attempt" });
  await waitFor(() => (h?.repo.summary(h.clock.now()).lastErrors["alert.add"] ? true : undefined), {
    what: "last error recorded",
  });
  assert.equal(h.repo.summary(h.clock.now()).pending, 50);
  up = await new FakeUpstream().start(port);
  // Time passes: the backoff expires and a probe goes; success resumes full delivery.
  for (let i = 0; i < 10; i++) h.clock.advance(1000);
  await waitFor(() => h?.repo.summary(h.clock.now()).pending === 0, { what: "backlog drained", timeoutMs: 10_000 });
  const seq = perAlarmSequence(up);
  assert.equal(seq.size, 20);
  for (const [id, list] of seq) {
    const n = Number(id.slice(1));
    assert.deepEqual(list, n % 2 === 0 ? ["add", "update:2", "update:0"] : ["add", "update:0"], id);
  }
  assert.equal(up.requests.length, 50);
});

test("401 pauses delivery without dropping anything; the server accepting again resumes it", async () => {
  up = await startUpstream({ token: "the-right-token" });
  h = createHarness({ upstream: { baseUrl: up.url, token: TOKEN } });
  h.dispatcher.start();
  raiseAndResolve(h, "C1", 1000);
  h.dispatcher.kick();
  await waitFor(() => (h?.repo.summary(h.clock.now()).paused ? true : undefined), { what: "paused" });
  assert.ok(h.logs.some((l) => l.includes("DELIVERY PAUSED")));
  for (let i = 0; i < 5; i++) raiseAndResolve(h, `C${i + 2}`, 2000 + i);
  h.dispatcher.kick();
  h.clock.advance(3000);
  await waitFor(() => up && up.requests.length >= 2, { what: "a probe" });
  assert.equal(h.repo.summary(h.clock.now()).pending, 12, "nothing dropped while paused");
  assert.equal(up.requests.filter((r) => r.path === "/alert/update").length, 0);
  up.token = undefined;
  for (let i = 0; i < 10; i++) h.clock.advance(1000);
  await waitFor(() => h?.repo.summary(h.clock.now()).pending === 0, { what: "drained after resume" });
  const s = h.repo.summary(h.clock.now());
  assert.equal(s.paused, false);
  assert.equal(s.deadLetters, 0);
  const seq = perAlarmSequence(up);
  for (let i = 1; i <= 6; i++)
    assert.deepEqual(
      seq
        .get(`C${i}`)
        ?.filter((x) => x !== "add" || true)
        .slice(-2),
      ["add", "update:0"],
    );
  assert.ok(!h.logs.join("").includes(TOKEN), "token never logged");
});

test("a 400 / 104001 dead-letters that item (and its dependent update); the rest flows", async () => {
  up = await startUpstream();
  up.responder = (r) =>
    r.path === "/alert/add" && (r.json as { id?: string }).id === "D2"
      ? { status: 400, body: '{"code":104001,"message":"Miss required parameter: name"}' }
      : undefined;
  h = createHarness({ upstream: { baseUrl: up.url, token: TOKEN } });
  h.dispatcher.start();
  for (let i = 1; i <= 4; i++) raiseAndResolve(h, `D${i}`, 1000 + i);
  h.dispatcher.kick();
  await waitFor(() => h?.repo.summary(h.clock.now()).pending === 0, { what: "all settled" });
  const s = h.repo.summary(h.clock.now());
  assert.equal(s.deadLetters, 2);
  assert.equal(s.delivered, 6);
  assert.match(s.lastErrors["alert.add"]?.message ?? "", /HTTP 400 .*104001.*Miss required parameter/);
  assert.equal(perAlarmSequence(up).get("D2")?.join(), "add");
  for (const id of ["D1", "D3", "D4"]) assert.deepEqual(perAlarmSequence(up).get(id), ["add", "update:0"]);
});

test("a backlog drains concurrently over keep-alive connections, one request per alarm at a time", async () => {
  up = await startUpstream({ delayMs: 30 });
  h = createHarness({ upstream: { baseUrl: up.url, concurrency: 4 } });
  for (let i = 0; i < 24; i++) raiseAndResolve(h, `E${String(i).padStart(2, "0")}`, 1000 + i, true);
  h.dispatcher.start();
  await waitFor(() => h?.repo.summary(h.clock.now()).pending === 0, { what: "drained" });
  assert.equal(up.maxInflight, 4, "never more than the configured concurrency, and more than one");
  for (const [id, list] of perAlarmSequence(up)) assert.deepEqual(list, ["add", "update:2", "update:0"], id);
});

test("beforeUpload can change a payload or skip it (null → skipped, not sent)", async () => {
  up = await startUpstream();
  h = createHarness({
    upstream: { baseUrl: up.url },
    interceptor: {
      active: true,
      beforeUpload: async (kind, payload) => {
        const p = payload as Record<string, unknown>;
        if (kind === "alert.add" && p.id === "F2") return null;
        if (kind === "alert.add") return { ...p, title: "changed" };
        return payload;
      },
    },
  });
  h.dispatcher.start();
  raiseAndResolve(h, "F1", 1);
  raiseAndResolve(h, "F2", 2);
  h.dispatcher.kick();
  await waitFor(() => h?.repo.summary(h.clock.now()).pending === 0, { what: "settled" });
  assert.deepEqual(perAlarmSequence(up).get("F1"), ["add", "update:0"]);
  assert.equal(perAlarmSequence(up).get("F2"), undefined);
  assert.equal((up.paths("/alert/add")[0]?.json as { title?: string } | undefined)?.title, "changed");
  assert.equal(h.repo.counts().skipped, 2);
});

test("a hanging upstream times out and is retried; no upstream configured keeps items pending", async () => {
  up = await startUpstream();
  up.enqueue("/alert/add", "hang", "close");
  h = createHarness({ upstream: { baseUrl: up.url, timeoutMs: 5000 } });
  h.dispatcher.start();
  commitChange(h.db, h.writer, "created", testAlarm("G1", T0));
  h.dispatcher.kick();
  await waitFor(() => up?.requests.length === 1, { what: "hung request" });
  h.clock.advance(5000);
  await waitFor(
    () => (h?.repo.summary(h.clock.now()).lastErrors["alert.add"]?.message.includes("timeout") ? true : undefined),
    {
      what: "timeout recorded",
    },
  );
  for (let i = 0; i < 4; i++) h.clock.advance(1000);
  await waitFor(() => up && up.requests.length >= 2, { what: "retry after timeout" });
  for (let i = 0; i < 6; i++) h.clock.advance(1000);
  await waitFor(() => h?.repo.summary(h.clock.now()).pending === 0, { what: "delivered after a closed socket" });
  assert.equal(up.requests.length, 3);

  const idle = createHarness({});
  try {
    idle.dispatcher.start();
    commitChange(idle.db, idle.writer, "created", testAlarm("G2", T0));
    idle.dispatcher.kick();
    idle.clock.advance(5000);
    assert.equal(idle.repo.summary(idle.clock.now()).pending, 1);
    assert.ok(idle.logs.some((l) => l.includes("upstream is not configured")));
  } finally {
    await idle.close();
  }
});

test("paused by a wrong token; restarted with the fixed token, the backlog drains and the pause clears", async () => {
  up = await startUpstream({ token: "fixed-token-1" });
  h = createHarness({ upstream: { baseUrl: up.url, token: TOKEN } });
  h.dispatcher.start();
  raiseAndResolve(h, "P1", 1);
  raiseAndResolve(h, "P2", 2);
  h.dispatcher.kick();
  await waitFor(() => (h?.repo.summary(h.clock.now()).paused ? true : undefined), { what: "paused" });
  await h.dispatcher.stop();
  const { Dispatcher } = await import("../../../src/upstream/dispatcher.js");
  const { resolveOutbox, resolveUpstream } = await import("../../../src/config/defaults.js");
  const fixed = new Dispatcher({
    db: h.db,
    clock: h.clock,
    log: h.log,
    metrics: h.metrics,
    events: h.events,
    http: h.http,
    upstream: resolveUpstream({ baseUrl: up.url, token: "fixed-token-1" }),
    outbox: resolveOutbox(undefined),
  });
  fixed.start();
  try {
    await waitFor(() => h?.repo.summary(h.clock.now()).pending === 0, { what: "drained with the fixed token" });
    assert.equal(h.repo.summary(h.clock.now()).paused, false);
    // the refused adds are sent again once accepted, and each update only after its add
    for (const id of ["P1", "P2"]) assert.deepEqual(perAlarmSequence(up).get(id)?.slice(-2), ["add", "update:0"]);
  } finally {
    await fixed.stop();
  }
});

test("stop() returns within the request timeout while a request hangs, and leaves the row pending", async () => {
  up = await startUpstream();
  up.enqueue("/alert/add", "hang");
  h = createHarness({ upstream: { baseUrl: up.url, timeoutMs: 300 } });
  h.dispatcher.start();
  commitChange(h.db, h.writer, "created", testAlarm("S1", T0));
  h.dispatcher.kick();
  await waitFor(() => up?.requests.length === 1, { what: "hung request" });
  const t0 = Date.now();
  await h.dispatcher.stop();
  assert.ok(Date.now() - t0 < 2000, `stopped in ${Date.now() - t0} ms`);
  // abandoned (or timed out during the grace period): either way it is still to be sent
  const row = h.db.prepare("SELECT state FROM outbox WHERE alarm_id = 'S1'").get();
  assert.deepEqual(row, { state: "pending" });
});
