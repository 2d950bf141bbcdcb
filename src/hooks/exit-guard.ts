// Keeps hook code from ending the agent. While the guard is installed, process.exit, process.abort,
// process.reallyExit and process.kill aimed at this process throw instead; only `agentExit` (what
// the agent itself uses) still ends the process.
//
// Why "refuse every call" rather than "refuse calls made by a hook": telling a hook's call apart
// needs an async context (AsyncLocalStorage costs a promise hook on every promise in Node 20) or the
// stack (misses `setTimeout(process.exit)`, library code and callbacks bound elsewhere). Nothing in
// the running agent calls process.exit except its own shutdown path, which runs after the guard is
// removed or through agentExit, so refusing every call is both the simplest and the safest rule.
// The stack and the activity marker are used only to name the culprit in the log.

import { pathToFileURL } from "node:url";
import { AgentError } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import type { HookActivity, HookIdentity } from "./activity.js";

interface Saved {
  exit: typeof process.exit;
  abort: typeof process.abort;
  kill: typeof process.kill;
  reallyExit: unknown;
}

let saved: Saved | null = null;

/** Ends the process with `code` even while the guard is installed (the agent's own exit path). */
export function agentExit(code: number): never {
  const exit = saved?.exit ?? process.exit;
  return exit.call(process, code);
}

export interface Culprit {
  hook?: string;
  file?: string;
  method?: string;
}

/** Names the hook behind a refused call: from the stack first (exact), else the activity marker. */
export function findCulprit(activity: HookActivity | undefined, stack: string): Culprit {
  const running = activity?.current();
  if (activity !== undefined) {
    for (const line of stack.split("\n").slice(1)) {
      const h = identityInLine(activity.identities(), line);
      if (h === undefined) continue;
      if (running?.hook === h) return { hook: h.name, file: h.file, method: running.method };
      // "    at Object.onReading (file:///…/hooks/x.mjs?v=1:3:5)" → onReading; top-level code has no name.
      const fn = /^\s*at (?:async )?(?:[\w$]+\.)?([\w$<>]+) \(/.exec(line)?.[1];
      return { hook: h.name, file: h.file, method: fn ?? "import" };
    }
  }
  if (running !== undefined) return { hook: running.hook.name, file: running.hook.file, method: running.method };
  return {};
}

function identityInLine(ids: readonly HookIdentity[], line: string): HookIdentity | undefined {
  for (const h of ids) {
    if (line.includes(h.file) || line.includes(pathToFileURL(h.file).href)) return h;
  }
  return undefined;
}

function describeCall(name: string, args: unknown[]): string {
  return `process.${name}(${args.map((a) => JSON.stringify(a) ?? String(a)).join(", ")})`;
}

/**
 * Installs the guard; returns the function that removes it. `activity` names the hook in the log
 * line written for every refused call (the hook may catch the error and stay silent).
 */
export function installExitGuard(log: Logger, activity?: HookActivity): () => void {
  if (saved !== null) throw new Error("exit guard already installed");
  const p = process as NodeJS.Process & { reallyExit?: unknown };
  const mine: Saved = { exit: p.exit, abort: p.abort, kill: p.kill, reallyExit: p.reallyExit };
  saved = mine;

  const refuse = (name: string, args: unknown[]): never => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 50;
    const stack = new Error("refused").stack ?? "";
    Error.stackTraceLimit = limit;
    const c = findCulprit(activity, stack);
    const call = describeCall(name, args);
    const who = c.hook !== undefined ? `hook ${c.hook} (${c.method ?? "unknown"})` : "code outside any hook";
    const err = new AgentError(
      "EA_HOOK_EXIT",
      `${call} refused: ${who} tried to end the agent; a hook cannot stop or restart the agent, throw an error instead`,
    );
    log.error({ code: err.code, hook: c.hook, method: c.method, file: c.file, call, stack }, err.message);
    throw err;
  };

  p.exit = ((...args: unknown[]) => refuse("exit", args)) as typeof process.exit;
  p.abort = ((...args: unknown[]) => refuse("abort", args)) as typeof process.abort;
  if (typeof mine.reallyExit === "function") p.reallyExit = (...args: unknown[]) => refuse("reallyExit", args);
  p.kill = ((pid: number, signal?: string | number) => {
    // Signal 0 only probes; other processes are the hook's business.
    const self = Number(pid) === process.pid || Number(pid) === 0;
    if (self && signal !== 0) return refuse("kill", signal === undefined ? [pid] : [pid, signal]);
    return mine.kill.call(process, pid, signal);
  }) as typeof process.kill;

  return () => {
    if (saved !== mine) return;
    p.exit = mine.exit;
    p.abort = mine.abort;
    p.kill = mine.kill;
    if (typeof mine.reallyExit === "function") p.reallyExit = mine.reallyExit;
    saved = null;
  };
}
