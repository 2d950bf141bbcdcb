// The pipeline bench's workload, shared by the bench and its publisher child: one payload shape,
// 100 rules over it, 10% of readings crossing exactly one rule.

export const RULES = 100;

export const NORMAL = {
  voltage: 230.4,
  current: 10.2,
  power: 2350,
  temp: 40.5,
  freq: 50.01,
  pf: 0.95,
  code: 0,
  phase: 1,
  powerLimit: 50_000,
  status: "ok",
  flags: ["run"],
};

export type Leaf = { fact: string; operator: string; value: unknown };
export type Cond = Leaf | { all: Cond[] } | { any: Cond[] } | { not: Cond };

/** Rule k (0..99): family = k / 10, variant i = k % 10; every rule uses a distinct threshold band. */
export function ruleConditions(k: number): Cond {
  const i = k % 10;
  const leaf = (fact: string, operator: string, value: unknown): Leaf => ({ fact, operator, value });
  switch (Math.floor(k / 10)) {
    case 0:
      return {
        all: [leaf("voltage", "greaterThan", 250 + 10 * i), leaf("voltage", "lessThanInclusive", 260 + 10 * i)],
      };
    case 1:
      return {
        all: [leaf("voltage", "lessThan", 200 - 10 * i), leaf("voltage", "greaterThanInclusive", 190 - 10 * i)],
      };
    case 2:
      return { all: [leaf("current", "greaterThanInclusive", 50 + 5 * i), leaf("current", "lessThan", 55 + 5 * i)] };
    case 3:
      return {
        any: [
          {
            all: [
              leaf("power", "greaterThan", 10_000 + 1000 * i),
              leaf("power", "lessThanInclusive", 11_000 + 1000 * i),
            ],
          },
          // two facts compared: stays false (power never reaches powerLimit), evaluated on every reading
          leaf("power", "greaterThan", { fact: "powerLimit" }),
        ],
      };
    case 4:
      return {
        all: [
          leaf("temp", "greaterThanInclusive", 80 + 2 * i),
          { not: leaf("temp", "greaterThanInclusive", 82 + 2 * i) },
        ],
      };
    case 5:
      return { all: [leaf("code", "notEqual", 0), leaf("code", "equal", 100 + i)] };
    case 6:
      return { all: [leaf("code", "in", [200 + i, 300 + i])] };
    case 7: {
      const others = [1, 2, 3];
      for (let j = 0; j < 10; j++) if (j !== i) others.push(10 + j);
      return { all: [leaf("phase", "notIn", others)] };
    }
    case 8:
      return { all: [leaf("status", "equal", `fault-${i}`)] };
    default:
      return { all: [leaf("flags", "doesNotContain", "run"), leaf("flags", "contains", `trip-${i}`)] };
  }
}

/** The payload fields that make a reading satisfy rule k and no other. */
export function crossingFields(k: number): Record<string, unknown> {
  const i = k % 10;
  switch (Math.floor(k / 10)) {
    case 0:
      return { voltage: 255 + 10 * i };
    case 1:
      return { voltage: 195 - 10 * i };
    case 2:
      return { current: 52 + 5 * i };
    case 3:
      return { power: 10_500 + 1000 * i };
    case 4:
      return { temp: 81 + 2 * i };
    case 5:
      return { code: 100 + i };
    case 6:
      return { code: 300 + i };
    case 7:
      return { phase: 10 + i };
    case 8:
      return { status: `fault-${i}` };
    default:
      return { flags: [`trip-${i}`] };
  }
}

/** Crossing readings only target the rules over numeric facts (families 0–7): MQTT keeps strings and
 *  arrays as attributes, so the string/array rules (8–9) are evaluated on every reading but a
 *  reading that "crosses" them might not raise an alarm, which would blur the alarm count. */
export const CROSSING_RULES = 80;

/** How the 10% of crossing readings are spread:
 *  - churn: every device crosses on every 10th of its readings (staggered), each time a different
 *    rule, and its next reading is normal again: every crossing opens an alarm episode and the next
 *    reading resolves it (two committed transitions per crossing, the worst case for the store);
 *  - steady: the same 10% of devices cross the same rule on every reading: the alarms are raised
 *    once and every later reading only confirms them (no transitions). */
export type Pattern = "churn" | "steady";

export function isCrossing(seq: number, devices: number, pattern: Pattern): boolean {
  const d = seq % devices;
  return pattern === "steady" ? d % 10 === 0 : (d + Math.floor(seq / devices)) % 10 === 0;
}

export function rulesDocument(): unknown[] {
  const rules: unknown[] = [];
  for (let k = 0; k < RULES; k++) {
    rules.push({
      id: `bench-${String(k).padStart(3, "0")}`,
      name: `bench-${k}`,
      title: `Bench rule ${k}`,
      key: "meter",
      did: "",
      type: "rule",
      isEnable: true,
      level: 1 + (k % 5),
      // No silence period: the churn pattern measures a new raised alarm per crossing, and a period
      // would make every repeat within it a suppressed recurrence instead.
      period: 0,
      conditions: ruleConditions(k),
    });
  }
  return rules;
}

export const deviceId = (d: number): string => `m${String(d).padStart(5, "0")}`;
export const topicOf = (prefix: string, d: number): string => `${prefix}/${deviceId(d)}/telemetry`;

/** High-resolution wall time in ms, comparable across processes on the same host. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export interface PublishPlan {
  /** First topic level: the agent listens on `bench/+/telemetry`, the bare subscriber on `base/…`. */
  prefix: string;
  devices: number;
  count: number;
  /** Messages per second; 0 = as fast as the broker takes them. */
  rate: number;
  /** Stamp crossing readings with `sent` (wall ms, sub-ms resolution) for latency. */
  stamp: boolean;
  pattern: Pattern;
}

export interface PublishResult {
  sent: number;
  crossing: number;
  ms: number;
}
