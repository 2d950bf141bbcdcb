// A tiny in-process metrics registry rendered in Prometheus text format by the local API.
// Counters and gauges are plain objects so the hot path pays one property increment.

export type Labels = Readonly<Record<string, string>>;

interface Series {
  labels: Labels;
  value: number;
}

abstract class Metric {
  readonly #series = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
  ) {}
  protected series(labels: Labels | undefined): Series {
    const key = labels ? labelKey(labels) : "";
    let s = this.#series.get(key);
    if (s === undefined) {
      s = { labels: labels ?? {}, value: 0 };
      this.#series.set(key, s);
    }
    return s;
  }
  /** Returns a handle bound to fixed labels, for hot paths that must not build label keys per call. */
  bind(labels?: Labels): { inc(by?: number): void; set(v: number): void; get(): number } {
    const s = this.series(labels);
    return {
      inc: (by = 1) => {
        s.value += by;
      },
      set: (v: number) => {
        s.value = v;
      },
      get: () => s.value,
    };
  }
  get(labels?: Labels): number {
    return this.series(labels).value;
  }
  all(): readonly Series[] {
    return [...this.#series.values()];
  }
}

export class Counter extends Metric {
  inc(labels?: Labels, by = 1): void {
    this.series(labels).value += by;
  }
}

export class Gauge extends Metric {
  set(value: number, labels?: Labels): void {
    this.series(labels).value = value;
  }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();
  /** Called before rendering, to refresh gauges computed on demand (outbox depth, memory…). */
  readonly #collectors: (() => void)[] = [];

  counter(name: string, help: string): Counter {
    return this.#get(name, () => new Counter(name, help, "counter")) as Counter;
  }
  gauge(name: string, help: string): Gauge {
    return this.#get(name, () => new Gauge(name, help, "gauge")) as Gauge;
  }
  onCollect(fn: () => void): void {
    this.#collectors.push(fn);
  }
  #get(name: string, make: () => Metric): Metric {
    let m = this.#metrics.get(name);
    if (m === undefined) {
      m = make();
      this.#metrics.set(name, m);
    }
    return m;
  }
  render(): string {
    for (const c of this.#collectors) {
      try {
        c();
      } catch {
        // a failing collector must not break /metrics
      }
    }
    const out: string[] = [];
    for (const m of this.#metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
      for (const s of m.all()) {
        const keys = Object.keys(s.labels);
        const lbl = keys.length ? `{${keys.map((k) => `${k}="${escapeLabel(s.labels[k] ?? "")}"`).join(",")}}` : "";
        out.push(`${m.name}${lbl} ${Number.isFinite(s.value) ? s.value : 0}`);
      }
    }
    return `${out.join("\n")}\n`;
  }
}
