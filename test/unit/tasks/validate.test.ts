import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../../src/config/load.js";
import { modbusWriteTarget, writeValueProblem } from "../../../src/config/modbus-writes.js";
import type { ModbusPointConfig } from "../../../src/config/schema.js";
import { formatProblem, type Problem } from "../../../src/core/errors.js";
import { encodeBool, encodeRegisters } from "../../../src/sources/modbus/decode.js";
import { taskCheckContext } from "../../../src/tasks/check-context.js";
import { parseTaskDocument, type TaskCheckContext } from "../../../src/tasks/validate.js";

const FILE = "/site/tasks/night.json";

const ctx: TaskCheckContext = {
  timezone: "Europe/Prague",
  defaultTimeoutMs: 10_000,
  mqtt: true,
  modbusDevices: [
    {
      id: "pump-01",
      points: [
        { name: "pump_run", table: "coil", address: 0, type: "bool", writable: true },
        { name: "speed_setpoint", table: "holding", address: 10, type: "uint16", writable: true },
        { name: "trip_relay", table: "coil", address: 1, type: "bool" },
        { name: "flow", table: "input", address: 0, type: "float32" },
      ],
    },
  ],
  hookNames: new Set(["wecom-notify"]),
};

const base = {
  name: "pumpNightOff",
  schedule: { times: ["22:00"], days: [1, 2, 3, 4, 5] },
  actions: [{ type: "modbus.write", device: "pump-01", point: "pump_run", value: false }],
};

function problems(doc: unknown, c: TaskCheckContext = ctx): Problem[] {
  return parseTaskDocument(FILE, typeof doc === "string" ? doc : JSON.stringify(doc), c).problems;
}

function only(doc: unknown, c: TaskCheckContext = ctx): Problem {
  const list = problems(doc, c);
  assert.equal(list.length, 1, list.map(formatProblem).join("\n"));
  return list[0] as Problem;
}

const withAction = (a: Record<string, unknown>) => ({ ...base, actions: [a] });

test("a valid task gets its id from the file and the defaults", () => {
  const r = parseTaskDocument(FILE, JSON.stringify({ ...base, ownerId: "5f0c", color: "red" }), ctx);
  assert.deepEqual(r.problems, []);
  const t = r.tasks[0];
  assert.equal(t?.id, "night");
  assert.equal(t?.isEnable, true);
  assert.equal(t?.misfire, "skip");
  assert.equal(t?.timeoutMs, 10_000);
  // Fields of the platform's object the agent does not use are kept as given.
  assert.equal(t?.ownerId, "5f0c");
  assert.equal(t?.color, "red");
  // The document as written keeps no defaults.
  assert.equal(r.docs[0]?.isEnable, undefined);
});

test("an array of tasks: ids from the file name and the position", () => {
  const r = parseTaskDocument(FILE, JSON.stringify([base, { ...base, id: "own" }, base]), ctx);
  assert.deepEqual(
    r.tasks.map((t) => t.id),
    ["night.0", "own", "night.2"],
  );
});

test("an invalid cron expression is refused at $.schedule.cron", () => {
  const p = only({ ...base, schedule: { cron: "0 25 * * *" } });
  assert.equal(p.file, FILE);
  assert.equal(p.path, "$.schedule.cron");
  assert.match(p.message, /invalid cron expression "0 25 \* \* \*"/);
});

test("a time of day out of range is refused at its index, under the task's path in an array", () => {
  const p = only([base, { ...base, schedule: { times: ["06:00", "25:00"] } }]);
  assert.equal(p.path, "$[1].schedule.times[1]");
  assert.match(p.message, /"25:00" is not a time of day/);
});

test("a schedule needs exactly one of cron, every, times", () => {
  assert.equal(only({ ...base, schedule: { every: 60, cron: "* * * * *" } }).path, "$.schedule");
  assert.equal(only({ ...base, schedule: {} }).path, "$.schedule");
  const p = only({ ...base, schedule: { evry: 60 } });
  assert.equal(p.path, "$.schedule.evry");
  assert.equal(p.hint, "did you mean 'every'?");
});

test("an unknown time zone is refused with the closest name", () => {
  const p = only({ ...base, timezone: "Europe/Prage" });
  assert.equal(p.path, "$.timezone");
  assert.equal(p.message, "unknown time zone 'Europe/Prage'");
  assert.equal(p.hint, "did you mean 'Europe/Prague'?");
});

test("an unknown action type names the one it meant", () => {
  const p = only(withAction({ type: "modbus.wirte", device: "pump-01", point: "pump_run", value: false }));
  assert.equal(p.path, "$.actions[0].type");
  assert.equal(p.message, "unknown action type 'modbus.wirte'");
  assert.equal(p.hint, "did you mean 'modbus.write'?");
});

test("modbus.write to an unknown device or point names the one it meant", () => {
  const d = only(withAction({ type: "modbus.write", device: "pump-1", point: "pump_run", value: false }));
  assert.equal(d.path, "$.actions[0].device");
  assert.match(d.message, /cannot write pump-1\.pump_run: no such Modbus device \(known: pump-01\)/);
  assert.equal(d.hint, "did you mean 'pump-01'?");
  const p = only(withAction({ type: "modbus.write", device: "pump-01", point: "pump_rum", value: false }));
  assert.equal(p.path, "$.actions[0].point");
  assert.match(p.message, /no such point/);
  assert.equal(p.hint, "did you mean 'pump_run'?");
});

test("modbus.write to a point not marked writable, or in a read-only table, is refused", () => {
  const p = only(withAction({ type: "modbus.write", device: "pump-01", point: "trip_relay", value: true }));
  assert.equal(p.path, "$.actions[0].point");
  assert.match(p.message, /is not writable .*"writable": true/);
  const r = only(withAction({ type: "modbus.write", device: "pump-01", point: "flow", value: 1 }));
  assert.match(r.message, /input is a read-only table/);
});

test("modbus.write with a value the point cannot take is refused at .value", () => {
  const big = only(withAction({ type: "modbus.write", device: "pump-01", point: "speed_setpoint", value: 70000 }));
  assert.equal(big.path, "$.actions[0].value");
  assert.match(big.message, /70000 is out of range for uint16/);
  const coil = only(withAction({ type: "modbus.write", device: "pump-01", point: "pump_run", value: "maybe" }));
  assert.equal(coil.path, "$.actions[0].value");
  assert.match(coil.message, /maybe is not a boolean/);
});

test("modbus.write on a site without Modbus devices is refused", () => {
  const p = only(base, { ...ctx, modbusDevices: [] });
  assert.equal(p.path, "$.actions[0].device");
  assert.match(p.message, /no Modbus devices are configured/);
});

test("mqtt.publish without an mqtt section is refused", () => {
  const p = only(withAction({ type: "mqtt.publish", topic: "site/x", payload: "on" }), { ...ctx, mqtt: false });
  assert.equal(p.path, "$.actions[0].type");
  assert.match(p.message, /no mqtt section/);
});

test("alarm.raise with a level out of range is refused", () => {
  const p = only(withAction({ type: "alarm.raise", name: "nightCheck", level: 7 }));
  assert.equal(p.path, "$.actions[0].level");
  assert.match(p.message, /level 7 is out of range 0\.\.5/);
});

test("a hook action to a hook that is not in hooksDir is a warning, not an error", () => {
  const r = parseTaskDocument(
    FILE,
    JSON.stringify(withAction({ type: "hook", hook: "wecom-notfy", method: "send" })),
    ctx,
  );
  assert.equal(r.tasks.length, 1, "the file stays valid");
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0]?.severity, "warning");
  assert.equal(r.problems[0]?.path, "$.actions[0].hook");
  assert.equal(r.problems[0]?.hint, "did you mean 'wecom-notify'?");
});

test("a misspelt top-level field is a warning pointing at the field it meant", () => {
  const { schedule, ...rest } = base;
  const list = problems({ ...rest, shedule: schedule });
  assert.deepEqual(
    list.map((p) => [p.path, p.severity ?? "error", p.hint]),
    [["$.shedule", "warning", "did you mean 'schedule'?"]],
  );
});

test("syntax errors carry line and column; duplicate ids in one file are refused", () => {
  const p = only('{\n  "name": "x",\n  "schedule": {"every": 60}\n  "actions": []\n}');
  assert.equal(p.line, 4);
  assert.equal(p.path, "$");
  const d = problems([
    { ...base, id: "a" },
    { ...base, id: "a" },
  ]);
  assert.deepEqual(
    d.map((x) => x.path),
    ["$[1].id"],
  );
});

test("the value check and the live write's encoders refuse exactly the same values", () => {
  const points: ModbusPointConfig[] = [
    { name: "c", table: "coil", address: 0, type: "bool", writable: true },
    { name: "u16", table: "holding", address: 0, type: "uint16", writable: true },
    { name: "i16", table: "holding", address: 0, type: "int16", writable: true },
    { name: "s", table: "holding", address: 0, type: "uint16", scale: 0.1, writable: true },
    { name: "u32", table: "holding", address: 0, type: "uint32", writable: true },
    { name: "i64", table: "holding", address: 0, type: "int64", writable: true },
    { name: "f", table: "holding", address: 0, type: "float32", writable: true },
    { name: "str", table: "holding", address: 0, type: "string", length: 2, writable: true },
  ];
  const values = [
    true,
    false,
    0,
    1,
    2,
    -1,
    1.5,
    65535,
    65536,
    6553.5,
    6553.6,
    -32769,
    1e20,
    "12",
    "1.5",
    "x",
    "true",
    "abcd",
    "abcde",
    Number.NaN,
  ];
  for (const p of points) {
    for (const v of values) {
      let encoderOk = true;
      try {
        if (p.table === "coil") encodeBool("p", v);
        else encodeRegisters("p", p, v);
      } catch {
        encoderOk = false;
      }
      assert.equal(writeValueProblem(p, v) === null, encoderOk, `${p.name} ← ${JSON.stringify(v)}`);
    }
  }
  assert.equal(modbusWriteTarget([{ id: "d", points }], "d", "c").ok, true);
});

test("the bundled task files are valid against the bundled config, the site example against a site", async () => {
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  const loaded = await loadConfig(join(root, "config/agent.json"), { API_TOKEN: "" }, { cwd: root });
  assert.ok(loaded.config);
  const demo = await taskCheckContext(loaded.config);
  const names = (await readdir(join(root, "tasks"))).filter((n) => n.endsWith(".json"));
  assert.ok(names.length > 0);
  for (const n of names) {
    const file = join(root, "tasks", n);
    assert.deepEqual(problems(await readFile(file, "utf8"), demo).map(formatProblem), [], file);
  }
  const example = await readFile(join(root, "tasks/examples/pump-night-off.json"), "utf8");
  const r = parseTaskDocument("pump-night-off.json", example, ctx);
  assert.deepEqual(r.problems.map(formatProblem), []);
  assert.equal(r.tasks[0]?.misfire, "once");
});
