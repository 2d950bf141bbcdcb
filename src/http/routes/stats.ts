// /stats/day of the local API: the stored summary of one closed local day (docs/http-api.md).
// `date` (YYYY-MM-DD, default the latest closed day) picks the day, `did` keeps one device.
// Refusals: 104001 naming `date` for a malformed date, 104004 for a day that is not stored.

import type { DayStats, DayStatsQueries } from "../../core/ports.js";
import { isLocalDate } from "../../stats/summary.js";
import { CODES, HttpError, invalid, notFound } from "../errors.js";
import type { AddRoute } from "./route.js";

export interface StatsRouteDeps {
  stats?: DayStatsQueries | undefined;
}

export function statsRoutes(route: AddRoute, { stats }: StatsRouteDeps): void {
  route("/stats/day", "GET", ({ url }) => {
    const q = url.searchParams;
    const date = q.get("date") ?? undefined;
    if (date !== undefined && !isLocalDate(date)) throw invalid("date", "expected a date YYYY-MM-DD");
    const did = q.get("did") ?? undefined;
    if (did !== undefined && did.length === 0) throw invalid("did", "empty device id");
    if (!stats) throw new HttpError(404, CODES.notFound, "Daily statistics are not kept on this agent");
    const day = stats.day(date);
    if (day === undefined) {
      if (date !== undefined) throw notFound("Day statistics", date);
      throw new HttpError(404, CODES.notFound, "No day has been closed yet: statistics appear after local midnight");
    }
    return { code: 0, data: did === undefined ? day : onlyDevice(day, did) };
  });
}

function onlyDevice(day: DayStats, did: string): DayStats {
  const metrics = day.devices[did];
  return { ...day, devices: metrics === undefined ? {} : { [did]: metrics } };
}
