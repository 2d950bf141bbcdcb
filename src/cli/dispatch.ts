// Command dispatch for the `edge-agent` binary: global flags, usage, and on-demand import of
// src/cli/<command>.ts so a command that fails to load never breaks the others (e.g. `validate`).

import { readFileSync } from "node:fs";
import { errorMessage } from "../core/errors.js";
import { type CliIO, type CommandMain, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./io.js";

const COMMANDS: Record<string, string> = {
  run: "run the agent",
  validate: "check the configuration, every rule file and every hook module",
  alarms: "list alarms from the local database",
  outbox: "show upstream delivery state: pending, delivered, dead letters",
  tasks: "list scheduled tasks with their next run and latest runs",
  maintenance: "list devices in maintenance, or switch one on or off in the running agent",
  notify: "send a test message to a recipient group through the running agent",
  sim: "run a simulated Modbus TCP power meter",
};

export const USAGE = `Usage: edge-agent <command> [options]

Commands:
  run      [-c FILE]                                 ${COMMANDS.run}
  validate [-c FILE] [--plan]                        ${COMMANDS.validate}
  alarms   [-c FILE] [--status active|resolved|all] [--json] [--limit N] [--db FILE]
                                                     ${COMMANDS.alarms}
  outbox   [-c FILE] [--json]                        ${COMMANDS.outbox}
  outbox   retry ID [-c FILE] [--json]               put dead letter ID back in the queue
  tasks    [-c FILE] [--json] [--runs N]             ${COMMANDS.tasks}
  maintenance [DID on|off] [--until TIME|DURATION] [--reason TEXT] [-c FILE]
                                                     ${COMMANDS.maintenance}
  notify   test --recipient ID [-c FILE] [--json]    ${COMMANDS.notify}
  sim      [--port N]                                ${COMMANDS.sim}

Options:
  -c, --config FILE   configuration file (default ./config/agent.json)
  -h, --help          show this help
  -v, --version       show the version

Exit codes: 0 success, 1 failure or invalid configuration, 2 usage error.
Documentation: docs/cli.md, docs/configuration.md
`;

export function packageVersion(): string {
  try {
    // src/cli/ and dist/cli/ both sit two levels below package.json.
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

function isCommandModule(m: unknown): m is { main: CommandMain } {
  return m !== null && typeof m === "object" && typeof (m as { main?: unknown }).main === "function";
}

/** Runs one invocation; returns the exit code. Exported for in-process tests. */
export async function dispatch(argv: string[], io: CliIO): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr(USAGE);
    return EXIT_USAGE;
  }
  if (first === "-h" || first === "--help" || first === "help") {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  if (first === "-v" || first === "-V" || first === "--version") {
    io.stdout(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  if (!Object.hasOwn(COMMANDS, first)) {
    io.stderr(`edge-agent: unknown command '${first}'\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const help = rest.includes("-h") || rest.includes("--help");
  // A variable specifier: a command another part of the build has not shipped must not break the rest.
  const specifier = `./${first}.js`;
  let mod: unknown;
  try {
    mod = await import(specifier);
  } catch (err) {
    if (help) {
      io.stdout(USAGE);
      return EXIT_OK;
    }
    io.stderr(`edge-agent: command '${first}' cannot be loaded: ${errorMessage(err)}\n`);
    return EXIT_FAILURE;
  }
  if (help) {
    // A command with subcommands or more to say exports its own HELP; the others share the overview.
    const own = mod !== null && typeof mod === "object" ? (mod as { HELP?: unknown }).HELP : undefined;
    io.stdout(typeof own === "string" ? own : USAGE);
    return EXIT_OK;
  }
  if (!isCommandModule(mod)) {
    io.stderr(`edge-agent: command '${first}' is not available in this build\n`);
    return EXIT_FAILURE;
  }
  return mod.main(rest, io);
}
