import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SubscriptionConfig } from "../../../../src/config/schema.js";
import { parseJsonPath, parseTimestamp, SubscriptionMapper } from "../../../../src/sources/mqtt/subscription.js";

const NOW = Date.UTC(2026, 0, 1, 12);

function mapper(over: Partial<SubscriptionConfig> = {}): SubscriptionMapper {
  return new SubscriptionMapper({ topic: "meters/+/telemetry", device: "{1}", product: "meter", ...over });
}

function mapTopic(m: SubscriptionMapper, topic: string, payload: unknown) {
  const caps: string[] = [];
  assert.ok(m.match(topic, caps), `topic ${topic} should match ${m.filter}`);
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  return m.map(topic, Buffer.from(body), m.deviceFromTopic(caps), NOW);
}

function ok(r: ReturnType<typeof mapTopic>) {
  if (!r.ok) assert.fail(`expected ok, got ${r.reason}: ${r.detail}`);
  return r.reading;
}

describe("topic filters", () => {
  const cases: [string, string, boolean, string[]?][] = [
    ["meters/+/telemetry", "meters/m1/telemetry", true, ["m1"]],
    ["meters/+/telemetry", "meters/m1/status", false],
    ["meters/+/telemetry", "meters/m1/telemetry/x", false],
    ["meters/+/telemetry", "meters//telemetry", true, [""]],
    ["meters/+/telemetry", "meter/m1/telemetry", false],
    ["meters/#", "meters/a/b/c", true, ["a/b/c"]],
    ["meters/#", "meters", true, [""]],
    ["meters/#", "metersx/a", false],
    ["+/+/v", "site/m2/v", true, ["site", "m2"]],
    ["#", "$SYS/broker/load", false],
    ["+/x", "$SYS/x", false],
    ["a/b", "a/b", true, []],
    ["a/b", "a/bc", false],
    ["a/b", "a", false],
  ];
  for (const [filter, topic, want, caps] of cases) {
    it(`${filter} ${want ? "matches" : "does not match"} ${topic}`, () => {
      const m = new SubscriptionMapper({ topic: filter, device: "d", product: "p" });
      const got: string[] = [];
      assert.equal(m.match(topic, got), want);
      if (caps) assert.deepEqual(got, caps);
    });
  }
});

describe("device id", () => {
  it("takes {N} from the level matched by the Nth wildcard, with literal text around it", () => {
    const m = mapper({ topic: "site/+/meters/+/data", device: "{1}-meter-{2}" });
    assert.equal(ok(mapTopic(m, "site/A/meters/7/data", { v: 1 })).deviceId, "A-meter-7");
  });
  it("takes a JSON path into the payload, numbers as decimal text", () => {
    const m = mapper({ device: "$.meta.id" });
    assert.equal(ok(mapTopic(m, "meters/x/telemetry", { meta: { id: "pump-3" }, p: 2 })).deviceId, "pump-3");
    assert.equal(ok(mapTopic(m, "meters/x/telemetry", { meta: { id: 17 }, p: 2 })).deviceId, "17");
  });
  it("rejects a payload without the device path, or an empty level", () => {
    const m = mapper({ device: "$.meta.id" });
    const r = mapTopic(m, "meters/x/telemetry", { p: 2 });
    assert.equal(r.ok ? "ok" : r.reason, "no-device");
    const e = mapTopic(mapper(), "meters//telemetry", { p: 2 });
    assert.equal(e.ok ? "ok" : e.reason, "no-device");
  });
  it("a device id at the top of the values object is not a metric", () => {
    const m = mapper({ device: "$.id" });
    const r = ok(mapTopic(m, "meters/x/telemetry", { id: 42, v: 230 }));
    assert.deepEqual(r.values, { v: 230 });
    assert.equal(r.deviceId, "42");
  });
});

describe("values: every JSON type is a fact", () => {
  it("numbers, booleans, strings, objects, arrays and null all become values", () => {
    const r = ok(
      mapTopic(mapper(), "meters/m1/telemetry", {
        voltage: 231.5,
        breaker_on: true,
        fw: "1.2.3",
        loc: { x: 1 },
        tags: ["a"],
        note: null,
      }),
    );
    assert.equal(r.deviceId, "m1");
    assert.equal(r.product, "meter");
    assert.equal(r.source, "mqtt");
    assert.deepEqual(r.values, {
      voltage: 231.5,
      breaker_on: true,
      fw: "1.2.3",
      loc: { x: 1 },
      tags: ["a"],
      note: null,
    });
  });
  it("numeric strings are not coerced: they stay strings (rules coerce as json-rules-engine does)", () => {
    assert.deepEqual(ok(mapTopic(mapper(), "meters/m1/telemetry", { v: "230.1" })).values, { v: "230.1" });
  });
  it("reads the values object from a JSON path", () => {
    const m = mapper({ values: "$.data.metrics" });
    const r = ok(mapTopic(m, "meters/m1/telemetry", { data: { metrics: { p: 1.5 } }, other: 3 }));
    assert.deepEqual(r.values, { p: 1.5 });
  });
  it("supports index and quoted segments", () => {
    assert.deepEqual(parseJsonPath('$.a[2]["b c"]'), ["a", 2, "b c"]);
    assert.deepEqual(parseJsonPath("$"), []);
    assert.throws(() => parseJsonPath("a.b"));
    const m = mapper({ values: "$.samples[0]" });
    assert.deepEqual(ok(mapTopic(m, "meters/m1/telemetry", { samples: [{ p: 9 }] })).values, { p: 9 });
  });
  it('1e999 is Infinity, and "NaN"/"Infinity" strings are string facts (json-rules-engine would see the same)', () => {
    const r = mapTopic(mapper(), "meters/m1/telemetry", '{"a":"NaN","b":"Infinity","c":1e999,"e":-1e999,"d":5}');
    assert.ok(r.ok);
    assert.equal(r.dropped, null);
    assert.deepEqual(r.reading.values, {
      a: "NaN",
      b: "Infinity",
      c: Number.POSITIVE_INFINITY,
      e: Number.NEGATIVE_INFINITY,
      d: 5,
    });
  });
  it("__proto__ and constructor are ordinary facts: own keys, no prototype change", () => {
    const r = ok(mapTopic(mapper(), "meters/m1/telemetry", '{"__proto__":{"polluted":1},"constructor":"x","v":1}'));
    assert.ok(Object.hasOwn(r.values, "__proto__"));
    assert.deepEqual(Object.getOwnPropertyDescriptor(r.values, "__proto__")?.value, { polluted: 1 });
    assert.equal(r.values.constructor, "x");
    assert.equal(Object.getPrototypeOf(r.values), Object.prototype);
    assert.equal((r.values as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
  it("rejects non-JSON, an array, null, an empty values object", () => {
    const m = mapper();
    const reason = (p: string) => {
      const r = mapTopic(m, "meters/m1/telemetry", p);
      return r.ok ? "ok" : r.reason;
    };
    assert.equal(reason("{voltage: 1"), "not-json");
    assert.equal(reason("NaN"), "not-json");
    assert.equal(reason("[1,2]"), "no-metrics");
    assert.equal(reason("null"), "no-metrics");
    assert.equal(reason('{"fw":"x"}'), "ok");
    assert.equal(reason("{}"), "no-metrics");
  });
});

describe("size bounds", () => {
  const nest = (depth: number): unknown => (depth === 1 ? { leaf: 1 } : { n: nest(depth - 1) });
  it("a string over 4 KiB is cut and counted; the rest of the message arrives", () => {
    const r = mapTopic(mapper(), "meters/m1/telemetry", { big: "x".repeat(4097), ok: "y".repeat(4096), v: 1 });
    assert.ok(r.ok);
    assert.deepEqual(r.dropped, { "string-too-long": 1 });
    assert.deepEqual(Object.keys(r.reading.values), ["ok", "v"]);
  });
  it("the 4 KiB bound counts UTF-8 bytes", () => {
    const r = mapTopic(mapper(), "meters/m1/telemetry", { cn: "故".repeat(1366), fits: "故".repeat(1365) });
    assert.ok(r.ok);
    assert.deepEqual(r.dropped, { "string-too-long": 1 });
    assert.deepEqual(Object.keys(r.reading.values), ["fits"]);
  });
  it("an object or array nested deeper than 16 levels is cut; 16 levels pass", () => {
    const r = mapTopic(mapper(), "meters/m1/telemetry", { deep: nest(17), deepArr: [nest(16)], fine: nest(16), v: 2 });
    assert.ok(r.ok);
    assert.deepEqual(r.dropped, { "too-deep": 2 });
    assert.deepEqual(Object.keys(r.reading.values), ["fine", "v"]);
  });
  it("a value over 64 KiB of JSON is cut; values under it in the same big payload arrive", () => {
    const big = Array.from({ length: 7000 }, (_, i) => `item-${i}`);
    const r = mapTopic(mapper(), "meters/m1/telemetry", { big, small: { a: [1, 2] }, s: "fault" });
    assert.ok(r.ok);
    assert.deepEqual(r.dropped, { "too-large": 1 });
    assert.deepEqual(r.reading.values, { small: { a: [1, 2] }, s: "fault" });
  });
  it("a message whose every value is cut is rejected as bad-values, with the cut counted", () => {
    const r = mapTopic(mapper(), "meters/m1/telemetry", { deep: nest(40) });
    assert.ok(!r.ok);
    assert.equal(r.reason, "bad-values");
    assert.deepEqual(r.dropped, { "too-deep": 1 });
  });
  it("a pathologically deep payload is cut, not a crash", () => {
    const payload = `{"v":1,"deep":${"[".repeat(50_000)}${"]".repeat(50_000)}}`;
    const r = mapTopic(mapper(), "meters/m1/telemetry", payload);
    assert.ok(r.ok);
    assert.deepEqual(r.reading.values, { v: 1 });
  });
});

describe("bare values", () => {
  it("a bare number is one reading named after the last topic level", () => {
    const m = new SubscriptionMapper({ topic: "plant/+/temp", device: "{1}", product: "sensor" });
    const r = ok(mapTopic(m, "plant/t1/temp", "21.5"));
    assert.deepEqual(r.values, { temp: 21.5 });
    assert.equal(r.ts, NOW);
  });
  it("a bare boolean, a bare 1e999 (Infinity) and a bare JSON string too", () => {
    const m = new SubscriptionMapper({ topic: "plant/+/door", device: "{1}", product: "sensor" });
    assert.deepEqual(ok(mapTopic(m, "plant/d1/door", "true")).values, { door: true });
    assert.deepEqual(ok(mapTopic(m, "plant/d1/door", "1e999")).values, { door: Number.POSITIVE_INFINITY });
    assert.deepEqual(ok(mapTopic(m, "plant/d1/door", '"open"')).values, { door: "open" });
    const long = mapTopic(m, "plant/d1/door", JSON.stringify("x".repeat(5000)));
    assert.equal(long.ok ? "ok" : long.reason, "bad-values");
  });
});

describe("timestamps", () => {
  const m = mapper({ timestamp: "ts" });
  const at = Date.UTC(2026, 2, 3, 4, 5, 6, 789);
  it("epoch milliseconds", () => {
    const r = ok(mapTopic(m, "meters/m1/telemetry", { ts: at, v: 1 }));
    assert.equal(r.ts, at);
    assert.deepEqual(r.values, { v: 1 }, "the timestamp field is not a metric");
  });
  it("epoch seconds (below 1e11) are scaled to ms", () => {
    assert.equal(ok(mapTopic(m, "meters/m1/telemetry", { ts: 1_772_510_706, v: 1 })).ts, 1_772_510_706_000);
  });
  it("ISO-8601 with offset", () => {
    assert.equal(ok(mapTopic(m, "meters/m1/telemetry", { ts: "2026-03-03T12:05:06.789+08:00", v: 1 })).ts, at);
  });
  it("absent → receive time", () => {
    assert.equal(ok(mapTopic(m, "meters/m1/telemetry", { v: 1 })).ts, NOW);
  });
  it("garbage → bad-timestamp", () => {
    for (const ts of ["yesterday", -5, 0, true, "NaN"]) {
      const r = mapTopic(m, "meters/m1/telemetry", { ts, v: 1 });
      assert.equal(r.ok ? "ok" : r.reason, "bad-timestamp", `ts=${JSON.stringify(ts)}`);
    }
  });
  it("a JSON path timestamp", () => {
    const mm = mapper({ timestamp: "$.meta.time" });
    assert.equal(ok(mapTopic(mm, "meters/m1/telemetry", { meta: { time: at }, v: 1 })).ts, at);
  });
  it("parseTimestamp accepts numeric strings", () => {
    assert.equal(parseTimestamp(String(at)), at);
    assert.ok(Number.isNaN(parseTimestamp("12abc")));
  });
});

describe("events", () => {
  it("payload field `event` becomes reading.event and is not a value", () => {
    const r = ok(mapTopic(mapper(), "meters/m1/telemetry", { event: "door_open", v: 1 }));
    assert.equal(r.event, "door_open");
    assert.deepEqual(r.values, { v: 1 });
  });
  it("an event without metrics is still a reading", () => {
    const r = ok(mapTopic(mapper(), "meters/m1/telemetry", { event: "tamper" }));
    assert.equal(r.event, "tamper");
    assert.deepEqual(r.values, {});
  });
});
