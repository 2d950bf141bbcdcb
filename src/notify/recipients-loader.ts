// Keeps the recipients file in force (docs/notifications.md, Recipients). One file, not a directory:
// its directory is watched (core/dir-watch.ts, with the periodic rescan behind fs.watch) and a
// change there costs a stat of the file; only a change of the file itself is read. A version that
// fails to parse or validate is reported (log, /status, the API's `problems`) and the last good one
// stays in force. A missing file is no group and no problem: notifications are optional. The
// local API's writes (recipients-admin.ts) go through the same lock and the same check.
// Never throws after start.

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Obj } from "../config/collector.js";
import { oversizeProblem } from "../config/file-size.js";
import type { Clock } from "../core/clock.js";
import { type FileStamp, fileStamp, WatchedScans } from "../core/dir-watch.js";
import { errorMessage, formatProblem, type Problem } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import {
  hasErrors,
  type ParsedRecipients,
  parseRecipientsText,
  type RecipientCheckContext,
  type RecipientDirectory,
} from "./recipients.js";
import type { RecipientGroup, RecipientUser } from "./types.js";

export const DEFAULT_MAX_RECIPIENTS_FILE_BYTES = 1024 * 1024;

export interface RecipientsLoaderOptions {
  /** Absolute path of the recipients file. */
  file: string;
  log: Logger;
  clock: Clock;
  /** The environment `${VAR}` references read, and the channels configured. */
  context: RecipientCheckContext;
  /** Safety-net rescan interval (default 1000). */
  rescanMs?: number;
  maxFileBytes?: number;
}

/** Coarse mtime (1–2 s on some filesystems) can hide a same-size rewrite: fresh files are re-read. */

export class RecipientsLoader implements RecipientDirectory {
  readonly #file: string;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #ctx: RecipientCheckContext;
  readonly #maxFileBytes: number;
  readonly #scans: WatchedScans;
  readonly #listeners = new Set<() => void>();
  #groups = new Map<string, RecipientGroup>();
  #users: RecipientUser[] = [];
  #raw: Obj | null = null;
  #secrets: string[] = [];
  /** Text of the version in force (undefined: none, the file is absent or was never valid). */
  #applied: string | undefined;
  #problems: Problem[] = [];
  /** Warnings of the version in force (what problems() says again when the file returns to it). */
  #appliedProblems: Problem[] = [];
  #signature: string | undefined;

  constructor(opts: RecipientsLoaderOptions) {
    this.#file = resolve(opts.file);
    this.#log = opts.log;
    this.#clock = opts.clock;
    this.#ctx = opts.context;
    this.#maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_RECIPIENTS_FILE_BYTES;
    this.#scans = new WatchedScans({
      dir: dirname(this.#file),
      what: "recipients",
      clock: opts.clock,
      log: opts.log,
      periodMs: opts.rescanMs ?? 1000,
      scanOnce: () => this.#scanOnce(),
    });
  }

  get file(): string {
    return this.#file;
  }

  get context(): RecipientCheckContext {
    return this.#ctx;
  }

  // ---- RecipientDirectory ---------------------------------------------------------------------

  get(id: string): RecipientGroup | undefined {
    return this.#groups.get(id);
  }

  list(): RecipientGroup[] {
    return [...this.#groups.values()];
  }

  users(): RecipientUser[] {
    return [...this.#users];
  }

  problems(): Problem[] {
    return [...this.#problems];
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Robot keys in force: secrets to mask wherever they could be shown. */
  secrets(): string[] {
    return [...this.#secrets];
  }

  /** The document in force as written (references unsubstituted); null when no version is. */
  raw(): Obj | null {
    return this.#raw === null ? null : structuredClone(this.#raw);
  }

  /** Whether the file on disk has errors (its last good version, if any, is in force). */
  broken(): boolean {
    return hasErrors(this.#problems);
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.#scans.running) return;
    await this.#scans.start();
    this.#log.info(
      { file: this.#file, groups: this.#groups.size, users: this.#users.length, problems: this.#problems.length },
      this.#applied === undefined && this.#problems.length === 0
        ? "no recipients file: no recipient groups"
        : "recipients loaded",
    );
  }

  stop(): Promise<void> {
    return this.#scans.stop();
  }

  /** Reads the file now and applies it if it changed (tests, and after an edit that must show at once). */
  rescan(): Promise<void> {
    return this.#scans.rescan();
  }

  /** Runs `fn` alone against the watcher and other writers (the local API). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#scans.exclusive(fn);
  }

  /** Checks a text as the watcher would; nothing changes (the local API, inside exclusive()). */
  check(text: string): ParsedRecipients {
    return parseRecipientsText(this.#file, text, this.#ctx);
  }

  /** Puts a checked, written text in force (the local API, inside exclusive()). */
  applyParsed(text: string, parsed: ParsedRecipients): void {
    this.#put(text, parsed);
  }

  async #scanOnce(): Promise<void> {
    let stamp: FileStamp | null;
    try {
      stamp = await fileStamp(this.#file, this.#clock.now());
      if (stamp === null) throw Object.assign(new Error("not a file"), { code: "EISDIR" });
    } catch (err) {
      this.#gone(err);
      return;
    }
    const { signature, size, recent } = stamp;
    if (signature === this.#signature && !recent) return;
    const first = this.#signature !== signature;
    this.#signature = signature;
    if (size > this.#maxFileBytes) {
      const p = oversizeProblem(
        this.#file,
        size,
        this.#maxFileBytes,
        "recipients file",
        "keep only the groups used here",
      );
      if (first) this.#report([p]);
      this.#problems = [p];
      return;
    }
    let text: string;
    try {
      text = await readFile(this.#file, "utf8");
    } catch (err) {
      this.#log.warn(
        { file: this.#file, err: errorMessage(err) },
        "cannot read the recipients file; keeping its last good version",
      );
      return;
    }
    if (text === this.#applied) {
      this.#problems = this.#appliedProblems;
      return;
    }
    const parsed = this.check(text);
    if (hasErrors(parsed.problems)) {
      if (!sameProblems(this.#problems, parsed.problems)) this.#report(parsed.problems);
      this.#problems = parsed.problems;
      return;
    }
    this.#put(text, parsed);
  }

  #put(text: string, parsed: ParsedRecipients): void {
    this.#applied = text;
    this.#groups = new Map(parsed.groups.map((g) => [g.id, g]));
    this.#users = parsed.users;
    this.#raw = parsed.raw;
    this.#secrets = parsed.secrets;
    this.#problems = parsed.problems;
    this.#appliedProblems = parsed.problems;
    for (const w of parsed.problems)
      this.#log.warn({ file: this.#file, path: w.path, reason: w.message }, formatProblem(w));
    this.#log.info(
      { file: this.#file, groups: parsed.groups.map((g) => g.id), users: parsed.users.length },
      "recipients file applied",
    );
    this.#changed();
  }

  /** The file is absent (or unreadable as a file): no group, no problem. */
  #gone(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    const had = this.#applied !== undefined || this.#problems.length > 0;
    this.#signature = undefined;
    if (code !== "ENOENT") {
      const problem: Problem = {
        file: this.#file,
        path: "$",
        message: `cannot read the recipients file: ${errorMessage(err)}`,
      };
      if (!sameProblems(this.#problems, [problem])) this.#report([problem]);
      this.#problems = [problem];
      return;
    }
    if (!had) return;
    this.#applied = undefined;
    this.#raw = null;
    this.#problems = [];
    this.#appliedProblems = [];
    this.#secrets = [];
    if (this.#groups.size > 0 || this.#users.length > 0) {
      this.#log.info({ file: this.#file, groups: this.#groups.size }, "recipients file removed: no recipient groups");
      this.#groups = new Map();
      this.#users = [];
      this.#changed();
    }
  }

  #changed(): void {
    for (const l of this.#listeners) {
      try {
        l();
      } catch (err) {
        this.#log.error({ err }, "a recipients listener failed");
      }
    }
  }

  #report(problems: readonly Problem[]): void {
    const inForce =
      this.#applied !== undefined ? ` (its last good version, ${this.#groups.size} group(s), stays in force)` : "";
    for (const p of problems) {
      if (p.severity === "warning") continue;
      this.#log.error(
        { file: this.#file, path: p.path, reason: p.message, line: p.line, column: p.column, hint: p.hint },
        `recipients file rejected: ${formatProblem(p)}${inForce}`,
      );
    }
  }
}

function sameProblems(a: readonly Problem[], b: readonly Problem[]): boolean {
  return a.length === b.length && a.every((p, i) => p.path === b[i]?.path && p.message === b[i]?.message);
}
