// `edge-agent validate` for hooks: imports every hook module of the directory fresh and reports
// import errors, modules that are not hooks and misspelt method names. Classes are not constructed
// (that would run site code with side effects); their prototype methods are checked instead.
// Import errors and misspelt method names are errors (the hook would not do its job); a module that
// is not a hook at all is a warning (the agent skips it).

import { basename } from "node:path";
import { errorMessage, type Problem } from "../core/errors.js";
import { describeUnknown, importFresh, isDisabled, listHookFiles, resolveExport, unknownMethods } from "./loader.js";

export async function validateHooksDir(dir: string, disabled: readonly string[] = []): Promise<Problem[]> {
  const problems: Problem[] = [];
  let files: Awaited<ReturnType<typeof listHookFiles>>;
  try {
    files = await listHookFiles(dir);
  } catch (err) {
    return [{ file: dir, path: "$", message: `cannot read hooks directory: ${errorMessage(err)}` }];
  }
  for (const f of files) {
    if (isDisabled(f, disabled)) continue;
    let mod: Record<string, unknown>;
    try {
      mod = await importFresh(f.file, f.mtimeMs);
    } catch (err) {
      problems.push({ file: f.file, path: "$", message: `cannot import hook: ${errorMessage(err)}` });
      continue;
    }
    const r = resolveExport(mod);
    if (!r.ok) {
      problems.push({
        file: f.file,
        path: "$",
        message: `not a hook: ${r.reason}; the agent skips it`,
        // The agent runs fine without it (skipped with a warning), so validation does not fail on it.
        severity: "warning",
        hint: `export default { onAlarmCreated(alarm, device, rule, ctx) { … } }, or rename it _${basename(f.file)} to keep it out`,
      });
      continue;
    }
    const target: object = r.kind === "class" ? (r.ctor.prototype as object) : r.hook;
    for (const name of unknownMethods(target)) {
      problems.push({ file: f.file, path: `$.${name}`, message: `unknown hook method ${describeUnknown(name)}` });
    }
  }
  return problems;
}
