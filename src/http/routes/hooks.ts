// /hooks/* of the local API: list the hook slots, load or unload one by name. On an agent without a
// hooks directory the list is empty and load/unload answer 104004 saying how to enable hooks.
// Refusals: 104001 naming the first offending field of the hook's problems, 104004 for an unknown name.

import type { Problem } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import type { HookAdmin } from "../../core/ports.js";
import { CODES, HttpError, notFound, problemRefusal } from "../errors.js";
import { stringField } from "../params.js";
import type { AddRoute } from "./route.js";

export interface HookRouteDeps {
  hooks?: HookAdmin | undefined;
  log: Logger;
}

function hookRefusal(r: { problems: Problem[]; notFound?: boolean }, name: string): HttpError {
  if (r.notFound) return notFound("Hook", name);
  return problemRefusal(r.problems, "hook could not be loaded");
}

export function hookRoutes(route: AddRoute, { hooks, log }: HookRouteDeps): void {
  const admin = (): HookAdmin => {
    if (!hooks) throw new HttpError(404, CODES.notFound, "Hooks are not enabled on this agent (set hooksDir)");
    return hooks;
  };
  route("/hooks/list", "GET", () => ({ code: 0, data: { hooks: hooks ? hooks.list() : [] } }));
  route("/hooks/load", "POST", async (ctx) => {
    const name = stringField(await ctx.body(), "name");
    const r = await admin().load(name);
    if (!r.ok) throw hookRefusal(r, name);
    log.info({ hook: name }, "hook loaded through the local API");
    return { code: 0, data: r.value };
  });
  route("/hooks/unload", "POST", async (ctx) => {
    const name = stringField(await ctx.body(), "name");
    const r = await admin().unload(name);
    if (!r.ok) throw hookRefusal(r, name);
    log.info({ hook: name }, "hook unloaded through the local API");
    return { code: 0, data: r.value };
  });
}
