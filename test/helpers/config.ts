// A config as the agent runs with it, from the few fields a test cares about: every default applied
// exactly as the loader does (relative directories against the working directory), deep-frozen.

import { deepFreeze, type ResolvedConfig, resolveDefaults } from "../../src/config/defaults.js";
import type { Config } from "../../src/config/schema.js";

export function resolvedConfig(partial: Config, cwd: string = process.cwd()): ResolvedConfig {
  return deepFreeze(resolveDefaults(partial, cwd));
}
