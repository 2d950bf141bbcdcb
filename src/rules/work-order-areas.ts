// `edge-agent validate`: the work-order platform needs an integer areaId on every order (its own
// client always sends one). A rule with `actions.workOrder` whose devices have no areaId still works
// (the agent sends 0), but the orders land in no area, so that is worth a warning, never an error.
// Only devices known from the config can be checked; devices seen first at runtime (MQTT) are not.
// It lives with the rules (not in workorders/) because it reads the rules directory: a check of
// rules against the config, and the rules may depend on the config, never the other way round.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config/schema.js";
import type { Problem } from "../core/errors.js";
import { listRuleFiles } from "./validate-dir.js";

interface KnownDevice {
  id: string;
  /** Undefined: the product comes from an MQTT subscription at runtime. */
  product: string | undefined;
  areaId: number | string | undefined;
}

function knownDevices(c: Config): KnownDevice[] {
  const meta = c.devices ?? {};
  const out = new Map<string, KnownDevice>();
  for (const d of c.modbus?.devices ?? []) {
    // Own entries only: a device id such as `constructor` must not find Object.prototype's member.
    const m = Object.hasOwn(meta, d.id) ? meta[d.id] : undefined;
    out.set(d.id, { id: d.id, product: m?.product ?? d.product, areaId: m?.areaId });
  }
  for (const [id, m] of Object.entries(meta)) {
    if (!out.has(id)) out.set(id, { id, product: m.product, areaId: m.areaId });
  }
  return [...out.values()];
}

/** The rules of one parsed rule file with their JSON path prefix (`$` for a single rule, `$[i]` in an array). */
function rulesOf(doc: unknown): { rule: Record<string, unknown>; at: string }[] {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  if (Array.isArray(doc)) return doc.flatMap((r, i) => (isObj(r) ? [{ rule: r, at: `$[${i}]` }] : []));
  return isObj(doc) ? [{ rule: doc, at: "$" }] : [];
}

/** Warnings for work-order rules whose known devices have no (integer) areaId. */
export function checkWorkOrderAreas(c: Config, files: readonly { file: string; doc: unknown }[]): Problem[] {
  if (!c.workOrders || c.workOrders.enabled === false) return [];
  const devices = knownDevices(c);
  const mqttProducts = new Set((c.mqtt?.subscriptions ?? []).map((s) => s.product));
  const out: Problem[] = [];
  for (const { file, doc } of files) {
    for (const { rule, at } of rulesOf(doc)) {
      const actions = rule.actions as Record<string, unknown> | undefined;
      if (!actions?.workOrder || rule.isEnable === false) continue;
      const key = typeof rule.key === "string" ? rule.key : undefined;
      const did = typeof rule.did === "string" && rule.did !== "" ? rule.did : undefined;
      const path = `${at}.actions.workOrder`;
      for (const d of devices) {
        if (
          did !== undefined
            ? d.id !== did
            : !(d.product === key || (d.product === undefined && key !== undefined && mqttProducts.has(key)))
        )
          continue;
        if (d.areaId === undefined || d.areaId === "") {
          out.push({
            file,
            path,
            message: `device '${d.id}' has no areaId: its work orders are sent with areaId 0 (no area)`,
            hint: `set devices.${d.id}.areaId in the config to the platform's area id`,
            severity: "warning",
          });
        } else if (typeof d.areaId === "string" && !/^-?(?:0|[1-9]\d*)$/.test(d.areaId)) {
          out.push({
            file,
            path,
            message: `device '${d.id}' has areaId '${d.areaId}', which is not an integer: the work-order platform expects one`,
            hint: `set devices.${d.id}.areaId to the platform's numeric area id`,
            severity: "warning",
          });
        }
      }
    }
  }
  return out;
}

/** Reads the rule files of `rulesDir` (unreadable or malformed ones are the rule validator's to report). */
export async function workOrderAreaWarnings(c: Config, rulesDir: string): Promise<Problem[]> {
  if (!c.workOrders || c.workOrders.enabled === false) return [];
  let names: string[];
  try {
    names = await listRuleFiles(rulesDir);
  } catch {
    return [];
  }
  const files: { file: string; doc: unknown }[] = [];
  for (const name of names) {
    const file = join(rulesDir, name);
    try {
      files.push({ file, doc: JSON.parse(await readFile(file, "utf8")) });
    } catch {
      // reported by the rule validator
    }
  }
  return checkWorkOrderAreas(c, files);
}
