// `edge-agent validate [-c FILE] [--plan]`: checks the configuration, every rule file and every hook
// module, prints every problem as `file:line:col: $.path: message — hint`, exits 0 when all is
// valid (warnings allowed) and 1 otherwise. Rule, hook and plan checkers belong to other parts of
// the agent and are imported on demand; a build without one says so instead of failing.

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { bestEffortDirs } from "../config/best-effort.js";
import { formatProblemLine, plural, problemSummary } from "../config/format.js";
import { isError, loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { errorMessage, type Problem } from "../core/errors.js";
import type { ValidateHooksOptions } from "../hooks/validate-dir.js";
import { DEFAULT_CONFIG, parseCommandArgs } from "./args.js";
import { type CliIO, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./io.js";
import { recipientChecks } from "./validate-recipients.js";

type Loaded<F> = { ok: true; fn: F } | { ok: false; why: string };

/** Imports `specifier` (relative to this module) and picks the named function, telling "absent" from "broken". */
export async function importOptional<F>(specifier: string, name: string): Promise<Loaded<F>> {
  let mod: unknown;
  try {
    mod = await import(specifier);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const absent = code === "ERR_MODULE_NOT_FOUND" && errorMessage(err).includes(specifier.replace(/^\.\.?\//, ""));
    return { ok: false, why: absent ? "not part of this build" : `failed to load: ${errorMessage(err)}` };
  }
  const fn = mod !== null && typeof mod === "object" ? (mod as Record<string, unknown>)[name] : undefined;
  if (typeof fn !== "function") return { ok: false, why: `does not export ${name}()` };
  return { ok: true, fn: fn as F };
}

async function countRules(dir: string): Promise<number> {
  let n = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.endsWith(".json") || name.startsWith(".")) continue;
    try {
      const v: unknown = JSON.parse(await readFile(join(dir, name), "utf8"));
      n += Array.isArray(v) ? v.length : 1;
    } catch {
      // Reported by the rules validator.
    }
  }
  return n;
}

async function countHooks(dir: string, disabled: readonly string[]): Promise<number> {
  try {
    const names = await readdir(dir);
    return names.filter((n) => {
      if (n.startsWith("_") || n.startsWith(".") || !/\.(m?js)$/.test(n)) return false;
      const stem = n.replace(/\.(m?js)$/, "");
      return !disabled.includes(n) && !disabled.includes(stem);
    }).length;
  } catch {
    return 0;
  }
}

function deviceCount(c: Config): number {
  return new Set([...(c.modbus?.devices ?? []).map((d) => d.id), ...Object.keys(c.devices ?? {})]).size;
}

export async function main(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs(args, {
    config: { type: "string", short: "c", default: DEFAULT_CONFIG },
    plan: { type: "boolean", default: false },
  });
  if (!parsed.ok) {
    io.stderr(`edge-agent validate: ${parsed.error}\nUsage: edge-agent validate [-c FILE] [--plan]\n`);
    return EXIT_USAGE;
  }
  const file = parsed.values.config ?? DEFAULT_CONFIG;
  const problems: Problem[] = [];
  const notes: string[] = [];

  const loaded = await loadConfig(file, io.env, { cwd: io.cwd });
  problems.push(...loaded.problems);
  const config = loaded.config;
  const dirs = config
    ? {
        rulesDir: config.rulesDir ?? "",
        hooksDir: config.hooksDir ?? "",
        dataDir: config.dataDir ?? "",
        disabled: [...(config.hooks?.disabled ?? [])],
      }
    : await bestEffortDirs(file, io.cwd).then((d) => ({ ...d, disabled: d.disabledHooks }));

  const rules = await importOptional<(dir: string, maxFileBytes?: number) => Promise<Problem[]>>(
    "../rules/validate-dir.js",
    "validateRulesDir",
  );
  if (rules.ok) {
    try {
      problems.push(...(await rules.fn(dirs.rulesDir, config?.rulesMaxFileBytes)));
    } catch (err) {
      problems.push({ file: dirs.rulesDir, path: "$", message: `rule validation failed: ${errorMessage(err)}` });
    }
  } else notes.push(`note: rule files not checked: the rule validator is ${rules.why}`);
  if (config) {
    // Cross-check of rules against the config: work orders need the devices' areaId.
    const areas = await importOptional<(c: Config, dir: string) => Promise<Problem[]>>(
      "../rules/work-order-areas.js",
      "workOrderAreaWarnings",
    );
    if (areas.ok) problems.push(...(await areas.fn(config, dirs.rulesDir).catch(() => [])));
  }

  const hooks = await importOptional<
    (dir: string, disabled: string[], opts: ValidateHooksOptions) => Promise<Problem[]>
  >("../hooks/validate-dir.js", "validateHooksDir");
  if (hooks.ok) {
    try {
      // Each file is named before it is imported, so whatever a hook does, the last line says which one.
      const watchdogS = config?.hooks?.watchdogS ?? 30;
      const opts: ValidateHooksOptions = {
        dataDir: dirs.dataDir,
        importTimeoutMs: (watchdogS > 0 ? watchdogS : 30) * 1000,
        onFile: (f) => io.stderr(`checking hook ${f}\n`),
      };
      problems.push(...(await hooks.fn(dirs.hooksDir, dirs.disabled, opts)));
    } catch (err) {
      problems.push({ file: dirs.hooksDir, path: "$", message: `hook validation failed: ${errorMessage(err)}` });
    }
  } else notes.push(`note: hook modules not checked: the hook validator is ${hooks.why}`);

  let taskCount = 0;
  if (config) {
    // Task files are checked against the config (devices, writable points, MQTT, time zone).
    const tasks = await importOptional<typeof import("../tasks/validate-dir.js").validateTasksDir>(
      "../tasks/validate-dir.js",
      "validateTasksDir",
    );
    const context = await importOptional<typeof import("../tasks/check-context.js").taskCheckContext>(
      "../tasks/check-context.js",
      "taskCheckContext",
    );
    if (tasks.ok && context.ok) {
      try {
        const r = await tasks.fn(config.tasksDir, await context.fn(config));
        problems.push(...r.problems);
        taskCount = r.tasks.length;
      } catch (err) {
        problems.push({ file: config.tasksDir, path: "$", message: `task validation failed: ${errorMessage(err)}` });
      }
    } else {
      const why = !tasks.ok ? tasks.why : !context.ok ? context.why : "";
      notes.push(`note: task files not checked: the task validator is ${why}`);
    }
  }

  if (config) {
    // The recipients file, and the rules' recipients and e-mail addresses against it.
    try {
      problems.push(...(await recipientChecks(config, io.env)).problems);
    } catch (err) {
      problems.push({
        file: config.notify.recipientsFile,
        path: "$",
        message: `recipients validation failed: ${errorMessage(err)}`,
      });
    }
  }

  for (const p of problems) io.stdout(`${formatProblemLine(p)}\n`);
  for (const n of notes) io.stdout(`${n}\n`);

  if (parsed.values.plan && config) {
    const plan = await importOptional<(c: Config) => string>("../sources/modbus/plan.js", "formatPlan");
    if (plan.ok) io.stdout(`${plan.fn(config).replace(/\n?$/, "\n")}`);
    else io.stdout(`note: no Modbus request plan: the planner is ${plan.why}\n`);
  }

  if (problems.some(isError)) {
    io.stdout(`${file}: not valid (${problemSummary(problems)})\n`);
    return EXIT_FAILURE;
  }
  const [ruleCount, hookCount] = await Promise.all([
    countRules(dirs.rulesDir),
    countHooks(dirs.hooksDir, dirs.disabled),
  ]);
  const c = config as Config;
  const warnings = problems.length > 0 ? `, ${plural(problems.length, "warning")}` : "";
  io.stdout(
    `${file}: valid — ${plural(deviceCount(c), "device")}, ${plural(ruleCount, "rule")}, ${plural(hookCount, "hook")}, ${plural(taskCount, "task")}${warnings}\n`,
  );
  return EXIT_OK;
}
