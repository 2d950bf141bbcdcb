// /device/* of the local API: maintenance switched at run time (docs/http-api.md, Maintenance).
// POST /device/maintenance {did, on, until?, reason?, by?} and GET /device/maintenance/list.
// Refusals: 104004 for an unknown device; 104001 naming the field (a bad `until`, switching off a
// config maintenance, a hook's veto); 100403 when a hook refused with PermissionDenied.

import type { Logger } from "../../core/log.js";
import type { MaintenanceControl, MaintenanceResult } from "../../core/maintenance-ports.js";
import { CODES, HttpError, invalid, missing } from "../errors.js";
import { stringField } from "../params.js";
import type { AddRoute } from "./route.js";

export interface DeviceRouteDeps {
  maintenance?: MaintenanceControl | undefined;
  log: Logger;
}

const BY_MAX = 64;
const REASON_MAX = 500;

function optionalString(body: Record<string, unknown>, name: string, max: number): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalid(name, `expected a string, got ${Array.isArray(v) ? "array" : typeof v}`);
  if (v.length > max) throw invalid(name, `at most ${max} characters, got ${v.length}`);
  return v;
}

/** A refused request as the platform's error body. */
export function maintenanceRefusal(r: Extract<MaintenanceResult, { ok: false }>, did: string): HttpError {
  switch (r.refusal) {
    case "unknown-device":
      return new HttpError(404, CODES.notFound, `Device not found: ${did} (${r.message})`, { field: "did", id: did });
    case "vetoed":
      if (r.kind === "denied") {
        return new HttpError(403, CODES.forbidden, `Permission denied: ${r.message}`, { hook: r.hook ?? "" });
      }
      return new HttpError(400, CODES.missingParameter, `Refused by hook ${r.hook ?? "?"}: ${r.message}`, {
        field: "on",
        hook: r.hook ?? "",
        kind: r.kind ?? "veto",
      });
    default:
      return invalid(r.field ?? "did", r.message);
  }
}

export function deviceRoutes(route: AddRoute, { maintenance, log }: DeviceRouteDeps): void {
  const control = (): MaintenanceControl => {
    if (!maintenance) throw new HttpError(503, CODES.unavailable, "Maintenance is not available on this agent");
    return maintenance;
  };
  route("/device/maintenance/list", "GET", () => ({
    code: 0,
    data: { devices: maintenance ? maintenance.list() : [] },
  }));
  route("/device/maintenance", "POST", async (ctx) => {
    const body = await ctx.body();
    const did = stringField(body, "did");
    const on = body.on;
    if (on === undefined || on === null) throw missing("on");
    if (typeof on !== "boolean") throw invalid("on", `expected true or false, got ${JSON.stringify(on)}`);
    const reason = optionalString(body, "reason", REASON_MAX);
    const by = optionalString(body, "by", BY_MAX) || "api";
    const until = body.until === null ? undefined : body.until;
    if (until !== undefined && typeof until !== "number" && typeof until !== "string") {
      throw invalid("until", `expected epoch milliseconds or an ISO-8601 string, got ${typeof until}`);
    }
    const r = await control().set(did, on, { until, reason, by });
    if (!r.ok) throw maintenanceRefusal(r, did);
    log.info({ deviceId: did, on, by }, `maintenance ${on ? "on" : "off"} through the local API`);
    return { code: 0, data: { did, on, status: r.status, maintenance: r.entry } };
  });
}
