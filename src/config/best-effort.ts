// Directory settings read from a config file that did not validate (a missing secret, a typo
// elsewhere), so inspection commands — validate's rule and hook checks, alarms, outbox — still
// find the right directories. Values with ${...} references or of the wrong type fall back to defaults.

import { readFile } from "node:fs/promises";
import { DEFAULTS, resolvePath } from "./defaults.js";
import { parseJsonText } from "./load.js";

export interface BestEffortDirs {
  dataDir: string;
  rulesDir: string;
  hooksDir: string;
  disabledHooks: string[];
}

export async function bestEffortDirs(file: string, cwd: string): Promise<BestEffortDirs> {
  const dirs: BestEffortDirs = {
    dataDir: resolvePath(DEFAULTS.dataDir, cwd),
    rulesDir: resolvePath(DEFAULTS.rulesDir, cwd),
    hooksDir: resolvePath(DEFAULTS.hooksDir, cwd),
    disabledHooks: [],
  };
  let doc: Record<string, unknown>;
  try {
    const { value } = parseJsonText(await readFile(resolvePath(file, cwd), "utf8"), file);
    if (value === null || typeof value !== "object") return dirs;
    doc = value as Record<string, unknown>;
  } catch {
    return dirs;
  }
  const plain = (v: unknown): v is string => typeof v === "string" && v !== "" && !v.includes("${");
  if (plain(doc.dataDir)) dirs.dataDir = resolvePath(doc.dataDir, cwd);
  if (plain(doc.rulesDir)) dirs.rulesDir = resolvePath(doc.rulesDir, cwd);
  if (plain(doc.hooksDir)) dirs.hooksDir = resolvePath(doc.hooksDir, cwd);
  const hooks = doc.hooks as { disabled?: unknown } | undefined;
  if (hooks && Array.isArray(hooks.disabled))
    dirs.disabledHooks = hooks.disabled.filter((x): x is string => typeof x === "string");
  return dirs;
}
