// Rule webhooks through the outbox (actions.webhook, SPEC §5 period), and 429 with Retry-After.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { failureRecorded, outboxRow, stopAndSettle } from "../../helpers/outbox.js";
import {
  commitChange,
  createHarness,
  type FakeUpstream,
  type Harness,
  startUpstream,
  testAlarm,
  testRule,
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

const T0 = Date.UTC(2026, 0, 1);

test("webhook posts the alarm JSON without the upstream token, at most once per period per (rule, device)", async () => {
  up = await startUpstream();
  h = createHarness({ upstream: { baseUrl: up.url, token: "tok-never-to-hooks" } });
  h.dispatcher.start();
  const rule = testRule({ id: "hooked", period: 300, actions: { webhook: `${up.url}/hook/alarm` } });
  const a = testAlarm("WH1", T0, { ruleId: "hooked" });
  commitChange(h.db, h.writer, "created", a, { rule, now: T0 });
  commitChange(
    h.db,
    h.writer,
    "resolved",
    { ...a, status: 0, updated: T0 + 10_000, resolvedAt: T0 + 10_000 },
    { rule, now: T0 + 10_000 },
  );
  const b = testAlarm("WH2", T0 + 400_000, { ruleId: "hooked" });
  commitChange(h.db, h.writer, "created", b, { rule, now: T0 + 400_000 });
  h.dispatcher.kick();
  await waitFor(() => h?.repo.summary(h.clock.now()).pending === 0, { what: "settled" });
  const hooks = up.paths("/hook/alarm");
  assert.deepEqual(
    hooks.map((r) => (r.json as { id: string }).id),
    ["WH1", "WH2"],
    "the resolve within the period sent no webhook",
  );
  const first = hooks[0]?.json as Record<string, unknown>;
  assert.equal(first.ruleId, "hooked");
  assert.equal(first.status, 2);
  assert.deepEqual(first.resource, { id: "meter-01", name: "Main incomer", product: "meter", areaId: 12 });
  for (const r of hooks) assert.equal(r.headers.authorization, undefined);
});

test("429 with Retry-After: waits that long, then delivers", async () => {
  up = await startUpstream();
  up.enqueue("/alert/add", { status: 429, body: "", headers: { "Retry-After": "20" } });
  h = createHarness({ upstream: { baseUrl: up.url } });
  h.dispatcher.start();
  commitChange(h.db, h.writer, "created", testAlarm("R1", T0));
  h.dispatcher.kick();
  const row = await failureRecorded(h.db, "R1", "alert.add", 1);
  assert.equal(row.next_at, T0 + 20_000, "next attempt scheduled at Retry-After");
  assert.ok(h.repo.summary(h.clock.now()).lastErrors["alert.add"], "the 429 is reported");
  // every tick up to 1 ms before Retry-After: with a plain 1 s backoff a retry would start here
  for (let i = 0; i < 19; i++) h.clock.advance(1000);
  h.clock.advance(999);
  h.dispatcher.kick();
  await stopAndSettle(h.dispatcher, up);
  assert.equal(up.paths("/alert/add").length, 1, "no retry before Retry-After");
  assert.deepEqual(outboxRow(h.db, "R1", "alert.add"), { ...row }, "the row is untouched");
  h.dispatcher.start();
  h.clock.advance(1);
  h.dispatcher.kick();
  await waitFor(() => h?.repo.summary(h.clock.now()).pending === 0, { what: "delivered after Retry-After" });
  assert.equal(up.paths("/alert/add").length, 2);
});
