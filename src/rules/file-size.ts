// The largest rule file the agent reads. A rule file is hand-written or exported: megabytes of it
// are a mistake (a log or a data dump saved under rules/), and parsing one would stall the agent.

import { oversizeProblem as oversize } from "../config/file-size.js";
import type { Problem } from "../core/errors.js";

export const DEFAULT_MAX_RULE_FILE_BYTES = 1024 * 1024;

export function oversizeProblem(file: string, size: number, max: number): Problem {
  return oversize(
    file,
    size,
    max,
    "rule file",
    "split it into several files, or raise rulesMaxFileBytes in the config",
  );
}
