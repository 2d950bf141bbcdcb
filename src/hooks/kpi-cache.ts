// The hooks' KPIs are asked for by every heartbeat and every /status read, but a month's or a year's
// figure is costly to compute (a hook may scan its whole history) and changes slowly. Each period's
// answer is kept for its natural refresh (docs/hooks.md, kpis): today 1 min, month 1 h, year 1 day,
// and computed anew as soon as the local day, month or year (config.timezone) is another one, or
// the set of running hooks changed. Concurrent askers of one period share one computation.

import type { Clock } from "../core/clock.js";
import { localParts } from "../core/local-time.js";
import type { KpiPeriod, KpiProvider } from "../core/ports.js";

/** How long an answer is kept, per period (ms). */
export const KPI_MAX_AGE_MS: Readonly<Record<KpiPeriod, number>> = {
  today: 60_000,
  month: 3_600_000,
  year: 86_400_000,
};

export interface KpiSource extends KpiProvider {
  /** Changes whenever the hooks that answer kpis may have changed (load, reload, unload). */
  readonly generation?: number;
}

export interface KpiCacheOptions {
  source: KpiSource;
  clock: Clock;
  /** IANA zone of the site's local periods. */
  timezone: string;
  maxAgeMs?: Partial<Record<KpiPeriod, number>>;
}

interface Entry {
  value: Record<string, number>;
  /** Monotonic ms it was computed at (ages never jump with the wall clock). */
  at: number;
  /** The local period it belongs to ("2026-03", …). */
  key: string;
  generation: number;
}

export class KpiCache implements KpiProvider {
  readonly #o: KpiCacheOptions;
  readonly #maxAge: Record<KpiPeriod, number>;
  readonly #entries = new Map<KpiPeriod, Entry>();
  readonly #pending = new Map<KpiPeriod, Promise<Record<string, number>>>();

  constructor(o: KpiCacheOptions) {
    this.#o = o;
    this.#maxAge = { ...KPI_MAX_AGE_MS, ...o.maxAgeMs };
  }

  /** The period's KPIs: the kept answer while it is fresh, else one new computation (shared). */
  kpis(period: KpiPeriod): Promise<Record<string, number>> {
    const key = this.#periodKey(period);
    const gen = this.#o.source.generation ?? 0;
    const e = this.#entries.get(period);
    if (
      e !== undefined &&
      e.key === key &&
      e.generation === gen &&
      this.#o.clock.monotonic() - e.at < this.#maxAge[period]
    ) {
      return Promise.resolve({ ...e.value });
    }
    let p = this.#pending.get(period);
    if (p === undefined) {
      const at = this.#o.clock.monotonic();
      p = this.#o.source.kpis(period).then(
        (value) => {
          this.#pending.delete(period);
          this.#entries.set(period, { value, at, key, generation: gen });
          return value;
        },
        (err: unknown) => {
          // Not kept: the next asker tries again.
          this.#pending.delete(period);
          throw err;
        },
      );
      this.#pending.set(period, p);
    }
    return p.then((v) => ({ ...v }));
  }

  /** Forgets every kept answer. */
  clear(): void {
    this.#entries.clear();
  }

  #periodKey(period: KpiPeriod): string {
    const p = localParts(this.#o.clock.now(), this.#o.timezone);
    if (period === "year") return String(p.year);
    if (period === "month") return `${p.year}-${p.month}`;
    return `${p.year}-${p.month}-${p.day}`;
  }
}
