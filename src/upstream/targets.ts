// Health of the delivery targets (upstream, work orders, webhooks, and one per notification channel,
// `notify:<channel>`, so an SMTP server that is down holds back e-mail only): backoff after failures,
// one probe at a time until a request is accepted again, and the pause on refused credentials
// (docs/upstream.md). Pure: no I/O and no clock of its own (`now` is passed in), so the rules are
// unit-tested directly; the dispatcher logs and counts what each change reports.

import type { OutboxClass, OutboxRow } from "../store/outbox-repo.js";
import { backoffMs } from "./backoff.js";

export type TargetName = "upstream" | "workorders" | "webhook" | `notify:${string}`;

export const TARGET_NAMES: readonly TargetName[] = ["upstream", "workorders", "webhook"];

export const CLASS_TARGET: Readonly<Record<Exclude<OutboxClass, "notify">, TargetName>> = {
  alarm: "upstream",
  workorder: "workorders",
  notification: "webhook",
};

const NOTIFY_TARGETS = new WeakMap<OutboxRow, TargetName>();

/** The target of a row: its class's, or for a notify row its channel's (`notify:email`, `notify:channel:sms`). */
export function targetOf(row: OutboxRow): TargetName {
  if (row.class !== "notify") return CLASS_TARGET[row.class];
  let t = NOTIFY_TARGETS.get(row);
  if (t === undefined) {
    let channel = "unknown";
    try {
      const c = (JSON.parse(row.payload) as { channel?: unknown }).channel;
      if (typeof c === "string" && c !== "") channel = c;
    } catch {
      // a damaged payload: its sender dead-letters it
    }
    t = notifyTarget(channel);
    NOTIFY_TARGETS.set(row, t);
  }
  return t;
}

export const notifyTarget = (channel: string): TargetName => `notify:${channel}`;

export interface TargetState {
  readonly name: TargetName;
  failures: number;
  /** Wall-clock ms before which nothing is sent to this target. */
  blockedUntil: number;
  /** After a failure: one request at a time until one succeeds. */
  probing: boolean;
  inflight: number;
  paused: { since: number; message: string } | null;
}

/** How a request to a target ended, as far as the target's health is concerned. */
export type TargetOutcome =
  /** `dead` counts as an answer: the server spoke, the target itself works. */
  | { kind: "ok" | "dead" }
  | { kind: "retry"; afterMs?: number | undefined }
  | { kind: "pause"; reason: string }
  /** Neither says anything about the target: the request slot is just released. */
  | { kind: "skipped" | "aborted" };

/** What an outcome changed, for the log. */
export type TargetChange =
  | { kind: "none" }
  | { kind: "recovered"; wasPaused: boolean; failures: number }
  | { kind: "backoff"; failures: number; delayMs: number }
  | { kind: "paused"; first: boolean; failures: number; delayMs: number };

const NONE: TargetChange = { kind: "none" };

export class Targets {
  readonly #random: () => number;
  readonly #targets = new Map<TargetName, TargetState>();
  /** Targets whose pause is recorded in the database (by this or a previous run). */
  readonly #pauseRecorded = new Set<string>();

  constructor(random: () => number = Math.random) {
    this.#random = random;
    for (const name of TARGET_NAMES) {
      this.#targets.set(name, { name, failures: 0, blockedUntil: 0, probing: false, inflight: 0, paused: null });
    }
  }

  get(name: TargetName): Readonly<TargetState> {
    return this.#state(name);
  }

  all(): Iterable<Readonly<TargetState>> {
    return this.#targets.values();
  }

  /** Whether a new request may go to the target now: not backing off, and no probe already out. */
  ready(name: TargetName, now: number): boolean {
    const t = this.#state(name);
    return t.blockedUntil <= now && !(t.probing && t.inflight > 0);
  }

  /** A request to the target starts. */
  begin(name: TargetName): void {
    this.#state(name).inflight++;
  }

  /** A request to the target ended: its slot is released and the outcome applied at once. */
  finish(name: TargetName, outcome: TargetOutcome, now: number): TargetChange {
    const t = this.#state(name);
    t.inflight--;
    switch (outcome.kind) {
      case "ok":
      case "dead":
        return this.#recovered(t);
      case "retry": {
        t.probing = true;
        // Requests that were already in flight when the target failed count as one failure.
        if (t.blockedUntil > now) return NONE;
        t.failures++;
        const delayMs = outcome.afterMs ?? backoffMs(t.failures, this.#random);
        t.blockedUntil = now + delayMs;
        return { kind: "backoff", failures: t.failures, delayMs };
      }
      case "pause": {
        t.probing = true;
        const first = t.paused === null;
        if (first) t.paused = { since: now, message: outcome.reason };
        if (t.blockedUntil > now) return NONE;
        t.failures++;
        // A credentials refusal carries no Retry-After worth trusting: plain backoff.
        const delayMs = backoffMs(t.failures, this.#random);
        t.blockedUntil = now + delayMs;
        return { kind: "paused", first, failures: t.failures, delayMs };
      }
      case "skipped":
      case "aborted":
        return NONE;
    }
  }

  /** Operator "retry now": every backoff ends, so one probe per target may go at once. */
  clearBackoff(): void {
    for (const t of this.#targets.values()) t.blockedUntil = 0;
  }

  /** The target's pause is (now) recorded in the database. */
  notePauseRecorded(target: string): void {
    this.#pauseRecorded.add(target);
  }

  /** Whether a recorded pause must be cleared (once: the caller clears it). */
  takePauseRecorded(target: string): boolean {
    return this.#pauseRecorded.delete(target);
  }

  #recovered(t: TargetState): TargetChange {
    const change: TargetChange =
      t.paused !== null || t.failures > 0
        ? { kind: "recovered", wasPaused: t.paused !== null, failures: t.failures }
        : NONE;
    t.paused = null;
    t.failures = 0;
    t.probing = false;
    t.blockedUntil = 0;
    return change;
  }

  #state(name: TargetName): TargetState {
    let t = this.#targets.get(name);
    if (t === undefined) {
      // Notification channels get their target the first time a row of theirs goes.
      t = { name, failures: 0, blockedUntil: 0, probing: false, inflight: 0, paused: null };
      this.#targets.set(name, t);
    }
    return t;
  }
}
