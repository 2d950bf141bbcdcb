// Recipient groups through the API with the real file-backed admin: groups land in the recipients
// file (rewritten atomically, references kept), take effect at once, and the API answers in the
// platform's shapes (members expanded to user objects, lists {total, offset, limit, recipients})
// with robot keys masked; /status names the rules whose recipient is no group here.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, it } from "node:test";
import { ManualClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import type { RecipientList, RecipientShape } from "../../../src/notify/recipients-admin.js";
import { RecipientFiles } from "../../../src/notify/recipients-admin.js";
import { RecipientsLoader } from "../../../src/notify/recipients-loader.js";
import { runStatusPage } from "../../helpers/status-page-runner.js";
import { waitFor } from "../../helpers/wait.js";
import { type Harness, startHarness, TOKEN } from "./fixtures.js";

const ROBOT_KEY = "0a1b2c3d-robot-key-9f8e7d6c";
const LITERAL_KEY = "literal-robot-key-5555wxyz";

let h: Harness;
let dir: string;
let file: string;
let loader: RecipientsLoader;

const usersDoc = [
  { id: "u1", realname: "Li Lei", username: "lilei", email: "lilei@example.com" },
  { id: "u2", realname: "Han Meimei", username: "hanmm", email: "hanmm@example.com", phone: "+86 138 0000 0002" },
];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "edge-agent-http-recipients-"));
  file = join(dir, "notify", "recipients.json");
  let clockNow = () => 0;
  loader = new RecipientsLoader({
    file,
    log: silentLogger(),
    clock: new ManualClock(),
    context: { env: { WECOM_ROBOT_KEY: ROBOT_KEY }, email: true, wecom: true },
  });
  await loader.start();
  const files = new RecipientFiles({ loader, log: silentLogger(), now: () => clockNow() });
  h = await startHarness({ recipients: files });
  clockNow = () => h.clock.now();
});

after(async () => {
  await h.api.stop();
  await loader.stop();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  for (const g of loader.list()) assert.equal((await h.post("/recipient/del", { id: g.id })).status, 200);
});

const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
const onDisk = () =>
  JSON.parse(readFileSync(file, "utf8")) as { users: unknown[]; recipients: Record<string, unknown>[] };

it("add creates the file and puts the group in force; members answer as user objects; del returns the group", async () => {
  const now = h.clock.now();
  // Members sent as objects with contacts: the users are added to the file and referenced by id.
  const add = await h.post("/recipient/add", {
    name: "Night shift",
    description: "pumps at night",
    delay: 300,
    users: [usersDoc[0]],
    principals: [usersDoc[1]],
  });
  assert.equal(add.status, 200, await add.clone().text());
  const g = (await add.json()) as RecipientShape;
  assert.match(g.id, /^[0-9a-f]{24}$/, "a platform-style id is assigned");
  assert.equal(g.created, now);
  assert.equal(g.updated, now);
  assert.deepEqual(g.users, [usersDoc[0]]);
  assert.deepEqual(g.principals, [usersDoc[1]]);
  assert.equal(loader.get(g.id)?.delay, 300, "in force at once");
  const disk = onDisk();
  assert.deepEqual(disk.users, usersDoc);
  assert.deepEqual(disk.recipients[0]?.users, ["u1"], "members are written as ids");
  assert.deepEqual(
    readdirSync(join(dir, "notify")).filter((n) => n.endsWith(".tmp")),
    [],
    "no temp file left behind",
  );

  h.clock.advance(1000);
  const inode = statSync(file).ino;
  const upd = await json<RecipientShape>(h.post("/recipient/update", { id: g.id, delay: 60, principals: ["u1"] }));
  assert.notEqual(statSync(file).ino, inode, "replaced by rename (a new file), never rewritten in place");
  assert.equal(upd.delay, 60);
  assert.equal(upd.name, "Night shift", "fields not given are kept");
  assert.equal(upd.updated, now + 1000);
  assert.deepEqual(
    upd.principals.map((u) => u.id),
    ["u1"],
  );
  assert.equal(onDisk().recipients[0]?.delay, 60);

  const got = await json<RecipientShape>(h.get(`/recipient/get?id=${g.id}`));
  assert.equal(got.description, "pumps at night");
  const del = await json<RecipientShape>(h.post("/recipient/del", { id: g.id }));
  assert.equal(del.name, "Night shift", "del answers the deleted group");
  assert.deepEqual(onDisk().recipients, []);
  assert.equal(loader.get(g.id), undefined);
});

it("list pages, orders and searches in the platform's shape", async () => {
  for (const [id, name, delay] of [
    ["g-a", "charlie", 30],
    ["g-b", "alpha", 90],
    ["g-c", "bravo", 0],
  ] as const) {
    assert.equal((await h.post("/recipient/add", { id, name, delay, users: [usersDoc[0]] })).status, 200);
    h.clock.advance(1000);
  }
  const all = await json<RecipientList>(h.get("/recipient/list"));
  assert.deepEqual([all.total, all.offset, all.limit], [3, 0, 100]);
  assert.deepEqual(
    all.recipients.map((g) => g.id),
    ["g-a", "g-b", "g-c"],
  );
  const page = await json<RecipientList>(h.get("/recipient/list?orderBy=name&order=desc&offset=1&limit=1"));
  assert.equal(page.total, 3);
  assert.deepEqual(
    page.recipients.map((g) => g.name),
    ["bravo"],
  );
  const byDelay = await json<RecipientList>(h.get("/recipient/list?orderBy=delay"));
  assert.deepEqual(
    byDelay.recipients.map((g) => g.delay),
    [0, 30, 90],
  );
  const byCreated = await json<RecipientList>(h.get("/recipient/list?orderBy=created&order=desc"));
  assert.equal(byCreated.recipients[0]?.id, "g-c");
  const q = await json<RecipientList>(h.get("/recipient/list?q=ALPH"));
  assert.deepEqual(
    q.recipients.map((g) => g.id),
    ["g-b"],
  );
  const byMember = await json<RecipientList>(h.get("/recipient/list?q=li%20lei"));
  assert.equal(byMember.total, 3, "q also finds the members' names");
});

it("refusals: 104004 for an unknown id, 104001 naming the offending field; nothing is written", async () => {
  assert.equal((await h.post("/recipient/add", { id: "g", name: "G", users: [usersDoc[0]] })).status, 200);
  const before = readFileSync(file, "utf8");
  for (const res of [
    await h.get("/recipient/get?id=nope"),
    await h.post("/recipient/update", { id: "nope", delay: 1 }),
    await h.post("/recipient/del", { id: "nope" }),
  ]) {
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: number }).code, 104004);
  }
  const delay = await h.post("/recipient/update", { id: "g", delay: -1 });
  assert.equal(delay.status, 400);
  const db = (await delay.json()) as { code: number; field: string; message: string };
  assert.deepEqual([db.code, db.field], [104001, "delay"]);
  assert.match(db.message, /negative/);
  const member = await json<{ code: number; field: string; message: string }>(
    h.post("/recipient/add", { id: "g2", users: ["u3"] }),
  );
  assert.deepEqual([member.code, member.field], [104001, "users[0]"]);
  assert.match(member.message, /unknown user 'u3'.*did you mean 'u1'/);
  const dup = await json<{ code: number; field: string }>(h.post("/recipient/add", { id: "g", users: ["u1"] }));
  assert.deepEqual([dup.code, dup.field], [104001, "id"]);
  const missing = await json<{ code: number; field: string }>(h.post("/recipient/update", { delay: 1 }));
  assert.deepEqual([missing.code, missing.field], [104001, "id"]);
  const order = await json<{ code: number; field: string }>(h.get("/recipient/list?orderBy=colour"));
  assert.deepEqual([order.code, order.field], [104001, "orderBy"]);
  assert.equal(readFileSync(file, "utf8"), before, "the file is unchanged");
});

it("robot keys are masked in every answer; the file keeps references; a masked key sent back keeps its key", async () => {
  const add = await h.post("/recipient/add", {
    id: "robots",
    users: ["u1"],
    robots: ["${WECOM_ROBOT_KEY}", LITERAL_KEY],
  });
  const text = await add.text();
  assert.equal(add.status, 200, text);
  assert.equal(text.includes(ROBOT_KEY), false);
  assert.equal(text.includes(LITERAL_KEY), false);
  const g = JSON.parse(text) as RecipientShape;
  assert.deepEqual(g.robots, ["${WECOM_ROBOT_KEY}", "****wxyz"]);
  assert.deepEqual(loader.get("robots")?.robots, [ROBOT_KEY, LITERAL_KEY], "in force: the keys themselves");
  const list = await (await h.get("/recipient/list")).text();
  assert.equal(list.includes(LITERAL_KEY) || list.includes(ROBOT_KEY), false);

  // A client that edits what it got back sends the masked key: the file keeps the real one.
  const upd = await h.post("/recipient/update", { ...g, name: "with robots" });
  assert.equal(upd.status, 200, await upd.clone().text());
  assert.deepEqual(onDisk().recipients[0]?.robots, ["${WECOM_ROBOT_KEY}", LITERAL_KEY]);
  const stray = await json<{ code: number; field: string }>(
    h.post("/recipient/update", { id: "robots", robots: ["****zzzz"] }),
  );
  assert.deepEqual([stray.code, stray.field], [104001, "robots[0]"]);
});

it("a file broken on disk refuses writes; /status counts the groups, lists the problems and the unknown recipients", async () => {
  assert.equal((await h.post("/recipient/add", { id: "day", users: ["u1"] })).status, 200);
  h.rules.byId.set("r-known", {
    def: { id: "r-known", recipient: "day" } as never,
    doc: { id: "r-known", recipient: "day" },
    file: "rules/a.json",
    problems: [],
  });
  h.rules.byId.set("r-night", {
    def: { id: "r-night", recipient: "ops-night" } as never,
    doc: { id: "r-night", recipient: "ops-night" },
    file: "rules/a.json",
    problems: [],
  });
  try {
    const status = (
      await json<{ data: { notify: { recipients: number; unknownRecipients: unknown[]; problems: unknown[] } } }>(
        h.get("/status"),
      )
    ).data;
    assert.equal(status.notify.recipients, 1);
    assert.deepEqual(status.notify.unknownRecipients, [{ rule: "r-night", recipient: "ops-night" }]);
    const page = runStatusPage(h.base, TOKEN);
    try {
      const lines = await waitFor(
        () => {
          const texts = page.byId("rule-problems").children.map((li) => li.textContent);
          return texts.length > 0 ? texts : undefined;
        },
        { what: "the unknown recipient on the status page" },
      );
      assert.deepEqual(lines, ["rule r-night: recipient ops-night unknown: nobody is told"]);
    } finally {
      page.close();
    }

    await writeFile(file, '{"users": [}');
    await loader.rescan();
    const refused = await json<{ code: number; message: string }>(h.post("/recipient/add", { id: "x", users: ["u1"] }));
    assert.equal(refused.code, 104001);
    assert.match(refused.message, /fix the file first/);
    const broken = (
      await json<{ data: { notify: { recipients: number; problems: { path: string; line?: number }[] } } }>(
        h.get("/status"),
      )
    ).data;
    assert.equal(broken.notify.recipients, 1, "the last good version stays in force");
    assert.equal(broken.notify.problems[0]?.line, 1);
    const list = await json<RecipientList>(h.get("/recipient/list"));
    assert.equal(list.problems.length, 1, "the list carries the file's problems");
  } finally {
    h.rules.byId.clear();
    await writeFile(file, `${JSON.stringify({ users: usersDoc, recipients: [] })}\n`);
    await loader.rescan();
  }
});
