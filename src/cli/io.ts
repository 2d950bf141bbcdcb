// What a command may touch of the outside world. Only src/main.ts reads process.argv and calls
// process.exit; commands write through these functions and return their exit code, so tests can
// run them in-process with captured output.

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  /** Directory relative paths (config file, dataDir) resolve against. */
  cwd: string;
}

/** Signature of every `src/cli/<command>.ts`. Resolves to the process exit code. */
export type CommandMain = (args: string[], io: CliIO) => Promise<number>;

/** Exit codes shared by all commands. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Resolves at the first SIGINT or SIGTERM (and stops listening for them). */
export function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(sig);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

/** Rows under a header in columns two spaces apart, the last column unpadded; ends with a newline. */
export function formatColumns(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n").concat("\n");
}
