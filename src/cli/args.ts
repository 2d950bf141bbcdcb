// Argument parsing for commands on top of node:util parseArgs: a usage mistake becomes a message
// and exit code 2 instead of an exception.

import { type ParseArgsConfig, parseArgs } from "node:util";
import { errorMessage } from "../core/errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export type ParsedArgs<O extends Options> = ReturnType<typeof parseArgs<{ options: O; args: string[] }>>["values"];

export function parseCommandArgs<O extends Options>(
  args: string[],
  options: O,
  opts: { positionals?: boolean } = {},
): { ok: true; values: ParsedArgs<O>; positionals: string[] } | { ok: false; error: string } {
  try {
    const r = parseArgs({ args, options, allowPositionals: opts.positionals ?? false, strict: true });
    return { ok: true, values: r.values as ParsedArgs<O>, positionals: r.positionals };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

/** The default config file of every command. */
export const DEFAULT_CONFIG = "./config/agent.json";
