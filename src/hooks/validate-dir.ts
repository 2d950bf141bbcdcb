// `edge-agent validate` for hooks: imports every hook module of the directory and reports import
// errors, modules that are not hooks and misspelt method names. Classes are not constructed
// (that would run site code with side effects); their prototype methods are checked instead.
// Import errors and misspelt method names are errors (the hook would not do its job); a module that
// is not a hook at all is a warning (the agent skips it). A hook the agent quarantined (it froze
// the agent) is an error while its file is unchanged, and so is a second hook defining a method only
// one hook may own (the agent would refuse it at load, exclusive.ts).
//
// Each module is imported in a worker thread of its own, not in validate's process: a hook whose
// top-level code calls process.exit would end `validate` without a word, and one that never
// returns would hang it. In the worker, process.exit and process.kill of this process throw (as in
// the agent), and a worker still busy after the time limit is terminated and reported. The worker
// sends back only the shape of the module (which exports, which methods), checked here.

import { basename } from "node:path";
import { Worker } from "node:worker_threads";
import { errorMessage, type Problem } from "../core/errors.js";
import { exclusiveConflict, type MethodHolder } from "./exclusive.js";
import { describeUnknown, hookMethods, isDisabled, listHookFiles, resolveExport, unknownMethods } from "./loader.js";
import { describeQuarantine, fileSha256, readQuarantine } from "./quarantine.js";

export interface ValidateHooksOptions {
  /** Where hook-quarantine.json is; without it quarantines are not reported. */
  dataDir?: string;
  /** Time one module may take to import (default 30 s, the watchdog's default). */
  importTimeoutMs?: number;
  /** Called with each file before it is imported. */
  onFile?: (file: string) => void;
}

/** What a module looked like inside the worker: enough to rebuild a stand-in for resolveExport. */
type Shape =
  | { t: "undefined" | "null" | "function" | "string" | "number" | "boolean" | "bigint" | "symbol" }
  | { t: "class"; names: string[] }
  | { t: "object"; names: string[]; esDefault?: Shape };

type ImportOutcome = { ok: true; keys: string[]; def: Shape } | { ok: false; error: string };

const WORKER_SOURCE = `
"use strict";
const { workerData, parentPort } = require("node:worker_threads");
const { pathToFileURL } = require("node:url");
const refuse = (call) => { throw new Error(call + " refused: a hook cannot end the agent"); };
const fmt = (args) => args.map((a) => JSON.stringify(a) ?? String(a)).join(", ");
process.exit = (...args) => refuse("process.exit(" + fmt(args) + ")");
const kill = process.kill;
process.kill = (pid, sig) => {
  if ((Number(pid) === process.pid || Number(pid) === 0) && sig !== 0) refuse("process.kill(" + fmt(sig === undefined ? [pid] : [pid, sig]) + ")");
  return kill.call(process, pid, sig);
};
function names(obj) {
  const out = new Set();
  for (let p = obj; p !== null && p !== undefined && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k === "constructor") continue;
      const d = Object.getOwnPropertyDescriptor(p, k);
      if (d && typeof d.value === "function") out.add(k);
    }
  }
  return [...out];
}
function shape(v, depth) {
  if (v === undefined) return { t: "undefined" };
  if (v === null) return { t: "null" };
  if (typeof v === "function") {
    return /^class[\\s{]/.test(Function.prototype.toString.call(v)) ? { t: "class", names: names(v.prototype) } : { t: "function" };
  }
  if (typeof v === "object") {
    const s = { t: "object", names: names(v) };
    if (depth === 0 && v.__esModule === true && "default" in v) s.esDefault = shape(v.default, 1);
    return s;
  }
  return { t: typeof v };
}
import(pathToFileURL(workerData.file).href).then(
  (mod) => parentPort.postMessage({ ok: true, keys: Object.keys(mod), def: shape(mod.default, 0) }),
  (err) => parentPort.postMessage({ ok: false, error: err && err.message ? err.message : String(err) }),
);
`;

function importInWorker(file: string, timeoutMs: number): Promise<ImportOutcome> {
  return new Promise((resolve) => {
    let done = false;
    // No TypeScript loader or other preload: hook modules are plain JavaScript.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { file } });
    const finish = (o: ImportOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // The module may have left timers or sockets open: the worker is not needed any more.
      void worker.terminate();
      resolve(o);
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          error: `importing it did not finish within ${timeoutMs / 1000} s (its top-level code blocks or never returns); the agent's watchdog would quarantine it`,
        }),
      timeoutMs,
    );
    worker.once("message", (m: ImportOutcome) => finish(m));
    worker.once("error", (err) => finish({ ok: false, error: errorMessage(err) }));
    worker.once("exit", (code) =>
      finish({ ok: false, error: `its top-level code ended the import (exit code ${code})` }),
    );
  });
}

function rebuild(s: Shape): unknown {
  const withMethods = (target: object, names: string[]) => {
    for (const n of names) Object.defineProperty(target, n, { value: () => undefined, enumerable: false });
    return target;
  };
  switch (s.t) {
    case "undefined":
      return undefined;
    case "null":
      return null;
    case "function":
      return () => undefined;
    case "class": {
      const C = class {};
      withMethods(C.prototype, s.names);
      return C;
    }
    case "object": {
      const o = withMethods({}, s.names) as Record<string, unknown>;
      if (s.esDefault !== undefined) {
        o.__esModule = true;
        o.default = rebuild(s.esDefault);
      }
      return o;
    }
    case "string":
      return "";
    case "number":
      return 0;
    case "boolean":
      return false;
    case "bigint":
      return 0n;
    default:
      return Symbol();
  }
}

export async function validateHooksDir(
  dir: string,
  disabled: readonly string[] = [],
  opts: ValidateHooksOptions = {},
): Promise<Problem[]> {
  const problems: Problem[] = [];
  let files: Awaited<ReturnType<typeof listHookFiles>>;
  try {
    files = await listHookFiles(dir);
  } catch (err) {
    return [{ file: dir, path: "$", message: `cannot read hooks directory: ${errorMessage(err)}` }];
  }
  const quarantine = opts.dataDir !== undefined ? readQuarantine(opts.dataDir) : new Map();
  /** Hooks that would load, in load order: the first to define an exclusive method owns it. */
  const loaded: MethodHolder[] = [];
  for (const f of files) {
    if (isDisabled(f, disabled)) continue;
    const q = quarantine.get(f.name);
    if (q !== undefined && q.sha256 === fileSha256(f.file)) {
      problems.push({
        file: f.file,
        path: "$",
        message: describeQuarantine(f.name, q),
        hint: "fix the hook so it returns promptly; saving a changed file ends the quarantine",
      });
      continue;
    }
    opts.onFile?.(f.file);
    const outcome = await importInWorker(f.file, opts.importTimeoutMs ?? 30_000);
    if (!outcome.ok) {
      problems.push({ file: f.file, path: "$", message: `cannot import hook: ${outcome.error}` });
      continue;
    }
    const mod: Record<string, unknown> = {};
    for (const k of outcome.keys) mod[k] = true;
    mod.default = rebuild(outcome.def);
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
    const holder: MethodHolder = { name: f.name, file: f.file, methods: hookMethods(target) };
    const conflict = exclusiveConflict(holder, loaded);
    if (conflict === undefined) loaded.push(holder);
    else problems.push({ file: f.file, path: `$.${conflict.method}`, message: conflict.message });
  }
  return problems;
}
