// GET /hooks/list as the manager knows it: loaded hooks (with their counters), then names that
// did not load (failed, quarantined, or refused for an exclusive method another hook owns), then
// files hooks.disabled keeps out.

import type { HookInfo } from "../core/ports.js";
import type { HookFile } from "./loader.js";

/** Why a file has no running version: shown as state "failed" (or "quarantined") with the reason. */
export interface FailedHook {
  file: string;
  mtimeMs: number;
  error: string;
  quarantined?: boolean;
}

export function hookList(
  loaded: HookInfo[],
  failed: ReadonlyMap<string, FailedHook>,
  disabledFiles: readonly HookFile[],
): HookInfo[] {
  const out = loaded;
  for (const [name, f] of failed) {
    out.push({
      name,
      file: f.file,
      state: f.quarantined === true ? "quarantined" : "failed",
      methods: [],
      errors: 0,
      timeouts: 0,
      dropped: 0,
      lastError: f.error,
    });
  }
  for (const f of disabledFiles) {
    if (loaded.some((s) => s.name === f.name)) continue;
    out.push({ name: f.name, file: f.file, state: "disabled", methods: [], errors: 0, timeouts: 0, dropped: 0 });
  }
  return out;
}
