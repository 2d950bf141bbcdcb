// `npm run bench`: runs every area's benchmark in turn and prints their figures. Each figure is a
// ratio against a baseline measured in the same run, so numbers from different machines compare.
// Usage: npm run bench [-- area ...]   (areas: pipeline rules mqtt modbus alarms upstream hooks http files tasks notify)

import { cpus, totalmem } from "node:os";

const all = ["rules", "pipeline", "mqtt", "modbus", "alarms", "upstream", "hooks", "http", "files", "tasks", "notify"];
const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : all;

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
);
let failed = 0;
for (const area of wanted) {
  let mod: { default?: () => Promise<void> };
  try {
    mod = (await import(`./${area}.ts`)) as { default?: () => Promise<void> };
  } catch (err) {
    if (!all.includes(area)) console.log(`${area}: no such benchmark`);
    else if ((err as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND")
      console.log(`${area}: failed to load: ${err}`);
    continue;
  }
  if (typeof mod.default !== "function") continue;
  console.log(`\n== ${area} ==`);
  try {
    await mod.default();
  } catch (err) {
    failed++;
    console.log(`${area}: FAILED: ${(err as Error).stack ?? err}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
