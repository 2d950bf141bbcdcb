// The rules in force, indexed by product key and device id, and their evaluation on the hot path
// (docs/rules.md): disabled rules skipped, `change`/`event` gating, active window in local seconds of day.
// Invariants: evaluate() is synchronous and allocation-free for known devices; a result is reported
// only when non-zero, changed, or first since (re)load; a file's rules are swapped as a whole (a
// reading sees the old set or the new one); a broken file keeps its last good rules.
// A little over 400 lines: the index and its hot-path evaluation share private state that must change
// atomically when a file is swapped.

import type { Problem } from "../core/errors.js";
import type { CompiledRule, ConditionLevel, RuleEngine } from "../core/ports.js";
import type { Reading, RuleDefinition } from "../core/types.js";
import { generateLevels, type LevelsFn } from "./codegen.js";
import { CompiledRuleImpl, isStrictFacts } from "./compile.js";
import { DAY_S } from "./validate.js";

enum Gate {
  Always = 0,
  Change = 1,
  Event = 2,
}

interface Entry {
  readonly rule: CompiledRuleImpl;
  readonly gate: Gate;
  readonly fact: string;
  readonly windowed: boolean;
  readonly start: number;
  readonly end: number;
  /** `change` rules: the last value of `fact` seen per device. */
  readonly last: Map<string, unknown>;
}

interface FileState {
  entries: Entry[];
  /** The text the rules in force were parsed from (lets the watcher skip what the API just wrote). */
  source: string | undefined;
  problems: Problem[];
}

/** Rules evaluated together for a reading: one generated function writes all their levels. */
interface Group {
  readonly entries: Entry[];
  readonly rules: CompiledRuleImpl[];
  readonly levels: LevelsFn;
  readonly out: Uint8Array;
  /** No entry is gated (type `rule`, no window): the report loop skips the gate checks. */
  readonly plain: boolean;
  /** Where each device's row starts in `reported` (one byte per entry, in entry order). */
  readonly rows: Map<string, number>;
  /** Last level reported per device and entry; UNREPORTED until the first evaluation. Grows by doubling. */
  reported: Uint8Array;
  /** Set while levels are being reported: a nested evaluate (from onResult) gets its own array. */
  busy: boolean;
}

interface Bucket {
  any: Group | null;
  byDid: Map<string, Group>;
}

const UNREPORTED = 255;

/** Gives a device its row of last reported levels, all UNREPORTED. */
function newRow(g: Group, did: string): number {
  const n = g.entries.length;
  const row = g.rows.size * n;
  if (row + n > g.reported.length) {
    const grown = new Uint8Array(Math.max(64 * n, 2 * g.reported.length)).fill(UNREPORTED);
    grown.set(g.reported);
    g.reported = grown;
  }
  g.rows.set(did, row);
  return row;
}

function levelsFn(rules: readonly CompiledRuleImpl[]): LevelsFn {
  try {
    return generateLevels(rules).fn;
  } catch {
    // Code generation disabled (node --disallow-code-generation-from-strings): the closures give the same levels.
    return (facts, out) => {
      for (let i = 0; i < rules.length; i++) out[i] = (rules[i] as CompiledRuleImpl).level(facts);
    };
  }
}

function group(entries: Entry[]): Group {
  const rules = entries.map((e) => e.rule);
  return {
    entries,
    rules,
    levels: levelsFn(rules),
    out: new Uint8Array(entries.length),
    plain: entries.every((e) => e.gate === Gate.Always && !e.windowed),
    rows: new Map(),
    reported: new Uint8Array(0),
    busy: false,
  };
}

export interface RuleSetOptions {
  /** Offset of local time from UTC in ms at an instant (default: the process time zone). */
  tzOffsetMs?: (epochMs: number) => number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = DAY_S * 1000;

function systemOffsetMs(epochMs: number): number {
  return -new Date(epochMs).getTimezoneOffset() * 60_000;
}

/** Whether a second of the day lies in [start, end); a window with start > end wraps midnight. */
export function inWindow(sod: number, start: number, end: number): boolean {
  if (start === end || (start <= 0 && end >= DAY_S)) return true;
  return start < end ? sod >= start && sod < end : sod >= start || sod < end;
}

/** Whether a `change` rule's fact kept its value: NaN equals NaN, arrays and objects compare by content. */
export function sameValue(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (typeof a === "number") return typeof b === "number" && Number.isNaN(a) && Number.isNaN(b);
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object" || depth > 32) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i], depth + 1)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], depth + 1)) return false;
  }
  return true;
}

export class RuleSet implements RuleEngine {
  readonly #files = new Map<string, FileState>();
  #index = new Map<string, Bucket>();
  #all: readonly CompiledRule[] = [];
  #problems: readonly Problem[] = [];
  readonly #listeners = new Set<(ruleCount: number) => void>();
  readonly #tzOffsetMs: (epochMs: number) => number;
  // Local-time offset cached per UTC hour: DST and zone changes happen on hour boundaries.
  #offsetHour = Number.NaN;
  #offsetMs = 0;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(opts: RuleSetOptions = {}) {
    this.#tzOffsetMs = opts.tzOffsetMs ?? systemOffsetMs;
  }

  // ---- hot path ---------------------------------------------------------------------------

  /** Rule evaluations so far (rules × readings, including results not reported), for /metrics. */
  evaluations = 0;

  evaluate(
    reading: Reading,
    facts: Readonly<Record<string, unknown>>,
    onResult: (rule: CompiledRule, level: ConditionLevel) => void,
  ): void {
    const bucket = this.#index.get(reading.product);
    if (bucket === undefined) return;
    if (bucket.any !== null) this.#run(bucket.any, reading, facts, onResult);
    const own = bucket.byDid.get(reading.deviceId);
    if (own !== undefined) this.#run(own, reading, facts, onResult);
  }

  #run(
    g: Group,
    reading: Reading,
    facts: Readonly<Record<string, unknown>>,
    onResult: (rule: CompiledRule, level: ConditionLevel) => void,
  ): void {
    const n = g.entries.length;
    this.evaluations += n;
    const nested = g.busy;
    const out = nested ? new Uint8Array(n) : g.out;
    g.busy = true;
    try {
      if (isStrictFacts(facts)) {
        // The facts hold a value whose coercion throws: every leaf is evaluated, as the engine does.
        for (let i = 0; i < n; i++) out[i] = (g.rules[i] as CompiledRuleImpl).strictLevel(facts);
      } else g.levels(facts, out);
      const did = reading.deviceId;
      let row = g.rows.get(did);
      if (row === undefined) row = newRow(g, did);
      // A nested evaluate may grow the array: re-read it after each onResult.
      let last = g.reported;
      const rules = g.rules;
      if (g.plain) {
        for (let i = 0; i < n; i++) {
          const lv = out[i] as ConditionLevel;
          // Reported: any non-zero level, a change, or the first evaluation since (re)load.
          if (lv !== 0 || last[row + i] !== 0) {
            last[row + i] = lv;
            onResult(rules[i] as CompiledRuleImpl, lv);
            last = g.reported;
          }
        }
        return;
      }
      let sod = -1;
      for (let i = 0; i < n; i++) {
        const e = g.entries[i] as Entry;
        if (e.gate === Gate.Change) {
          // Tracked on every reading carrying the fact, also outside the window: "changed" means
          // "differs from the previous value this device reported".
          const v = reading.values[e.fact];
          if (v === undefined) continue;
          const known = e.last.has(did);
          if (known && sameValue(e.last.get(did), v)) continue;
          e.last.set(did, v);
        } else if (e.gate === Gate.Event && reading.event !== e.fact) continue;
        if (e.windowed) {
          if (sod < 0) sod = this.secondsOfDay(reading.ts);
          if (!inWindow(sod, e.start, e.end)) continue;
        }
        const lv = out[i] as ConditionLevel;
        if (lv !== 0 || last[row + i] !== 0) {
          last[row + i] = lv;
          onResult(e.rule, lv);
          last = g.reported;
        }
      }
    } finally {
      if (!nested) g.busy = false;
    }
  }

  /** Seconds since local midnight of an epoch-ms instant. */
  secondsOfDay(epochMs: number): number {
    const hour = Math.floor(epochMs / HOUR_MS);
    if (hour !== this.#offsetHour) {
      this.#offsetMs = this.#tzOffsetMs(epochMs);
      this.#offsetHour = hour;
    }
    const local = (((epochMs + this.#offsetMs) % DAY_MS) + DAY_MS) % DAY_MS;
    return Math.floor(local / 1000);
  }

  // ---- views --------------------------------------------------------------------------------

  rules(): readonly CompiledRule[] {
    return this.#all;
  }

  problems(): readonly Problem[] {
    return this.#problems;
  }

  get(id: string): CompiledRule | undefined {
    for (const r of this.#all) if (r.def.id === id) return r;
    return undefined;
  }

  files(): string[] {
    return [...this.#files.keys()].sort();
  }

  /** Rules in force from one file, in file order. */
  fileRules(file: string): readonly CompiledRule[] {
    return this.#files.get(file)?.entries.map((e) => e.rule) ?? [];
  }

  fileProblems(file: string): readonly Problem[] {
    return this.#files.get(file)?.problems ?? [];
  }

  /** The text the file's rules in force were parsed from, when known. */
  appliedSource(file: string): string | undefined {
    return this.#files.get(file)?.source;
  }

  /** Called with the new rule count after every change of the rules in force. */
  onChange(fn: (ruleCount: number) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Runs `fn` alone against other exclusive callers (the file watcher and the local API). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  // ---- changes ------------------------------------------------------------------------------

  /**
   * Puts a file's rules in force (validated definitions). Refused, with the problems returned and
   * recorded, when a rule id is already in force from another file: the file's last good rules stay.
   */
  replaceFile(
    file: string,
    defs: readonly RuleDefinition[],
    source?: string,
    warnings: readonly Problem[] = [],
  ): Problem[] {
    const conflicts: Problem[] = [];
    defs.forEach((d, i) => {
      const owner = this.#ownerOf(d.id);
      if (owner !== undefined && owner !== file)
        conflicts.push({
          file,
          path: defs.length === 1 && !source?.trimStart().startsWith("[") ? "$.id" : `$[${i}].id`,
          message: `duplicate rule id '${d.id}': already defined in ${owner}`,
          hint: "rule ids must be unique across all rule files",
        });
    });
    if (conflicts.length > 0) {
      this.setProblems(file, [...conflicts, ...warnings]);
      return conflicts;
    }
    const old = this.#files.get(file);
    const entries = defs.map((d) => this.#entry(d, file, old));
    this.#files.set(file, { entries, source, problems: [...warnings] });
    this.#rebuild();
    return [];
  }

  /** Records a file's current problems; its rules in force (the last good version) stay. */
  setProblems(file: string, problems: readonly Problem[]): void {
    const st = this.#files.get(file);
    if (st) st.problems = [...problems];
    else this.#files.set(file, { entries: [], source: undefined, problems: [...problems] });
    this.#problems = this.#collectProblems();
  }

  removeFile(file: string): void {
    const st = this.#files.get(file);
    if (st === undefined) return;
    this.#files.delete(file);
    if (st.entries.length > 0) this.#rebuild();
    else this.#problems = this.#collectProblems();
  }

  #ownerOf(id: string): string | undefined {
    for (const [file, st] of this.#files) for (const e of st.entries) if (e.rule.def.id === id) return file;
    return undefined;
  }

  #entry(def: RuleDefinition, file: string, old: FileState | undefined): Entry {
    const rule = new CompiledRuleImpl(def, file);
    const gate = def.type === "change" ? Gate.Change : def.type === "event" ? Gate.Event : Gate.Always;
    const fact = def.fact ?? "";
    // A reloaded `change` rule keeps what it saw, so an unrelated edit does not fire it again.
    const prev = old?.entries.find((e) => e.rule.def.id === def.id && e.gate === gate && e.fact === fact);
    const start = def.start ?? 0;
    const end = def.end ?? DAY_S;
    return {
      rule,
      gate,
      fact,
      windowed: !(start === end || (start <= 0 && end >= DAY_S)),
      start,
      end,
      last: prev ? prev.last : new Map(),
    };
  }

  #collectProblems(): Problem[] {
    const out: Problem[] = [];
    for (const f of this.files()) out.push(...((this.#files.get(f) as FileState).problems ?? []));
    return out;
  }

  #rebuild(): void {
    const lists = new Map<string, { any: Entry[]; byDid: Map<string, Entry[]> }>();
    const all: CompiledRule[] = [];
    for (const f of this.files()) {
      for (const e of (this.#files.get(f) as FileState).entries) {
        all.push(e.rule);
        const d = e.rule.def;
        if (d.isEnable === false) continue;
        let b = lists.get(d.key);
        if (b === undefined) {
          b = { any: [], byDid: new Map() };
          lists.set(d.key, b);
        }
        if (d.did === undefined || d.did === "") b.any.push(e);
        else {
          let list = b.byDid.get(d.did);
          if (list === undefined) {
            list = [];
            b.byDid.set(d.did, list);
          }
          list.push(e);
        }
      }
    }
    // Fresh groups: last reported levels start over, so every rule reports once after a reload.
    const index = new Map<string, Bucket>();
    for (const [key, b] of lists) {
      const byDid = new Map<string, Group>();
      for (const [did, list] of b.byDid) byDid.set(did, group(list));
      index.set(key, { any: b.any.length > 0 ? group(b.any) : null, byDid });
    }
    this.#index = index;
    this.#all = Object.freeze(all);
    this.#problems = this.#collectProblems();
    for (const fn of this.#listeners) fn(all.length);
  }
}
