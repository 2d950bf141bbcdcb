#!/usr/bin/env node
// The `edge-agent` binary: the only module that touches process.argv and process.exit. Everything
// else is in src/cli/ and returns an exit code.

import { dispatch } from "./cli/dispatch.js";
import type { CliIO } from "./cli/io.js";

async function runProcess(): Promise<void> {
  const io: CliIO = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    cwd: process.cwd(),
  };
  let code: number;
  try {
    code = await dispatch(process.argv.slice(2), io);
  } catch (err) {
    process.stderr.write(`edge-agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    code = 1;
  }
  // stdout/stderr are synchronous for files and pipes on POSIX; exiting here cannot cut output short.
  process.exit(code);
}

await runProcess();
