// Hooks that froze the agent. The watchdog records the culprit in <dataDir>/hook-quarantine.json
// just before it ends the process; on the next start the agent does not load that hook while its
// file still has the same content (sha256), so a hook that blocks the event loop costs one restart,
// not a restart loop. Any edit to the file ends the quarantine. The watchdog thread writes the same
// format from plain JavaScript (see watchdog.ts): keep the two in step.

import { createHash } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../core/log.js";

export const QUARANTINE_FILE = "hook-quarantine.json";

export interface QuarantineEntry {
  file: string;
  sha256: string;
  method: string;
  reason: string;
  /** ISO time the watchdog quarantined the hook. */
  at: string;
}

export function quarantinePath(dataDir: string): string {
  return join(dataDir, QUARANTINE_FILE);
}

export function sha256(content: Buffer | string): string {
  return createHash("sha256").update(content).digest("hex");
}

/** sha256 of a file's content, or "" when it cannot be read. */
export function fileSha256(file: string): string {
  try {
    return sha256(readFileSync(file));
  } catch {
    return "";
  }
}

function isEntry(v: unknown): v is QuarantineEntry {
  if (v === null || typeof v !== "object") return false;
  const e = v as Record<string, unknown>;
  return typeof e.file === "string" && typeof e.sha256 === "string" && typeof e.reason === "string";
}

/** The quarantined hooks by name. A missing or unreadable file quarantines nothing. */
export function readQuarantine(dataDir: string): Map<string, QuarantineEntry> {
  const out = new Map<string, QuarantineEntry>();
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(quarantinePath(dataDir), "utf8"));
  } catch {
    return out;
  }
  const hooks = doc !== null && typeof doc === "object" ? (doc as { hooks?: unknown }).hooks : undefined;
  if (hooks === null || typeof hooks !== "object") return out;
  for (const [name, e] of Object.entries(hooks as Record<string, unknown>)) {
    if (isEntry(e)) out.set(name, { ...e, method: typeof e.method === "string" ? e.method : "unknown" });
  }
  return out;
}

/** Writes the quarantine list back (atomically: a crash mid-write never leaves half a file). */
export function writeQuarantine(dataDir: string, entries: ReadonlyMap<string, QuarantineEntry>): void {
  const file = quarantinePath(dataDir);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 1, hooks: Object.fromEntries(entries) }, null, 2)}\n`, {
    mode: 0o600,
  });
  renameSync(tmp, file);
}

/** The sentence shown in the log, /status and `validate` for a quarantined hook. */
export function describeQuarantine(name: string, e: QuarantineEntry): string {
  return `quarantined since ${e.at}: ${e.reason}; hook ${name} is not loaded until its file changes`;
}

/**
 * The entry that keeps hook `name` out while `file` still has the quarantined content. A file that
 * changed since (or cannot be read) leaves the quarantine: its entry is dropped from the list.
 */
export function stillQuarantined(
  dataDir: string,
  name: string,
  file: string,
  sha256: string,
  log: Logger,
): QuarantineEntry | undefined {
  const entries = readQuarantine(dataDir);
  const e = entries.get(name);
  if (e === undefined) return undefined;
  if (e.sha256 === sha256 && sha256 !== "") return e;
  entries.delete(name);
  try {
    writeQuarantine(dataDir, entries);
  } catch (err) {
    log.warn({ err, hook: name }, "could not update hook-quarantine.json");
  }
  log.info({ hook: name, file }, `hook ${name} changed since it was quarantined: loading it again`);
  return undefined;
}

/**
 * Why `file` is not loaded when the watchdog quarantined hook `name` and the file is unchanged
 * since (it is then not imported at all: its top-level code may be what froze the agent), logged;
 * undefined when it may load. A changed file leaves the quarantine and loads normally.
 */
export function quarantineRefusal(
  dataDir: string | undefined,
  name: string,
  file: string,
  sha256: string,
  log: Logger,
): string | undefined {
  if (dataDir === undefined) return undefined;
  const e = stillQuarantined(dataDir, name, file, sha256, log);
  if (e === undefined) return undefined;
  const message = describeQuarantine(name, e);
  log.error({ hook: name, file, method: e.method, quarantinedAt: e.at }, `hook ${name}: ${message}`);
  return message;
}
