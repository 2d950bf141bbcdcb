// `edge-agent validate` for rules: every rule file of the directory, in name order, with the
// cross-file check (a rule id used twice is reported in the later file, as the loader would
// refuse it there).

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage, type Problem } from "../core/errors.js";
import { DEFAULT_MAX_RULE_FILE_BYTES, oversizeProblem } from "./file-size.js";
import { hasErrors, parseRuleDocument } from "./validate.js";

/** Rule files: `*.json`, minus hidden files and editor leftovers (`.#x`, `x~`, `.x.swp`). */
export function isRuleFileName(name: string): boolean {
  return name.endsWith(".json") && !name.startsWith(".") && !name.startsWith("#") && !name.startsWith("_");
}

export async function listRuleFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names.filter(isRuleFileName).sort();
}

export async function validateRulesDir(dir: string, maxFileBytes = DEFAULT_MAX_RULE_FILE_BYTES): Promise<Problem[]> {
  let names: string[];
  try {
    names = await listRuleFiles(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      return [
        {
          file: dir || ".",
          path: "$",
          message: "rules directory does not exist: no rules will be loaded",
          hint: "create it or fix rulesDir",
          severity: "warning",
        },
      ];
    return [{ file: dir, path: "$", message: `cannot read rules directory: ${errorMessage(err)}` }];
  }
  const problems: Problem[] = [];
  const owner = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    let text: string;
    try {
      const { size } = await stat(file);
      if (size > maxFileBytes) {
        problems.push(oversizeProblem(file, size, maxFileBytes));
        continue;
      }
      text = await readFile(file, "utf8");
    } catch (err) {
      problems.push({ file, path: "$", message: `cannot read rule file: ${errorMessage(err)}` });
      continue;
    }
    const r = parseRuleDocument(file, text);
    problems.push(...r.problems);
    if (hasErrors(r.problems)) continue;
    const single = r.rules.length === 1 && !text.trimStart().startsWith("[");
    r.rules.forEach((rule, i) => {
      const other = owner.get(rule.id);
      if (other !== undefined) {
        problems.push({
          file,
          path: single ? "$.id" : `$[${i}].id`,
          message: `duplicate rule id '${rule.id}': already defined in ${other}`,
          hint: "rule ids must be unique across all rule files",
        });
      } else owner.set(rule.id, file);
    });
  }
  return problems;
}
