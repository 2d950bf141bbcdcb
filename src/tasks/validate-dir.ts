// Every task file of a directory checked at once, as the loader would load them into an empty agent
// (name order; a task id already taken by an earlier file refuses the later file, naming both).
// For commands that read the files without a running agent (`edge-agent tasks`, `validate`).

import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { oversizeProblem } from "../config/file-size.js";
import { errorMessage, type Problem } from "../core/errors.js";
import { DEFAULT_MAX_TASK_FILE_BYTES, listTaskFiles } from "./loader.js";
import type { LoadedTask } from "./types.js";
import { hasErrors, parseTaskDocument, type TaskCheckContext } from "./validate.js";

export async function validateTasksDir(
  dir: string,
  ctx: TaskCheckContext,
  maxFileBytes = DEFAULT_MAX_TASK_FILE_BYTES,
): Promise<{ tasks: LoadedTask[]; problems: Problem[] }> {
  let names: string[];
  try {
    names = await listTaskFiles(dir);
  } catch (err) {
    // Tasks are optional: no directory is no task, as for the agent, which starts without one.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { tasks: [], problems: [] };
    return {
      tasks: [],
      problems: [{ file: dir, path: "$", message: `cannot read tasks directory: ${errorMessage(err)}` }],
    };
  }
  const tasks: LoadedTask[] = [];
  const problems: Problem[] = [];
  const owner = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    let text: string;
    try {
      const { size } = await stat(file);
      if (size > maxFileBytes) {
        problems.push(oversizeProblem(file, size, maxFileBytes, "task file", "split it into several files"));
        continue;
      }
      text = await readFile(file, "utf8");
    } catch (err) {
      problems.push({ file, path: "$", message: `cannot read task file: ${errorMessage(err)}` });
      continue;
    }
    const r = parseTaskDocument(file, text, ctx);
    problems.push(...r.problems);
    if (hasErrors(r.problems)) continue;
    const asArray = text.trimStart().startsWith("[");
    const taken = r.tasks.flatMap((t, i) => {
      const other = owner.get(t.id);
      if (other === undefined) return [];
      return [
        {
          file,
          path: asArray ? `$[${i}].id` : "$.id",
          message: `duplicate task id '${t.id}': already defined in ${other}`,
          hint: `task ids must be unique across all task files; rename one of them in ${file} or ${other}`,
        },
      ];
    });
    if (taken.length > 0) {
      problems.push(...taken);
      continue;
    }
    for (const t of r.tasks) {
      owner.set(t.id, file);
      tasks.push({ def: t, file: name });
    }
  }
  return { tasks, problems };
}
