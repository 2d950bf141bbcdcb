// The problem for a file too large to read (rule and task files are hand-written or exported:
// megabytes of one are a mistake, a log or a data dump saved there, and parsing it would stall the agent).

import type { Problem } from "../core/errors.js";

/** `what` names the file ("rule file"), `hint` says how to get under the limit. */
export function oversizeProblem(file: string, size: number, max: number, what: string, hint: string): Problem {
  return {
    file,
    path: "$",
    message: `${what} is ${formatBytes(size)}, over the ${formatBytes(max)} limit: not read`,
    hint,
  };
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
