// The body of GET /status: everything the status page shows in one answer (gateway, health, a page
// of devices, active and recurring alarms, outbox, hooks, rules, the KPIs of today, the month and the
// year, the public config).
// A failing part (KPIs, health) is reported inside the answer; it never fails the whole page.

import { alarmShape } from "../alarms/shape.js";
import type { Clock } from "../core/clock.js";
import { errFields, type Problem } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import type { AlarmQueries, DeviceView, HookAdmin, KpiProvider, OutboxStats, RuleAdmin } from "../core/ports.js";
import { unknownRecipients } from "../notify/recipients.js";
import type { RecipientFiles } from "../notify/recipients-admin.js";
import { devicePage, STATUS_DEVICES_DEFAULT, STATUS_DEVICES_MAX } from "../pipeline/device-page.js";
import { type TaskSummary, taskSummary } from "../tasks/summary.js";
import { intParam } from "./params.js";

export interface HealthReport {
  ok: boolean;
  parts: Record<string, { ok: boolean; detail?: string }>;
}

export interface StatusSources {
  gatewayId: string;
  version: string;
  clock: Clock;
  log: Logger;
  devices: DeviceView;
  alarms: AlarmQueries;
  rules: RuleAdmin & { problems(): readonly Problem[] };
  hooks?: HookAdmin | undefined;
  outbox?: OutboxStats | undefined;
  kpis?: KpiProvider | undefined;
  health: () => HealthReport;
  publicConfig: () => unknown;
  /** Scheduled tasks: the files in force and the scheduler (absent: no tasks section). */
  tasks?: TaskSummary | undefined;
  /** Recipient groups (absent: no notify.recipients facts). */
  recipients?: Pick<RecipientFiles, "entries" | "get" | "problems"> | undefined;
}

/** The health report; a health check that throws is itself an unhealthy agent, not a 500. */
export function readHealth(src: { health(): HealthReport }): HealthReport {
  try {
    return src.health();
  } catch (err) {
    return { ok: false, parts: { agent: { ok: false, detail: (err as Error).message } } };
  }
}

/**
 * `devicesOffset` (0) and `devicesLimit` (200, at most 1000) page the devices; `devicesTotal` counts
 * them all. `startedAt` is the monotonic time the API started listening (for the uptime).
 */
export async function statusReport(
  o: StatusSources,
  q: URLSearchParams,
  startedAt: number,
): Promise<Record<string, unknown>> {
  const devicesOffset = intParam(q, "devicesOffset", Number.MAX_SAFE_INTEGER) ?? 0;
  const devicesLimit = intParam(q, "devicesLimit", STATUS_DEVICES_MAX) ?? STATUS_DEVICES_DEFAULT;
  const now = o.clock.now();
  const active = o.alarms.active();
  // Each period from the KPI cache: a year figure is not recomputed for every page load.
  const [today, month, year] = await Promise.all(
    (["today", "month", "year"] as const).map(async (period): Promise<Record<string, number>> => {
      if (!o.kpis) return {};
      try {
        return await o.kpis.kpis(period);
      } catch (err) {
        o.log.warn({ ...errFields(err), period }, "kpis for the status page failed");
        return {};
      }
    }),
  );
  const kpisByPeriod = { today: today ?? {}, month: month ?? {}, year: year ?? {} };
  const health = readHealth(o);
  const rules = o.rules.entries();
  const files = new Map<string, number>();
  for (const r of rules) files.set(r.file, (files.get(r.file) ?? 0) + 1);
  return {
    gateway: {
      id: o.gatewayId,
      version: o.version,
      now,
      uptimeS: Math.round((o.clock.monotonic() - startedAt) / 1000),
    },
    health,
    ...devicePage(o.devices.list(), devicesOffset, devicesLimit),
    alarms: {
      active: active.map(alarmShape),
      activeCount: active.length,
      // Alarms whose rule's period silenced a repeat in the last day (they are resolved, so not above).
      recurring: o.alarms.list({ recurringSince: now - 86_400_000, limit: 20 }).alarms.map(alarmShape),
    },
    outbox: o.outbox ? o.outbox.summary(now) : null,
    hooks: o.hooks ? o.hooks.list() : [],
    rules: {
      count: rules.length,
      files: [...files.entries()].map(([file, count]) => ({ file, rules: count })),
      problems: o.rules.problems(),
    },
    kpis: kpisByPeriod.today,
    kpisByPeriod,
    ...(o.tasks ? { tasks: taskSummary(o.tasks) } : {}),
    // Rules naming a group this agent does not have: their alarms tell nobody (shown on the page).
    ...(o.recipients
      ? {
          notify: {
            recipients: o.recipients.entries().length,
            problems: o.recipients.problems(),
            unknownRecipients: unknownRecipients(
              rules.map((r) => ({ id: r.def.id, recipient: r.def.recipient ?? r.doc.recipient })),
              { get: (id) => o.recipients?.get(id)?.group },
            ),
          },
        }
      : {}),
    config: o.publicConfig(),
  };
}
