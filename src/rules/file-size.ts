// The largest rule file the agent reads. A rule file is hand-written or exported: megabytes of it
// are a mistake (a log or a data dump saved under rules/), and parsing one would stall the agent.

import type { Problem } from "../core/errors.js";

export const DEFAULT_MAX_RULE_FILE_BYTES = 1024 * 1024;

export function oversizeProblem(file: string, size: number, max: number): Problem {
  return {
    file,
    path: "$",
    message: `rule file is ${formatBytes(size)}, over the ${formatBytes(max)} limit: not read`,
    hint: "split it into several files, or raise rulesMaxFileBytes in the config",
  };
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
