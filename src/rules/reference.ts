// The reference: json-rules-engine itself, run the way the compiled rules promise to behave
// (allowUndefinedFacts: true; a run the engine rejects counts as "conditions do not hold").
// Asynchronous, so it is for the differential test, the benchmark baseline and diagnostics only.

import jre from "json-rules-engine";
import type { ConditionLevel } from "../core/ports.js";
import type { Condition, TopLevelCondition } from "../core/types.js";

type EngineCondition = import("json-rules-engine").TopLevelCondition;
type EngineInstance = InstanceType<typeof jre.Engine>;

/** An engine holding one condition tree, evaluated against a fresh set of facts per call. */
export class ReferenceCondition {
  readonly #engine: EngineInstance;

  constructor(tree: TopLevelCondition | Condition) {
    this.#engine = new jre.Engine([], { allowUndefinedFacts: true });
    this.#engine.addRule({
      conditions: structuredClone(tree) as unknown as EngineCondition,
      event: { type: "holds" },
    });
  }

  /** True when the engine reports success; false on failure or when the run rejects. */
  async holds(facts: Record<string, unknown>): Promise<boolean> {
    try {
      const r = await this.#engine.run(facts);
      return r.events.length > 0;
    } catch {
      return false;
    }
  }

  /** Like holds(), but tells a rejected run apart (for tests). */
  async outcome(facts: Record<string, unknown>): Promise<"holds" | "fails" | "throws"> {
    try {
      const r = await this.#engine.run(facts);
      return r.events.length > 0 ? "holds" : "fails";
    } catch {
      return "throws";
    }
  }
}

/** The level json-rules-engine gives: 2 when conditions hold, else 1 when warnConditions hold, else 0. */
export class ReferenceRule {
  readonly #cond: ReferenceCondition;
  readonly #warn: ReferenceCondition | null;

  constructor(def: { conditions: TopLevelCondition; warnConditions?: TopLevelCondition | undefined }) {
    this.#cond = new ReferenceCondition(def.conditions);
    this.#warn = def.warnConditions ? new ReferenceCondition(def.warnConditions) : null;
  }

  async level(facts: Record<string, unknown>): Promise<ConditionLevel> {
    if (await this.#cond.holds(facts)) return 2;
    return this.#warn !== null && (await this.#warn.holds(facts)) ? 1 : 0;
  }
}
