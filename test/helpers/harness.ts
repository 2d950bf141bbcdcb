// The parts nearly every component takes (event bus, metrics), built the same way in every test
// and bench, and the one way to capture what the agent logs.

import { EventBus } from "../../src/core/events.js";
import { createLogger, type Logger, silentLogger } from "../../src/core/log.js";
import { MetricsRegistry } from "../../src/core/metrics.js";

/** One JSON log line as pino writes it. */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface LogCapture<L = LogLine> {
  /** A real agent logger (same redaction as in production) writing into this capture. */
  readonly log: Logger;
  /** Every line written so far, parsed, in order. */
  readonly lines: L[];
  /** Every line as written (after redaction), one per line: for "never appears anywhere" checks. */
  readonly text: string;
}

/**
 * A logger whose lines are kept for the test. Level "info" by default, as in production; pass
 * `secrets` to check that they are masked.
 */
export function captureLog<L = LogLine>(opts: { level?: string; secrets?: readonly string[] } = {}): LogCapture<L> {
  const raw: string[] = [];
  const lines: L[] = [];
  const log = createLogger({
    level: opts.level ?? "info",
    ...(opts.secrets ? { secrets: opts.secrets } : {}),
    destination: {
      write: (s: string) => {
        raw.push(s);
        lines.push(JSON.parse(s) as L);
      },
    },
  });
  return {
    log,
    lines,
    get text() {
      return raw.join("");
    },
  };
}

/** An event bus; its listener failures go to `log` (silent by default). */
export function testBus(log: Logger = silentLogger()): EventBus {
  return new EventBus(log);
}

/** A fresh metrics registry (never shared between tests: counters would add up). */
export function testMetrics(): MetricsRegistry {
  return new MetricsRegistry();
}
