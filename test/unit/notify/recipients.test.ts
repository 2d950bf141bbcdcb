// The recipients file checked and normalized: every bad input names the file, the JSON path and the
// reason (with "did you mean" where a name is close), and a valid file yields groups whose members
// are resolved to users, defaults applied, extra fields kept and `${VAR}` robot keys substituted.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Problem } from "../../../src/core/errors.js";
import {
  maskSecret,
  parseRecipientsText,
  type RecipientCheckContext,
  recipientRef,
  StaticRecipientDirectory,
  unknownRecipients,
} from "../../../src/notify/recipients.js";

const FILE = "/etc/edge-agent/notify/recipients.json";
const ctx: RecipientCheckContext = { env: {}, email: true, wecom: true };

const users = [
  { id: "u1", realname: "Li Lei", username: "lilei", email: "lilei@example.com" },
  { id: "u2", realname: "Han Meimei", username: "hanmm", wecomUserId: "HanMeiMei" },
];

function parse(doc: unknown, c: RecipientCheckContext = ctx) {
  return parseRecipientsText(FILE, JSON.stringify(doc, null, 2), c);
}

function only(problems: Problem[], severity: "error" | "warning" = "error"): Problem {
  const list = problems.filter((p) => (p.severity ?? "error") === severity);
  assert.equal(list.length, 1, `one ${severity}: ${JSON.stringify(problems)}`);
  return list[0] as Problem;
}

describe("a valid recipients file", () => {
  it("resolves members to users, applies defaults and keeps the platform's extra fields", () => {
    const r = parse({
      users,
      recipients: [
        { id: "g1", name: "Night shift", users: ["u1"], principals: ["u2"], delay: 600, ownerId: "o1", tags: ["x"] },
        { id: "g2", users: ["u2"] },
      ],
    });
    assert.deepEqual(r.problems, []);
    const [g1, g2] = r.groups;
    assert.equal(g1?.name, "Night shift");
    assert.equal(g1?.delay, 600);
    assert.deepEqual(
      g1?.users.map((u) => u.email),
      ["lilei@example.com"],
    );
    assert.deepEqual(
      g1?.principals.map((u) => u.wecomUserId),
      ["HanMeiMei"],
    );
    assert.deepEqual(g1?.tags, ["x"], "an extra field is kept");
    assert.equal(g1?.ownerId, "o1");
    assert.equal(g2?.delay, 0, "delay defaults to 0");
    assert.equal(g2?.name, "g2", "the name defaults to the id");
    assert.deepEqual(g2?.principals, []);
    assert.deepEqual(
      r.users.map((u) => u.id),
      ["u1", "u2"],
    );
  });

  it("accepts members as the platform answers them (objects with an id), defining users inline", () => {
    const r = parse({
      users: [users[0]],
      recipients: [
        {
          id: "g",
          users: [
            { id: "u1", realname: "ignored" },
            { id: "u9", email: "u9@example.com" },
          ],
        },
      ],
    });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.groups[0]?.users.map((u) => [u.id, u.realname ?? null, u.email]),
      [
        ["u1", "Li Lei", "lilei@example.com"],
        ["u9", null, "u9@example.com"],
      ],
    );
  });

  it("substitutes ${VAR} in robot keys and reports them as secrets; an unset variable drops that robot with a warning", () => {
    const doc = { users, recipients: [{ id: "g", users: ["u1"], robots: ["${WECOM_ROBOT_KEY}", "${OTHER_ROBOT}"] }] };
    const r = parse(doc, { ...ctx, env: { WECOM_ROBOT_KEY: "robot-key-0123456789abcd" } });
    assert.deepEqual(r.groups[0]?.robots, ["robot-key-0123456789abcd"]);
    assert.deepEqual(r.secrets, ["robot-key-0123456789abcd"]);
    const w = only(r.problems, "warning");
    assert.equal(w.path, "$.recipients[0].robots[1]");
    assert.match(w.message, /OTHER_ROBOT is not set/);
    assert.equal(
      JSON.stringify(r.raw).includes("robot-key-0123456789abcd"),
      false,
      "the raw document keeps the reference",
    );
  });
});

describe("a bad recipients file", () => {
  it("a group naming an unknown user: error at the member with did-you-mean", () => {
    const r = parse({ users, recipients: [{ id: "g", users: ["u1", "u3"] }] });
    const p = only(r.problems);
    assert.equal(p.file, FILE);
    assert.equal(p.path, "$.recipients[0].users[1]");
    assert.equal(p.message, "unknown user 'u3'");
    assert.equal(p.hint, "did you mean 'u1'?");
    assert.deepEqual(r.groups, [], "a file with an error yields no group");
  });

  it("a member named by username: the hint gives the user's id", () => {
    const r = parse({ users, recipients: [{ id: "g", principals: ["hanmm"] }] });
    const p = only(r.problems);
    assert.equal(p.path, "$.recipients[0].principals[0]");
    assert.equal(p.hint, "members are named by id: did you mean 'u2'?");
  });

  it("an e-mail address without @: error at the user's email", () => {
    for (const bad of ["lilei.example.com", "li lei@example.com", "lilei@"]) {
      const r = parse({ users: [{ id: "u1", email: bad }], recipients: [] });
      const p = only(r.problems);
      assert.equal(p.path, "$.users[0].email");
      assert.equal(p.message, `'${bad}' is not an e-mail address`);
    }
  });

  it("duplicate user and group ids: error at the second, naming the first", () => {
    const r = parse({
      users: [...users, { id: "u1", email: "x@example.com" }],
      recipients: [
        { id: "g", users: ["u1"] },
        { id: "g", users: ["u2"] },
      ],
    });
    const errors = r.problems.filter((p) => p.severity !== "warning");
    assert.deepEqual(
      errors.map((p) => [p.path, p.message, p.hint]),
      [
        ["$.users[2].id", "duplicate user id 'u1'", "also at $.users[0]"],
        ["$.recipients[1].id", "duplicate recipient id 'g'", "also at $.recipients[0]"],
      ],
    );
  });

  it("a negative or fractional delay, or one in quotes: error at the delay", () => {
    const cases: [unknown, RegExp][] = [
      [-5, /delay -5 is negative/],
      [1.5, /expected whole seconds, got 1.5/],
      ["60", /expected a number of seconds, got a string/],
    ];
    for (const [delay, why] of cases) {
      const r = parse({ users, recipients: [{ id: "g", delay, users: ["u1"] }] });
      const p = only(r.problems);
      assert.equal(p.path, "$.recipients[0].delay");
      assert.match(p.message, why);
    }
  });

  it("a syntax error carries line and column", () => {
    const r = parseRecipientsText(FILE, '{\n  "users": [\n    {"id": "u1",}\n  ]\n}', ctx);
    const p = only(r.problems);
    assert.equal(p.path, "$");
    assert.equal(p.line, 3);
    assert.ok(p.column !== undefined && p.column > 1);
  });

  it("a misspelled top-level key is an error with did-you-mean", () => {
    const r = parse({ users, recipents: [] });
    const p = only(r.problems);
    assert.equal(p.path, "$.recipents");
    assert.equal(p.hint, "did you mean 'recipients'?");
  });
});

describe("warnings", () => {
  it("a user with no contact at all", () => {
    const r = parse({ users: [{ id: "u1", realname: "Li Lei" }], recipients: [] });
    const w = only(r.problems, "warning");
    assert.equal(w.path, "$.users[0]");
    assert.match(w.message, /user 'u1' has no contact \(email, wecomUserId or phone\)/);
  });

  it("an e-mail address while notify.email is not configured; a wecomUserId while notify.wecom is not", () => {
    const r = parse({ users, recipients: [] }, { env: {}, email: false, wecom: false });
    assert.deepEqual(
      r.problems.map((p) => [p.severity, p.path]),
      [
        ["warning", "$.users[0].email"],
        ["warning", "$.users[1].wecomUserId"],
      ],
    );
    assert.match(r.problems[0]?.message ?? "", /notify\.email is not configured/);
    assert.match(r.problems[1]?.message ?? "", /notify\.wecom is not configured/);
  });

  it("an extra key a typo away from a known one is kept, with did-you-mean", () => {
    const r = parse({ users: [{ id: "u1", emial: "x@example.com", phone: "1" }], recipients: [] });
    const w = only(r.problems, "warning");
    assert.equal(w.path, "$.users[0].emial");
    assert.equal(w.hint, "did you mean 'email'?");
  });
});

describe("rules against the directory", () => {
  it("names the rules whose recipient is no group here (a string id or a platform object)", () => {
    const r = parse({ users, recipients: [{ id: "g1", users: ["u1"] }] });
    const dir = new StaticRecipientDirectory(r.groups, r.users);
    assert.deepEqual(
      unknownRecipients(
        [
          { id: "r1", recipient: "g1" },
          { id: "r2", recipient: "ops-night" },
          { id: "r3", recipient: { id: "g9", name: "x" } },
          { id: "r4" },
        ],
        dir,
      ),
      [
        { rule: "r2", recipient: "ops-night" },
        { rule: "r3", recipient: "g9" },
      ],
    );
    assert.equal(recipientRef({ id: "g1" }), "g1");
    assert.equal(recipientRef(""), undefined);
  });

  it("masks secrets to their last 4 characters; references are shown as written", () => {
    assert.equal(maskSecret("0123456789abcdef"), "****cdef");
    assert.equal(maskSecret("abc"), "****");
    assert.equal(maskSecret("${WECOM_ROBOT_KEY}"), "${WECOM_ROBOT_KEY}");
  });
});
