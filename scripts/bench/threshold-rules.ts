// Threshold rules standing in for the compiled rule set of a small site: `fact > 250 + i` raises,
// five below it pre-warns. For benches whose subject is not the rules themselves.

import type { CompiledRule, RuleEngine } from "../../src/core/ports.js";

export function thresholdRules(count: number, fact: string): RuleEngine {
  const compiled: CompiledRule[] = [];
  for (let i = 0; i < count; i++) {
    const limit = 250 + i;
    compiled.push({
      def: { id: `r${i}`, name: `r${i}`, key: "meter", type: "rule", level: 3, conditions: { all: [] } },
      file: "bench",
      level: (facts) => ((facts[fact] as number) > limit ? 2 : (facts[fact] as number) > limit - 5 ? 1 : 0),
    });
  }
  return {
    evaluate(reading, facts, onResult) {
      for (let i = 0; i < compiled.length; i++) {
        const r = compiled[i] as CompiledRule;
        if (r.def.key === reading.product) onResult(r, r.level(facts));
      }
    },
    rules: () => compiled,
    problems: () => [],
  };
}
