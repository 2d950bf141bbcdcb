import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { formatDuration, formatLocalTime, main } from "../../../src/cli/alarms.js";
import type { CliIO } from "../../../src/cli/io.js";
import type { Alarm } from "../../../src/core/types.js";
import { openDatabase } from "../../../src/store/db.js";

const dir = mkdtempSync(join(tmpdir(), "ea-alarms-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function capture(cwd = dir) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env: {}, cwd };
  return { io, out: () => out.join(""), err: () => err.join("") };
}

const T0 = Date.UTC(2026, 0, 15, 8, 0, 0);

function alarm(id: string, over: Partial<Alarm>): Alarm {
  return {
    id,
    ruleId: "meter-overvoltage",
    name: "overvoltage",
    title: "Over-voltage on incomer",
    message: "voltage 252 > 250",
    type: "rule",
    level: 4,
    status: 2,
    resource: { id: "meter-01", name: "Main incomer", product: "meter", areaId: 12 },
    location: { building: "A" },
    details: { voltage: 252, threshold: 250 },
    period: 300,
    created: T0,
    updated: T0,
    resolvedAt: null,
    upstreamId: null,
    workOrderId: null,
    ...over,
  };
}

before(() => {
  const db = openDatabase(join(dir, "data", "edge-agent.db"));
  const ins = db.prepare(
    `INSERT INTO alarms (id, rule_id, device_id, status, level, created, updated, resolved_at, upstream_id, work_order_id, doc)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const rows = [
    alarm("01A", {
      status: 0,
      level: 4,
      created: T0,
      updated: T0 + 90_000,
      resolvedAt: T0 + 90_000,
      upstreamId: "up-1",
    }),
    alarm("01B", {
      ruleId: "pump-dry-run",
      title: "Pump running dry",
      resource: { id: "pump-01", product: "pump" },
      status: 1,
      level: 2,
      created: T0 + 60_000,
      updated: T0 + 60_000,
      workOrderId: "1844674407370955161",
    }),
    alarm("01C", { status: 2, level: 5, created: T0 + 120_000, updated: T0 + 120_000 }),
  ];
  for (const a of rows) {
    const { upstreamId, workOrderId, ...doc } = a;
    ins.run(
      a.id,
      a.ruleId,
      a.resource.id,
      a.status,
      a.level,
      a.created,
      a.updated,
      a.resolvedAt,
      upstreamId,
      workOrderId,
      JSON.stringify(doc),
    );
  }
  // 01A had three silenced repeats (new episodes within its rule's period).
  db.prepare("UPDATE alarms SET recurrences = 3, last_recurrence = ? WHERE id = '01A'").run(T0 + 600_000);
  db.close();
  writeFileSync(join(dir, "agent.json"), JSON.stringify({ gatewayId: "gw", dataDir: "./data" }));
});

describe("edge-agent alarms", () => {
  test("default lists active alarms, newest first, as a table", async () => {
    const c = capture();
    const code = await main(["-c", "agent.json"], c.io);
    assert.equal(code, 0, c.err());
    const lines = c.out().trimEnd().split("\n");
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^ID\s+STATUS\s+LEVEL\s+DEVICE\s+TITLE\s+CREATED\s+DURATION$/);
    assert.match(
      lines[1]!,
      /^01C\s+alarm\s+5\s+meter-01\s+Over-voltage on incomer\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\S/,
    );
    assert.match(lines[2]!, /^01B\s+warning\s+2\s+pump-01\s+Pump running dry\s+/);
    assert.ok(lines[1]!.includes(formatLocalTime(T0 + 120_000)));
  });

  test("--status resolved shows the resolved one with its duration", async () => {
    const c = capture();
    assert.equal(await main(["-c", "agent.json", "--status", "resolved"], c.io), 0);
    const lines = c.out().trimEnd().split("\n");
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, /^01A\s+resolved\s+4\s+meter-01\s+.*\s1m 30s\s+3 \(last /);
  });

  test("--json --status all returns full alarms with column fields, exact work-order id", async () => {
    const c = capture();
    assert.equal(await main(["--db", "data/edge-agent.db", "--status", "all", "--json"], c.io), 0);
    const list = JSON.parse(c.out()) as Alarm[];
    assert.deepEqual(
      list.map((a) => a.id),
      ["01C", "01B", "01A"],
    );
    assert.equal(list[1]!.workOrderId, "1844674407370955161");
    assert.equal(list[2]!.upstreamId, "up-1");
    assert.equal(list[2]!.resolvedAt, T0 + 90_000);
    assert.deepEqual(list[0]!.details, { voltage: 252, threshold: 250 });
    assert.equal(list[0]!.resource.name, "Main incomer");
  });

  test("silenced repeats show in the table and in --json (the API's alarm shape)", async () => {
    const c = capture();
    assert.equal(await main(["-c", "agent.json", "--status", "resolved"], c.io), 0);
    const lines = c.out().trimEnd().split("\n");
    assert.match(lines[0]!, /DURATION\s+REPEATS$/);
    assert.ok(lines[1]!.endsWith(`3 (last ${formatLocalTime(T0 + 600_000)})`), lines[1]);
    const j = capture();
    assert.equal(await main(["-c", "agent.json", "--status", "all", "--json"], j.io), 0);
    const list = JSON.parse(j.out()) as (Alarm & { device: Alarm["resource"] })[];
    const a = list.find((x) => x.id === "01A")!;
    assert.deepEqual([a.recurrences, a.lastRecurrence, a.origin], [3, T0 + 600_000, "rule"]);
    assert.deepEqual(a.device, a.resource);
    assert.equal(list.find((x) => x.id === "01C")!.recurrences, 0);
  });

  test("--limit caps the list and says so", async () => {
    const c = capture();
    assert.equal(await main(["-c", "agent.json", "--status", "all", "--limit", "1"], c.io), 0);
    assert.match(c.out(), /^01C\s+alarm/m);
    assert.match(c.out(), /showing the newest 1 of 3 alarms/);
  });

  test("no database yet is a friendly message and exit 0", async () => {
    const empty = mkdtempSync(join(tmpdir(), "ea-alarms-empty-"));
    try {
      writeFileSync(join(empty, "agent.json"), JSON.stringify({ gatewayId: "gw" }));
      const c = capture(empty);
      assert.equal(await main(["-c", "agent.json"], c.io), 0);
      assert.match(c.out(), /^No alarms yet: there is no database at .*edge-agent\.db/);
      const j = capture(empty);
      assert.equal(await main(["-c", "agent.json", "--json"], j.io), 0);
      assert.equal(j.out(), "[]\n");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test("a bad --status is a usage error", async () => {
    const c = capture();
    assert.equal(await main(["--status", "open"], c.io), 2);
    assert.match(c.err(), /--status must be active, resolved or all, got 'open'/);
  });

  test("formatDuration", () => {
    assert.equal(formatDuration(45_000), "45s");
    assert.equal(formatDuration(725_000), "12m 05s");
    assert.equal(formatDuration((3 * 3600 + 2 * 60) * 1000), "3h 02m");
    assert.equal(formatDuration((2 * 86400 + 4 * 3600) * 1000), "2d 4h");
  });
});
