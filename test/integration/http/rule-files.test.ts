// Rule CRUD through the API with the real file-backed rule admin: rules land in rulesDir as files,
// take effect at once, and the API answers in the platform's shapes (the rule object as written
// with its id; lists {total, offset, limit, rules}) with the agent's facts beside them.

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Problem } from "../../../src/core/errors.js";
import { silentLogger } from "../../../src/core/log.js";
import { RuleFiles } from "../../../src/rules/admin.js";
import { RuleSet } from "../../../src/rules/rule-set.js";
import type { RuleList, RuleShape } from "../../../src/rules/shapes.js";
import { type Harness, startHarness } from "./fixtures.js";

/** Seed 003's rule object as the platform exports it (no id, interval by name, email/wechat actions). */
const PLATFORM_EXPORT = JSON.parse(
  readFileSync(new URL("../../fixtures/rules/platform-export.json", import.meta.url), "utf8"),
) as Record<string, unknown>[];

let h: Harness;
let dir: string;
let ruleSet: RuleSet;

const RULE = {
  id: "hv-1",
  name: "overvoltage",
  key: "meter",
  type: "rule",
  level: 4,
  conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-agent-http-rules-"));
  ruleSet = new RuleSet();
  const files = new RuleFiles({ dir, ruleSet, log: silentLogger(), now: () => h.clock.now() });
  h = await startHarness({ rules: Object.assign(files, { problems: () => ruleSet.problems() }) });
});

after(async () => {
  await h.api.stop();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  for (const r of [...ruleSet.rules()]) await h.post("/rule/del", { id: r.def.id });
});

const jsonFiles = () => readdirSync(dir).filter((f) => f.endsWith(".json"));
const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;

it("add writes a file and applies the rule at once; update rewrites it; del removes it", async () => {
  const now = h.clock.now();
  const add = await h.post("/rule/add", RULE);
  assert.equal(add.status, 200, await add.clone().text());
  const file = join(dir, "hv-1.json");
  assert.deepEqual(await add.json(), { ...RULE, created: now, updated: now, file });
  assert.deepEqual(jsonFiles(), ["hv-1.json"]);
  assert.equal(JSON.parse(readFileSync(file, "utf8")).id, "hv-1");
  assert.equal(ruleSet.rules()[0]?.level({ voltage: 260 }), 2, "in force");

  h.clock.advance(5000);
  const upd = await h.post("/rule/update", {
    id: "hv-1",
    conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 270 }] },
  });
  assert.equal(upd.status, 200, await upd.clone().text());
  const updated = (await upd.json()) as RuleShape;
  assert.equal(updated.updated, now + 5000);
  assert.equal(updated.created, now);
  assert.equal(updated.level, 4, "fields not given are kept");
  assert.equal(ruleSet.rules()[0]?.level({ voltage: 260 }), 0, "the update is in force");
  assert.match(readFileSync(file, "utf8"), /270/);

  const got = await json<RuleShape>(h.get("/rule/get?id=hv-1"));
  assert.deepEqual(got, updated, "get answers the rule object itself");

  const del = await h.post("/rule/del", { id: "hv-1" });
  assert.equal(del.status, 200);
  assert.deepEqual(await del.json(), updated, "del answers the deleted rule");
  assert.deepEqual(jsonFiles(), []);
  assert.equal(ruleSet.rules().length, 0);
  const gone = await h.get("/rule/get?id=hv-1");
  assert.equal(gone.status, 404);
  assert.deepEqual(await gone.json(), { code: 104004, message: "Rule not found: hv-1", id: "hv-1" });
});

it("a bad rule is refused with 104001 naming the field, and nothing is written", async () => {
  const { key: _k, ...noKey } = RULE;
  const res = await h.post("/rule/add", { ...noKey, id: "bad-1" });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { code: number; message: string; field: string };
  assert.equal(body.code, 104001);
  assert.equal(body.field, "key");
  assert.equal(body.message, "Miss required parameter: key");

  const op = await h.post("/rule/add", {
    ...RULE,
    id: "bad-2",
    conditions: { all: [{ fact: "voltage", operator: "greaterThen", value: 1 }] },
  });
  assert.equal(op.status, 400);
  const opBody = (await op.json()) as { field: string; message: string };
  assert.equal(opBody.field, "conditions.all[0].operator");
  assert.match(opBody.message, /^Invalid parameter: conditions\.all\[0\]\.operator/);
  assert.deepEqual(jsonFiles(), []);
  assert.equal(ruleSet.rules().length, 0);
});

it("a duplicate id is refused and an unknown id on update or del is 104004", async () => {
  assert.equal((await h.post("/rule/add", RULE)).status, 200);
  const dup = await h.post("/rule/add", RULE);
  assert.equal(dup.status, 400);
  assert.equal(((await dup.json()) as { field: string }).field, "id");
  for (const res of [
    await h.post("/rule/update", { ...RULE, id: "ghost" }),
    await h.post("/rule/del", { id: "ghost" }),
  ]) {
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { code: 104004, message: "Rule not found: ghost", id: "ghost" });
  }
  assert.ok(existsSync(join(dir, "hv-1.json")));
});

describe("platform rules", () => {
  it("a rule without an id gets a 24-hex id, is kept as written and answered with warnings beside it", async () => {
    const body = { ...PLATFORM_EXPORT[0], name: "pump-overheat" };
    const res = await h.post("/rule/add", body);
    assert.equal(res.status, 200, await res.clone().text());
    const out = (await res.json()) as RuleShape;
    assert.match(out.id, /^[0-9a-f]{24}$/);
    assert.equal(out.id.slice(0, 8), Math.floor(h.clock.now() / 1000).toString(16), "seconds first, like an ObjectId");
    const { problems, file, id, ...rest } = out;
    assert.deepEqual(rest, body, "what was given, as given (interval by name, created/updated kept)");
    assert.equal(file, join(dir, `${id}.json`));
    assert.deepEqual(
      problems?.map((p: Problem) => `${p.path}: ${p.severity}`),
      ["$.name: warning"],
    );
    assert.match(problems?.[0]?.message ?? "", /letters and digits/);
    const def = ruleSet.get(id)?.def;
    assert.equal(def?.level, 2);
    assert.equal(def?.period, 3600);
    assert.deepEqual(await json(h.get(`/rule/get?id=${id}`)), out);
    assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { id, ...body }, "the file holds the rule as given");
  });

  it("a field of the wrong type is refused with file, JSON path and the accepted values", async () => {
    const res = await h.post("/rule/add", { ...RULE, level: "loud" });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: number; field: string; message: string; problems: Problem[] };
    assert.equal(body.code, 104001);
    assert.equal(body.field, "level");
    assert.equal(
      body.message,
      "Invalid parameter: level (expected a level 0–5 or one of 'fatal', 'critical', 'warning', 'info', got 'loud')",
    );
    assert.deepEqual(
      body.problems.map((p) => [p.file, p.path]),
      [[join(dir, "hv-1.json"), "$.level"]],
    );
    const per = await json<{ message: string }>(h.post("/rule/add", { ...RULE, interval: "hourly" }));
    assert.match(
      per.message,
      /^Invalid parameter: interval \(expected an interval in seconds .* 'ONCE_AN_HOUR'.*'OFF'/,
    );
    const both = await json<{ field: string; message: string }>(
      h.post("/rule/add", { ...RULE, period: 300, interval: "ONCE_AN_HOUR" }),
    );
    assert.equal(both.field, "interval");
    assert.match(both.message, /'interval' \(3600 s\) and 'period' \(300 s\) disagree/);
    assert.deepEqual(jsonFiles(), []);
  });

  it("update keeps the id; giving period replaces interval", async () => {
    const added = await json<RuleShape>(h.post("/rule/add", PLATFORM_EXPORT[1]));
    const upd = await json<RuleShape>(h.post("/rule/update", { id: added.id, period: "ONCE_A_DAY", level: "warning" }));
    assert.equal(upd.id, added.id);
    assert.equal(upd.period, "ONCE_A_DAY");
    assert.equal(upd.interval, undefined);
    assert.equal(ruleSet.get(added.id)?.def.period, 86_400);
    assert.equal(ruleSet.get(added.id)?.def.level, 3);
    // A rule read from the API posts back as it is: `file` and `problems` beside it are ignored.
    const got = await json<RuleShape>(h.get(`/rule/get?id=${added.id}`));
    const back = await h.post("/rule/update", { ...got, title: "Dry run" });
    assert.equal(back.status, 200, await back.clone().text());
    assert.equal(((await back.json()) as RuleShape).title, "Dry run");
  });

  it("list pages, orders, sorts by any sortable field and searches name, title and description", async () => {
    const mk = (id: string, over: Record<string, unknown>) => ({ ...RULE, id, name: id.replace(/-/g, ""), ...over });
    for (const r of [
      mk("r-a", { level: "fatal", title: "Alpha", interval: "ONCE_A_DAY" }),
      mk("r-b", { level: 1, title: "Bravo", description: "breaker on the pump panel" }),
      mk("r-c", { title: "Charlie", period: 60 }),
      mk("r-d", { level: "critical", title: "Delta pump" }),
    ])
      assert.equal((await h.post("/rule/add", r)).status, 200);
    const ids = (l: RuleList) => l.rules.map((r) => r.id);

    const all = await json<RuleList>(h.get("/rule/list"));
    assert.equal(all.total, 4);
    assert.equal(all.offset, 0);
    assert.equal(all.limit, 100);
    assert.deepEqual(ids(all), ["r-a", "r-b", "r-c", "r-d"]);
    assert.deepEqual(all.problems, []);
    assert.equal(all.rules[0]?.level, "fatal", "as written");
    assert.equal(all.rules[0]?.file, join(dir, "r-a.json"), "file beside the platform's fields");

    const page = await json<RuleList>(h.get("/rule/list?offset=1&limit=2&order=desc"));
    assert.deepEqual([page.total, page.offset, page.limit, ids(page)], [4, 1, 2, ["r-c", "r-b"]]);
    const byLevel = await json<RuleList>(h.get("/rule/list?orderBy=level"));
    assert.deepEqual(ids(byLevel), ["r-b", "r-c", "r-d", "r-a"], "names sort as their numbers: 1, 2, 4, 5");
    const byPeriod = await json<RuleList>(h.get("/rule/list?orderBy=period&order=desc"));
    assert.deepEqual(ids(byPeriod), ["r-a", "r-c", "r-b", "r-d"]);
    const byTitle = await json<RuleList>(h.get("/rule/list?orderBy=title&order=desc&limit=1"));
    assert.deepEqual([byTitle.total, ids(byTitle)], [4, ["r-d"]]);
    const q = await json<RuleList>(h.get("/rule/list?q=PUMP"));
    assert.deepEqual([q.total, ids(q)], [2, ["r-b", "r-d"]]);
    const none = await json<RuleList>(h.get("/rule/list?q=zzz"));
    assert.deepEqual([none.total, none.rules], [0, []]);
  });
});
