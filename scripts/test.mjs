#!/usr/bin/env node
// Runs every test/<layer>/**/*.test.ts under node:test with tsx (Node 20's --test does not glob .ts).
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const layers = process.argv.slice(2).length ? process.argv.slice(2) : ["unit", "integration", "e2e"];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".test.ts")) files.push(p);
  }
};
for (const layer of layers) {
  try {
    walk(join("test", layer));
  } catch {}
}
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
const args = ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=180000", ...files];
const r = spawnSync(process.execPath, args, { stdio: "inherit" });
process.exit(r.status ?? 1);
