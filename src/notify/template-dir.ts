// The site's own message templates (docs/notifications.md, "Messages and templates"): files named
// `<transition>.<lang>.<part>` in notify.templatesDir (`raise.zh.text`, `recover.en.html`), each
// overriding the shipped template of that name. Read at start and again whenever the directory
// changes (fs.watch, with a periodic rescan behind it). A file that cannot be read keeps no override
// (the shipped template is used) and is logged; an unknown placeholder is logged once per file.
// Never throws after start.

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../core/clock.js";
import { DirWatch } from "../core/dir-watch.js";
import { errorMessage } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import {
  type CompiledTemplate,
  compileTemplate,
  TEMPLATE_PARTS,
  type TemplatePart,
  type TemplateSource,
  TRANSITIONS,
} from "./templates.js";
import type { NotifyTransition } from "./types.js";

export interface TemplateDirOptions {
  dir: string;
  clock: Clock;
  log: Logger;
  /** Safety-net rescan interval (default 5000 ms). */
  rescanMs?: number;
}

/** A template is a short text; a bigger file is a mistake (a log, an image) and is not read. */
const MAX_TEMPLATE_BYTES = 64 * 1024;
const NAME = /^([a-z]+)\.([A-Za-z][A-Za-z-]{0,15})\.([a-z]+)$/;

export class TemplateDir implements TemplateSource {
  readonly #o: TemplateDirOptions;
  readonly #watch: DirWatch;
  #templates = new Map<string, CompiledTemplate>();
  /** What was already said about a file (`<file>:<what>`), so a rescan does not repeat it. */
  readonly #said = new Set<string>();
  #scan: Promise<void> | null = null;
  #again = false;
  #running = false;

  constructor(o: TemplateDirOptions) {
    this.#o = o;
    this.#watch = new DirWatch({
      dir: o.dir,
      what: "templates",
      clock: o.clock,
      log: o.log,
      periodMs: o.rescanMs ?? 5000,
      onChange: () => void this.reload(),
    });
  }

  get(transition: NotifyTransition, lang: string, part: TemplatePart): CompiledTemplate | undefined {
    return this.#templates.get(`${transition}.${lang}.${part}`);
  }

  /** Names of the overrides in force (`raise.zh.text`, …), sorted. */
  list(): string[] {
    return [...this.#templates.keys()].sort();
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    await this.reload();
    this.#o.log.info(
      { dir: this.#o.dir, templates: this.list() },
      this.#templates.size > 0 ? "site message templates loaded" : "no site message templates: shipped ones in use",
    );
    this.#watch.open();
    this.#watch.startPeriodic();
  }

  stop(): void {
    this.#running = false;
    this.#watch.close();
  }

  /** Reads the directory again; concurrent calls share one pass (and a change during it gets another). */
  reload(): Promise<void> {
    if (this.#scan !== null) {
      this.#again = true;
      return this.#scan;
    }
    this.#scan = (async () => {
      do {
        this.#again = false;
        await this.#read();
      } while (this.#again);
    })().finally(() => {
      this.#scan = null;
    });
    return this.#scan;
  }

  async #read(): Promise<void> {
    const { dir, log } = this.#o;
    let names: string[];
    try {
      names = await readdir(dir);
      this.#said.delete(`${dir}:missing`);
      this.#watch.ensure();
    } catch (err) {
      if (!this.#said.has(`${dir}:missing`)) {
        this.#said.add(`${dir}:missing`);
        log.warn(
          { dir, reason: errorMessage(err) },
          "message templates directory not readable: shipped templates in use",
        );
      }
      this.#apply(new Map());
      return;
    }
    const next = new Map<string, CompiledTemplate>();
    for (const name of names.sort()) {
      if (name.startsWith(".")) continue;
      const file = join(dir, name);
      const m = NAME.exec(name);
      const [, transition = "", , part = ""] = m ?? [];
      if (
        m === null ||
        !TRANSITIONS.includes(transition as NotifyTransition) ||
        !TEMPLATE_PARTS.includes(part as TemplatePart)
      ) {
        this.#once(file, "name", () =>
          log.warn(
            { file },
            `not a message template name, ignored: expected <transition>.<lang>.<part> with transition ${TRANSITIONS.join("/")} and part ${TEMPLATE_PARTS.join("/")} (e.g. raise.zh.text)`,
          ),
        );
        continue;
      }
      const t = await this.#readOne(file);
      if (t !== null) next.set(name, t);
    }
    this.#apply(next);
  }

  async #readOne(file: string): Promise<CompiledTemplate | null> {
    const { log } = this.#o;
    try {
      const st = await stat(file);
      if (!st.isFile()) return null;
      if (st.size > MAX_TEMPLATE_BYTES) {
        this.#once(file, `size:${st.size}`, () =>
          log.warn({ file, bytes: st.size, maxBytes: MAX_TEMPLATE_BYTES }, "message template too large, ignored"),
        );
        return null;
      }
      const t = compileTemplate(await readFile(file, "utf8"), file);
      for (const name of t.unknown) {
        this.#once(file, `unknown:${name}`, () =>
          log.warn(
            { file, placeholder: name },
            `unknown placeholder {{${name}}} in a message template: left in the message as written (see docs/notifications.md for the placeholders)`,
          ),
        );
      }
      return t;
    } catch (err) {
      log.warn({ file, reason: errorMessage(err) }, "message template not readable: the shipped one is used");
      return null;
    }
  }

  #apply(next: Map<string, CompiledTemplate>): void {
    const before = this.list().join(",");
    this.#templates = next;
    const after = this.list().join(",");
    if (this.#running && before !== after) {
      this.#o.log.info({ dir: this.#o.dir, templates: this.list() }, "site message templates changed");
    }
  }

  #once(file: string, what: string, say: () => void): void {
    const key = `${file}:${what}`;
    if (this.#said.has(key)) return;
    this.#said.add(key);
    say();
  }
}
