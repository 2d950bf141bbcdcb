// `${NAME}` / `${NAME:-default}` substitution in every string of a parsed JSON document, so secrets
// live in the service environment, not in the file. Collects the secret values it produced so the
// logger can mask them. Mutates the document it is given (the loader owns that copy).

import type { Problem } from "../core/errors.js";
import { isSecretKey, SECRET_VARIABLE } from "../core/secrets.js";
import { childPath } from "./json-scan.js";

// $${...} is an escaped literal; ${NAME} and ${NAME:-default} are references; any other ${ is an error.
const REF = /\$\$\{|\$\{([^}]*)\}?/g;
const NAME_RE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export interface SubstituteResult {
  problems: Problem[];
  secrets: string[];
  /** Every value taken from the environment, with its variable: never echoed in a problem. */
  substituted: Array<{ name: string; value: string }>;
}

function substituteString(
  input: string,
  env: NodeJS.ProcessEnv,
  onProblem: (message: string, hint?: string) => void,
  onValue: (name: string, value: string) => void,
): string {
  return input.replace(REF, (match: string, inner: string | undefined) => {
    if (match === "$${") return "${";
    if (!match.endsWith("}")) {
      onProblem(`unterminated variable reference '${match}'`, "write $" + "{NAME} or $" + "{NAME:-default}");
      return match;
    }
    const m = NAME_RE.exec(inner ?? "");
    if (!m) {
      onProblem(`invalid variable reference '${match}'`, "names use letters, digits and _; write $${ for a literal ${");
      return match;
    }
    const name = m[1] as string;
    const fallback = m[2];
    const value = env[name];
    if (fallback !== undefined) {
      // Shell semantics of :- — the default also applies when the variable is set but empty.
      const v = value === undefined || value === "" ? fallback : value;
      if (value !== undefined && value !== "") onValue(name, value);
      return v;
    }
    if (value === undefined) {
      onProblem(`environment variable ${name} is not set`);
      return "";
    }
    onValue(name, value);
    return value;
  });
}

/** Replaces references in place in every string value (not in keys). */
export function substituteEnv(doc: unknown, env: NodeJS.ProcessEnv, file: string): SubstituteResult {
  const problems: Problem[] = [];
  const secrets = new Set<string>();
  const substituted = new Map<string, string>();

  const visitString = (s: string, path: string, key: string | number): string => {
    if (!s.includes("${")) {
      if (typeof key === "string" && isSecretKey(key) && s !== "") secrets.add(s);
      return s;
    }
    const used: Array<[string, string]> = [];
    const out = substituteString(
      s,
      env,
      (message, hint) => problems.push({ file, path, message, ...(hint ? { hint } : {}) }),
      (name, value) => used.push([name, value]),
    );
    const secretKey = typeof key === "string" && isSecretKey(key);
    if (secretKey && out !== "") secrets.add(out);
    for (const [name, value] of used) {
      if (value !== "") substituted.set(value, name);
      if (secretKey || SECRET_VARIABLE.test(name)) secrets.add(value);
    }
    return out;
  };

  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => {
        if (typeof v === "string") node[i] = visitString(v, childPath(path, i), i);
        else visit(v, childPath(path, i));
      });
    } else if (node !== null && typeof node === "object") {
      const obj = node as Record<string, unknown>;
      for (const [k, v] of Object.entries(obj)) {
        if (typeof v === "string") obj[k] = visitString(v, childPath(path, k), k);
        else visit(v, childPath(path, k));
      }
    }
  };
  visit(doc, "$");
  return {
    problems,
    secrets: [...secrets],
    substituted: [...substituted].map(([value, name]) => ({ name, value })),
  };
}
