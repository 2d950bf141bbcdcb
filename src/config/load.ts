// Loads config/agent.json: strict JSON (syntax errors with line:column), ${ENV} substitution,
// schema validation (closed objects, "did you mean"), semantic checks, defaults. Every problem is
// returned, nothing is thrown for user mistakes; the config is null when any problem is an error,
// otherwise complete and deep-frozen.

import { readFile } from "node:fs/promises";
import { Ajv, type ValidateFunction } from "ajv";
import { errorMessage, type Problem } from "../core/errors.js";
import { maskForms, maskText } from "../core/secrets.js";
import { ajvProblems } from "./ajv-problems.js";
import { checkConfig } from "./checks.js";
import { deepFreeze, type ResolvedConfig, resolveDefaults, resolvePath } from "./defaults.js";
import { substituteEnv } from "./env.js";
import { lineColumn, scanJson } from "./json-scan.js";
import { type Config, ConfigSchema } from "./schema.js";

export { isLoopback } from "./checks.js";
export {
  DATABASE_FILE,
  DEFAULTS,
  deepFreeze,
  type ResolvedConfig,
  resolveDefaults,
  resolvePath,
} from "./defaults.js";

export interface LoadResult {
  /** Complete (every default applied, directories absolute) and deep-frozen. */
  config: ResolvedConfig | null;
  problems: Problem[];
  /** Secret values (passwords, tokens, app secrets, substituted secret variables) for log masking. */
  secrets: string[];
}

export interface LoadOptions {
  /** Directory that the file and relative paths resolve against (default: the process working directory).
   *  Problems name the file as given. */
  cwd?: string;
}

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: false }).compile(ConfigSchema);
  return compiled;
}

export const isError = (p: Problem): boolean => p.severity !== "warning";

/** Parses strict JSON text; a syntax error becomes a Problem with line and column. */
export function parseJsonText(text: string, file: string): { value: unknown; problems: Problem[] } {
  const scan = scanJson(text);
  if (scan.error) {
    const { line, column, message } = scan.error;
    return { value: undefined, problems: [{ file, path: "$", line, column, message: `invalid JSON: ${message}` }] };
  }
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    // The scanner and V8 agree on valid JSON; this is a fallback that reads V8's position.
    const msg = errorMessage(err);
    const lc = /line (\d+) column (\d+)/.exec(msg);
    const pos = /position (\d+)/.exec(msg);
    const where = lc
      ? { line: Number(lc[1]), column: Number(lc[2]) }
      : pos
        ? lineColumn(text, Number(pos[1]))
        : { line: 1, column: 1 };
    return { value: undefined, problems: [{ file, path: "$", ...where, message: `invalid JSON: ${msg}` }] };
  }
  const problems: Problem[] = scan.duplicates.map((d) => ({
    file,
    path: d.path,
    line: d.line,
    column: d.column,
    message:
      d.repeats === 1 ? `duplicate key '${d.key}'` : `duplicate key '${d.key}' (${d.repeats + 1} times in this object)`,
    hint: "JSON keeps only the last one; remove the other",
  }));
  return { value, problems };
}

/** Replaces each substituted value in a problem's text by the reference it came from (`${NAME}`). */
function hideSubstituted(p: Problem, substituted: ReadonlyArray<{ name: string; value: string }>): Problem {
  if (substituted.length === 0) return p;
  let { message, hint } = p;
  // Longest first, so a value that contains another is replaced whole.
  const byLength = [...substituted].sort((a, b) => b.value.length - a.value.length);
  for (const { name, value } of byLength) {
    for (const form of maskForms([value])) {
      const ref = `\${${name}}`;
      message = maskText(message, [form], ref);
      if (hint !== undefined) hint = maskText(hint, [form], ref);
    }
  }
  return { ...p, message, ...(hint !== undefined ? { hint } : {}) };
}

/** Validates an already-parsed document (env references still unexpanded). */
export function validateConfigDocument(
  doc: unknown,
  file: string,
  env: NodeJS.ProcessEnv,
  opts: LoadOptions = {},
): LoadResult {
  const sub = substituteEnv(doc, env, file);
  const problems: Problem[] = [...sub.problems];
  // A value from the environment never stands in a message: it may be a secret put in the wrong
  // field (a token in gatewayId), and validate's output ends up in the journal.
  const hide = (list: Problem[]): Problem[] => list.map((p) => hideSubstituted(p, sub.substituted));
  const validate = validator();
  if (!validate(doc)) {
    const unset = new Set(sub.problems.map((p) => p.path));
    problems.push(...hide(ajvProblems(validate.errors ?? [], file, doc).filter((p) => !unset.has(p.path))));
    return { config: null, problems, secrets: sub.secrets };
  }
  const config = doc as Config;
  // A missing variable was already reported at its path; "empty value" there would be noise.
  const unset = new Set(sub.problems.map((p) => p.path));
  problems.push(...hide(checkConfig(config, file).filter((p) => !unset.has(p.path))));
  if (problems.some(isError)) return { config: null, problems, secrets: sub.secrets };
  const full = deepFreeze(resolveDefaults(config, opts.cwd ?? process.cwd()));
  return { config: full, problems, secrets: sub.secrets };
}

export async function loadConfig(file: string, env: NodeJS.ProcessEnv, opts: LoadOptions = {}): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(resolvePath(file, opts.cwd ?? process.cwd()), "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === "ENOENT"
        ? "file not found"
        : code === "EACCES"
          ? "permission denied"
          : code === "EISDIR"
            ? "is a directory, not a file"
            : `cannot read: ${errorMessage(err)}`;
    return {
      config: null,
      problems: [{ file, path: "$", message, ...(code === "ENOENT" ? { hint: "pass the file with -c FILE" } : {}) }],
      secrets: [],
    };
  }
  const parsed = parseJsonText(text, file);
  if (parsed.value === undefined) return { config: null, problems: parsed.problems, secrets: [] };
  const r = validateConfigDocument(parsed.value, file, env, opts);
  const problems = [...parsed.problems, ...r.problems];
  return { config: problems.some(isError) ? null : r.config, problems, secrets: r.secrets };
}
