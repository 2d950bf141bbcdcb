// Printing problems the same way everywhere (validate, run): `file:line:col: $.path: message — hint`,
// warnings marked as such, and a one-line verdict.

import { formatProblem, type Problem } from "../core/errors.js";

export function formatProblemLine(p: Problem): string {
  return p.severity === "warning" ? formatProblem({ ...p, message: `warning: ${p.message}` }) : formatProblem(p);
}

export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `${formatProblemLine(p)}\n`).join("");
}

export function countErrors(problems: readonly Problem[]): { errors: number; warnings: number } {
  let warnings = 0;
  for (const p of problems) if (p.severity === "warning") warnings++;
  return { errors: problems.length - warnings, warnings };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "2 errors, 1 warning" */
export function problemSummary(problems: readonly Problem[]): string {
  const { errors, warnings } = countErrors(problems);
  return warnings > 0 ? `${plural(errors, "error")}, ${plural(warnings, "warning")}` : plural(errors, "error");
}

export { plural };

/**
 * Prints a config load's problems the way `validate` does, for `run`: every line, then a verdict
 * when the config was refused. Returns true when the agent may start (warnings only).
 */
export function reportConfigProblems(
  file: string,
  problems: readonly Problem[],
  accepted: boolean,
  write: (s: string) => void,
): boolean {
  write(formatProblems(problems));
  if (!accepted) write(`${file}: configuration is not valid (${problemSummary(problems)}); not starting\n`);
  return accepted;
}
