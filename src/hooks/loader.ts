// Finding and importing hook modules (docs/hooks.md). A module is imported fresh (cache-busted by mtime)
// so an edited file is really re-read; ESM default exports and CommonJS module.exports (including
// TypeScript's `exports.default`) are both accepted. Nothing here runs hook code except the import.

import { readdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { HOOK_METHODS, type Hook, type HookClass } from "./types.js";

export interface HookFile {
  name: string;
  file: string;
  mtimeMs: number;
}

/** The hook name of a file: its base name without `.js` / `.mjs`. */
export function hookName(file: string): string {
  return basename(file, extname(file));
}

export function isHookFileName(fileName: string): boolean {
  if (fileName.startsWith("_") || fileName.startsWith(".")) return false;
  return fileName.endsWith(".js") || fileName.endsWith(".mjs");
}

/** Whether a hook is disabled by `hooks.disabled` (by name or by file name). */
export function isDisabled(file: HookFile, disabled: readonly string[]): boolean {
  return disabled.includes(file.name) || disabled.includes(basename(file.file));
}

/** Hook files of a directory in load order (file-name order). A missing directory has none. */
export async function listHookFiles(dir: string): Promise<HookFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: HookFile[] = [];
  for (const n of names.filter(isHookFileName).sort()) {
    const file = join(dir, n);
    try {
      const st = await stat(file);
      if (st.isFile()) out.push({ name: hookName(n), file, mtimeMs: st.mtimeMs });
    } catch {
      // deleted between readdir and stat
    }
  }
  return out;
}

let importSeq = 0;

const requireCache = createRequire(import.meta.url).cache;

/** Imports a module fresh: a new URL per call so Node's module cache never serves an old version. */
export async function importFresh(file: string, mtimeMs: number): Promise<Record<string, unknown>> {
  importSeq++;
  // A CommonJS file is loaded through require's cache, keyed by path (the URL query does not bust it).
  delete requireCache[resolve(file)];
  const url = `${pathToFileURL(file).href}?v=${Math.trunc(mtimeMs)}-${importSeq}`;
  return (await import(url)) as Record<string, unknown>;
}

export type Resolved =
  | { ok: true; kind: "object"; hook: Hook }
  | { ok: true; kind: "class"; ctor: HookClass }
  | { ok: false; reason: string };

function isClass(v: unknown): v is HookClass {
  return typeof v === "function" && /^class[\s{]/.test(Function.prototype.toString.call(v));
}

/** Picks the hook out of a module namespace: ESM default, CJS module.exports, or TS-compiled CJS. */
export function resolveExport(mod: Record<string, unknown>): Resolved {
  let candidate: unknown = mod.default;
  // CJS compiled from TypeScript: module.exports = { __esModule: true, default: hook }
  if (
    candidate !== null &&
    typeof candidate === "object" &&
    "default" in candidate &&
    (candidate as { __esModule?: unknown }).__esModule === true
  ) {
    candidate = (candidate as { default: unknown }).default;
  }
  if (candidate === undefined) {
    const named = Object.keys(mod).filter((k) => HOOK_METHODS.includes(k));
    const why = named.length ? ` (it exports ${named.join(", ")} by name; export one object as default instead)` : "";
    return { ok: false, reason: `no default export${why}` };
  }
  if (isClass(candidate)) return { ok: true, kind: "class", ctor: candidate };
  if (typeof candidate === "function") {
    return { ok: false, reason: "default export is a function, not a hook object or class" };
  }
  if (candidate === null || typeof candidate !== "object") {
    return {
      ok: false,
      reason: `default export is ${candidate === null ? "null" : typeof candidate}, not a hook object`,
    };
  }
  if (hookMethods(candidate).length === 0) {
    const unknown = unknownMethods(candidate);
    const hint = unknown.length ? ` (unknown: ${unknown.map(describeUnknown).join(", ")})` : "";
    return { ok: false, reason: `default export has none of the hook methods${hint}` };
  }
  return { ok: true, kind: "object", hook: candidate as Hook };
}

/** Every function-valued property of an object, own and inherited (class methods), except Object's. */
function functionNames(obj: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = obj; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k === "constructor") continue;
      const d = Object.getOwnPropertyDescriptor(p, k);
      if (d && typeof d.value === "function") names.add(k);
    }
  }
  return [...names];
}

export function hookMethods(obj: object): string[] {
  return functionNames(obj).filter((k) => HOOK_METHODS.includes(k));
}

/** Function names that look like a misspelt hook method (helpers with other names are fine). */
export function unknownMethods(obj: object): string[] {
  return functionNames(obj).filter((k) => !HOOK_METHODS.includes(k) && !k.startsWith("_") && suggest(k) !== undefined);
}

export function describeUnknown(name: string): string {
  const s = suggest(name);
  return s ? `${name} (did you mean ${s}?)` : name;
}

/** The closest hook method name, when the name looks like an attempt at one. */
export function suggest(name: string): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const m of HOOK_METHODS) {
    const d = distance(name.toLowerCase(), m.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = m;
    }
  }
  const looksLikeHook = /^(on|before)[A-Z]/.test(name);
  return bestD <= 3 || (looksLikeHook && bestD <= Math.ceil(name.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}
