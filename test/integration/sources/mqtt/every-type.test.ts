// Facts of every JSON type from a real MQTT broker through the whole hot path (MqttSource →
// pipeline → compiled rules → alarm service with SQLite): the alarms raised are exactly those
// json-rules-engine's own verdicts give on the same JSON, pair by pair (rule, device).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { MqttClient } from "mqtt";
import { OpenAlarms } from "../../../../src/alarms/open-alarms.js";
import { AlarmService } from "../../../../src/alarms/service.js";
import { resolveMqtt } from "../../../../src/config/defaults.js";
import { ManualClock, systemClock } from "../../../../src/core/clock.js";
import { silentLogger } from "../../../../src/core/log.js";
import type { RuleDefinition } from "../../../../src/core/types.js";
import { DeviceRegistry } from "../../../../src/pipeline/device-registry.js";
import { Pipeline } from "../../../../src/pipeline/ingest.js";
import { ReferenceRule } from "../../../../src/rules/reference.js";
import { RuleSet } from "../../../../src/rules/rule-set.js";
import { MqttSource } from "../../../../src/sources/mqtt/source.js";
import { AlarmsRepo } from "../../../../src/store/alarms-repo.js";
import { openDatabase } from "../../../../src/store/db.js";
import { startBroker, type TestBroker } from "../../../helpers/broker.js";
import { everyTypeGenerator, OPERATORS, toPayload } from "../../../helpers/fact-types.js";
import { testBus, testMetrics } from "../../../helpers/harness.js";
import { waitFor } from "../../../helpers/wait.js";
import { RecordingSink as OutboxSink, tempDir } from "../../alarms/setup.js";
import { publisher, uniqueId } from "./fixtures.js";

let broker: TestBroker;
let pub: MqttClient;
before(async () => {
  broker = await startBroker();
  pub = await publisher(broker.url);
});
after(async () => {
  await pub?.endAsync();
  await broker?.stop();
});

/** The rules the issue names, then random ones mixing every operator, `path` and fact-to-fact values. */
function rules(): RuleDefinition[] {
  const base = { key: "plc", type: "rule" as const, level: 3 };
  const named: RuleDefinition[] = [
    {
      ...base,
      id: "state-fault",
      name: "state-fault",
      conditions: { all: [{ fact: "state", operator: "equal", value: "fault" }] },
    },
    {
      ...base,
      id: "overtemp",
      name: "overtemp",
      conditions: { all: [{ fact: "alarms", operator: "contains", value: "overtemp" }] },
    },
    {
      ...base,
      id: "no-ok",
      name: "no-ok",
      conditions: { all: [{ fact: "alarms", operator: "doesNotContain", value: "ok" }] },
    },
    {
      ...base,
      id: "env-hot",
      name: "env-hot",
      conditions: { all: [{ fact: "env", path: "$.temp", operator: "greaterThan", value: 40 }] },
    },
    {
      ...base,
      id: "state-in",
      name: "state-in",
      conditions: { any: [{ fact: "state", operator: "in", value: ["fault", "trip"] }] },
    },
    {
      ...base,
      id: "state-notin",
      name: "state-notin",
      conditions: { all: [{ fact: "state", operator: "notIn", value: ["ok", "idle"] }] },
    },
  ];
  const g = everyTypeGenerator(12);
  const random: RuleDefinition[] = Array.from({ length: 60 }, (_, i) => {
    const warnConditions = g.r() < 0.3 ? g.top() : undefined;
    return {
      ...base,
      id: `rnd-${i}`,
      name: `rnd-${i}`,
      conditions: g.top(OPERATORS[i % OPERATORS.length]),
      ...(warnConditions ? { warnConditions } : {}),
    };
  });
  return [...named, ...random];
}

/** Payloads: the examples, then random facts of every type. */
function payloads(): string[] {
  const fixed = [
    { state: "fault" },
    { state: "ok", alarms: ["overtemp"] },
    { alarms: ["ok", "overtemp"] },
    { env: { temp: 41 } },
    { env: { temp: "41" }, state: "trip" },
    { env: { temp: 39 }, state: "idle", alarms: [] },
    { state: null, alarms: null, env: null },
  ];
  const g = everyTypeGenerator(13);
  const random = Array.from({ length: 40 }, () => {
    const f = g.facts();
    // The named rules' facts, of any type, on some devices too.
    if (g.r() < 0.5) f.state = f.str;
    if (g.r() < 0.5) f.alarms = f.arr;
    if (g.r() < 0.5) f.env = f.obj;
    return f;
  });
  return [...fixed, ...random].map(toPayload);
}

test("string, array and object facts from MQTT raise exactly the alarms json-rules-engine's verdicts say", async () => {
  const { dir, cleanup } = tempDir();
  const db = openDatabase(`${dir}/agent.db`);
  const log = silentLogger();
  const events = testBus(log);
  const metrics = testMetrics();
  const openAlarms = new OpenAlarms(log);
  const devices = new DeviceRegistry({ events, alarms: openAlarms });
  const ruleSet = new RuleSet();
  const svc = new AlarmService({
    db,
    clock: new ManualClock(),
    log,
    events,
    metrics,
    changeSink: new OutboxSink(db),
    devices,
    openAlarms,
    batchMaxDelayMs: 0,
  });
  await svc.start();
  const pipeline = new Pipeline({ devices, rules: ruleSet, events, log, metrics, alarms: svc });
  const defs = rules();
  assert.deepEqual(ruleSet.replaceFile("plc.json", defs), []);
  // The source feeds the real pipeline.
  const live = new MqttSource({
    config: resolveMqtt(
      {
        url: broker.url,
        clientId: uniqueId("agent"),
        subscriptions: [{ topic: "plc/+/state", qos: 1, device: "{1}", product: "plc" }],
      },
      process.cwd(),
    ),
    gatewayId: "gw-test",
    sink: pipeline,
    events,
    clock: systemClock,
    log,
    metrics,
  });
  await live.start();
  try {
    const bodies = payloads();
    for (let j = 0; j < bodies.length; j++) await pub.publishAsync(`plc/d${j}/state`, bodies[j] as string, { qos: 1 });
    await waitFor(() => devices.list().length === bodies.length, { what: "every device's reading" });
    await svc.flush();

    const want = new Map<string, number>();
    const refs = defs.map((d) => new ReferenceRule(d));
    for (let j = 0; j < bodies.length; j++) {
      const facts = JSON.parse(bodies[j] as string) as Record<string, unknown>;
      for (let i = 0; i < defs.length; i++) {
        const level = await (refs[i] as ReferenceRule).level(facts);
        if (level > 0) want.set(`${(defs[i] as RuleDefinition).id}|d${j}`, level);
      }
    }
    const got = new Map<string, number>();
    for (const a of new AlarmsRepo(db).active()) got.set(`${a.ruleId}|${a.resource.id}`, a.status);

    const diff: string[] = [];
    for (const [k, v] of want) if (got.get(k) !== v) diff.push(`${k}: engine ${v}, agent ${got.get(k) ?? 0}`);
    for (const [k, v] of got) if (!want.has(k)) diff.push(`${k}: engine 0, agent ${v}`);
    assert.deepEqual(diff, [], "every (rule, device) pair agrees with json-rules-engine");
    // The examples fire.
    for (const k of ["state-fault|d0", "overtemp|d1", "overtemp|d2", "env-hot|d3", "state-in|d4", "state-in|d0"])
      assert.equal(got.get(k), 2, `${k} raised`);
    assert.equal(got.has("env-hot|d5"), false);
    assert.ok(want.size > 100, `many alarms were expected (${want.size})`);
  } finally {
    await live.stop();
    await svc.stop();
    db.close();
    cleanup();
  }
});
