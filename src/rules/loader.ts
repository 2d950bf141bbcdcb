// Loads rules/*.json into the RuleSet and keeps them in step with the directory (docs/rules.md):
// fs.watch for prompt reaction plus a periodic mtime/size rescan, since fs.watch misses events on
// some filesystems (network mounts, some containers). A file that fails to parse or validate is
// logged (file, JSON path, reason) and its last good rules stay in force. Never throws after start.

import { type FSWatcher, watch } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Clock, TimerHandle } from "../core/clock.js";
import { type FileStamp, fileStamp } from "../core/dir-watch.js";
import { errorMessage, formatProblem, type Problem } from "../core/errors.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/log.js";
import type { RuleDefinition } from "../core/types.js";
import { DEFAULT_MAX_RULE_FILE_BYTES, oversizeProblem } from "./file-size.js";
import type { RuleSet } from "./rule-set.js";
import { hasErrors, parseRuleDocument } from "./validate.js";
import { isRuleFileName, listRuleFiles } from "./validate-dir.js";

export interface RulesLoaderOptions {
  dir: string;
  ruleSet: RuleSet;
  log: Logger;
  clock: Clock;
  events: EventBus;
  /** Quiet time after a watch event before the directory is read (editors write in steps). */
  debounceMs?: number;
  /** Safety-net rescan interval. */
  rescanMs?: number;
  /** false: rely on the periodic rescan alone (filesystems where notifications never arrive). */
  watch?: boolean;
  /** Larger files are refused unread (their last good rules stay). */
  maxFileBytes?: number;
}

interface Seen {
  signature: string;
  text: string;
}

export class RulesLoader {
  readonly #dir: string;
  readonly #set: RuleSet;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #events: EventBus;
  readonly #debounceMs: number;
  readonly #rescanMs: number;
  readonly #useWatch: boolean;
  readonly #maxFileBytes: number;
  readonly #seen = new Map<string, Seen>();
  readonly #dirty = new Set<string>();
  /** Valid files refused because a rule id is in force elsewhere: retried after every change. */
  readonly #conflicted = new Map<string, { rules: RuleDefinition[]; text: string; warnings: Problem[] }>();
  #watcher: FSWatcher | null = null;
  #interval: TimerHandle | undefined;
  #debounce: TimerHandle | undefined;
  #running = false;
  #scan: Promise<void> | null = null;
  #again = false;
  #unsubscribe: (() => void) | null = null;
  #quiet = false;
  #dirMissingLogged = false;

  constructor(opts: RulesLoaderOptions) {
    this.#dir = resolve(opts.dir);
    this.#set = opts.ruleSet;
    this.#log = opts.log;
    this.#clock = opts.clock;
    this.#events = opts.events;
    this.#debounceMs = opts.debounceMs ?? 100;
    this.#rescanMs = opts.rescanMs ?? 1000;
    this.#useWatch = opts.watch ?? true;
    this.#maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_RULE_FILE_BYTES;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    // Every change of the rules in force (files or the local API) is announced once.
    this.#unsubscribe = this.#set.onChange((n) => {
      if (!this.#quiet) this.#events.emit("rulesChanged", n);
    });
    this.#quiet = true;
    try {
      await this.#set.exclusive(() => this.#scanOnce());
    } finally {
      this.#quiet = false;
    }
    const rules = this.#set.rules();
    this.#log.info(
      { dir: this.#dir, rules: rules.length, files: this.#set.files().length, problems: this.#set.problems().length },
      "rules loaded",
    );
    this.#events.emit("rulesChanged", rules.length);
    this.#watch();
    this.#interval = this.#clock.setInterval(() => this.#requestScan(), this.#rescanMs);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#clock.clearInterval(this.#interval);
    this.#clock.clearTimeout(this.#debounce);
    this.#interval = undefined;
    this.#debounce = undefined;
    this.#watcher?.close();
    this.#watcher = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    await this.#scan?.catch(() => undefined);
  }

  /** Reads the directory now and applies what changed (tests, and the status page's "reload"). */
  rescan(): Promise<void> {
    this.#requestScan();
    return this.#scan ?? Promise.resolve();
  }

  #watch(): void {
    if (this.#watcher !== null || !this.#useWatch || !this.#running) return;
    try {
      this.#watcher = watch(this.#dir, { persistent: false }, (_event, name) => {
        if (typeof name === "string" && name !== "") {
          if (!isRuleFileName(name)) return;
          this.#dirty.add(join(this.#dir, name));
        }
        this.#clock.clearTimeout(this.#debounce);
        this.#debounce = this.#clock.setTimeout(() => this.#requestScan(), this.#debounceMs);
      });
      this.#watcher.on("error", (err) => {
        // The directory went away or the watch broke: the periodic rescan carries on alone.
        this.#log.warn({ err, dir: this.#dir }, "watching the rules directory failed; rescanning periodically");
        this.#watcher?.close();
        this.#watcher = null;
      });
    } catch (err) {
      this.#watcher = null;
      this.#log.debug({ err: errorMessage(err), dir: this.#dir }, "rules directory not watchable yet");
    }
  }

  #requestScan(): void {
    if (!this.#running) return;
    if (this.#scan !== null) {
      this.#again = true;
      return;
    }
    this.#scan = (async () => {
      try {
        do {
          this.#again = false;
          await this.#set.exclusive(() => this.#scanOnce());
        } while (this.#again && this.#running);
      } catch (err) {
        this.#log.error({ err }, "rescanning the rules directory failed");
      } finally {
        this.#scan = null;
      }
    })();
    if (this.#watcher === null) this.#watch();
  }

  async #scanOnce(): Promise<void> {
    let names: string[];
    try {
      names = await listRuleFiles(this.#dir);
      this.#dirMissingLogged = false;
    } catch (err) {
      if (!this.#dirMissingLogged) {
        this.#log.warn(
          { dir: this.#dir, err: errorMessage(err) },
          "cannot read the rules directory; no rule files loaded",
        );
        this.#dirMissingLogged = true;
      }
      names = [];
    }
    const present = new Set<string>();
    let changed = false;
    for (const name of names) {
      const file = join(this.#dir, name);
      present.add(file);
      let stamp: FileStamp | null;
      try {
        stamp = await fileStamp(file, this.#clock.now());
      } catch {
        continue; // Deleted between readdir and stat: the next scan sees it gone.
      }
      if (stamp === null) continue;
      const { signature, size, recent } = stamp;
      const prev = this.#seen.get(file);
      if (prev !== undefined && prev.signature === signature && !recent && !this.#dirty.has(file)) continue;
      this.#dirty.delete(file);
      if (size > this.#maxFileBytes) {
        // Reported once per version of the file; the last good rules stay in force.
        if (prev?.signature !== signature) {
          const problems = [oversizeProblem(file, size, this.#maxFileBytes)];
          this.#set.setProblems(file, problems);
          this.#report(file, problems);
        }
        this.#seen.set(file, { signature, text: "" });
        continue;
      }
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (err) {
        this.#log.warn({ file, err: errorMessage(err) }, "cannot read rule file; keeping its last good rules");
        continue;
      }
      this.#seen.set(file, { signature, text });
      if (prev !== undefined && prev.text === text) continue;
      if (this.#set.appliedSource(file) === text) continue; // Written and applied by the local API.
      this.#apply(file, text);
      changed = true;
    }
    for (const file of [...this.#seen.keys(), ...this.#set.files()]) {
      if (present.has(file)) continue;
      this.#seen.delete(file);
      this.#conflicted.delete(file);
      if (this.#set.files().includes(file)) {
        const n = this.#set.fileRules(file).length;
        this.#set.removeFile(file);
        this.#log.info({ file, rules: n }, "rule file removed; its rules are no longer in force");
        changed = true;
      }
    }
    if (changed) this.#retryConflicts();
  }

  #apply(file: string, text: string): void {
    const parsed = parseRuleDocument(file, text);
    this.#conflicted.delete(file);
    if (hasErrors(parsed.problems)) {
      this.#set.setProblems(file, parsed.problems);
      this.#report(file, parsed.problems);
      return;
    }
    const refused = this.#set.replaceFile(file, parsed.rules, text, parsed.problems);
    if (refused.length > 0) {
      this.#conflicted.set(file, { rules: parsed.rules, text, warnings: parsed.problems });
      this.#report(file, refused);
      return;
    }
    for (const w of parsed.problems) this.#log.warn({ file, path: w.path, reason: w.message }, formatProblem(w));
    this.#log.info({ file, rules: parsed.rules.map((r) => r.id) }, "rule file applied");
  }

  #retryConflicts(): void {
    for (const [file, c] of [...this.#conflicted]) {
      if (this.#set.replaceFile(file, c.rules, c.text, c.warnings).length === 0) {
        this.#conflicted.delete(file);
        this.#log.info({ file, rules: c.rules.map((r) => r.id) }, "rule file applied (its rule ids are free now)");
      }
    }
  }

  #report(file: string, problems: readonly Problem[]): void {
    const inForce = this.#set.fileRules(file).length;
    for (const p of problems) {
      if (p.severity === "warning") continue;
      this.#log.error(
        { file, path: p.path, reason: p.message, line: p.line, column: p.column, hint: p.hint },
        `rule file rejected: ${formatProblem(p)}${inForce > 0 ? ` (its last good version, ${inForce} rule(s), stays in force)` : ""}`,
      );
    }
  }
}
