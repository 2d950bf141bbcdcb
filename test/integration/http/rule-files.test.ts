// Rule CRUD through the API with the real file-backed rule admin: rules land in rulesDir as files,
// take effect at once, and a bad rule is refused naming its field with nothing written.

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { silentLogger } from "../../../src/core/log.js";
import { RuleFiles } from "../../../src/rules/admin.js";
import { RuleSet } from "../../../src/rules/rule-set.js";
import { type Harness, startHarness } from "./fixtures.js";

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
  const files = new RuleFiles({ dir, ruleSet, log: silentLogger() });
  h = await startHarness({ rules: Object.assign(files, { problems: () => ruleSet.problems() }) });
});

after(async () => {
  await h.api.stop();
  await rm(dir, { recursive: true, force: true });
});

const jsonFiles = () => readdirSync(dir).filter((f) => f.endsWith(".json"));

it("add writes a file and applies the rule at once; update rewrites it; del removes it", async () => {
  const add = await h.post("/rule/add", RULE);
  assert.equal(add.status, 200, await add.clone().text());
  assert.deepEqual(jsonFiles(), ["hv-1.json"]);
  assert.equal(JSON.parse(readFileSync(join(dir, "hv-1.json"), "utf8")).id, "hv-1");
  assert.deepEqual(
    ruleSet.rules().map((r) => r.def.id),
    ["hv-1"],
  );
  assert.equal(ruleSet.rules()[0]!.level({ voltage: 260 }), 2, "in force");

  const upd = await h.post("/rule/update", {
    ...RULE,
    conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 270 }] },
  });
  assert.equal(upd.status, 200, await upd.clone().text());
  assert.equal(ruleSet.rules()[0]!.level({ voltage: 260 }), 0, "the update is in force");
  assert.match(readFileSync(join(dir, "hv-1.json"), "utf8"), /270/);

  const got = (await (await h.get("/rule/get?id=hv-1")).json()) as { data: { file: string } };
  assert.match(got.data.file, /hv-1\.json$/);

  const del = await h.post("/rule/del", { id: "hv-1" });
  assert.equal(del.status, 200);
  assert.deepEqual(jsonFiles(), []);
  assert.equal(ruleSet.rules().length, 0);
  assert.equal((await h.get("/rule/get?id=hv-1")).status, 404);
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

it("a duplicate id is refused and an unknown id on update is 404", async () => {
  assert.equal((await h.post("/rule/add", RULE)).status, 200);
  const dup = await h.post("/rule/add", RULE);
  assert.equal(dup.status, 400);
  assert.equal(((await dup.json()) as { field: string }).field, "id");
  assert.equal((await h.post("/rule/update", { ...RULE, id: "ghost" })).status, 404);
  assert.ok(existsSync(join(dir, "hv-1.json")));
});
