// What a finished request leads to, besides the next request: the outbox rows it settles (recorded
// in the batch's transaction, see group-commit.ts) and the log lines a change of its target's
// health deserves (one per outage and per recovery, not one per failed item).

import type { Logger } from "../core/log.js";
import type { OutboxRepo } from "../store/outbox-repo.js";
import { backoffMs } from "./backoff.js";
import type { Result } from "./senders/context.js";
import { type TargetChange, type Targets, targetOf } from "./targets.js";

/** Records one outcome; called inside the transaction that commits its batch. */
export function recordOutcome(repo: OutboxRepo, targets: Targets, r: Result, now: number, random: () => number): void {
  const row = r.row;
  const target = targetOf(row);
  switch (r.kind) {
    case "ok":
      repo.markDelivered(row.seq, now);
      if (r.upstreamId !== undefined && row.alarm_id) repo.setUpstreamId(row.alarm_id, r.upstreamId);
      if (r.orderId !== undefined && row.alarm_id) repo.setWorkOrderId(row.alarm_id, r.orderId);
      // The first accepted request ends a pause recorded by this or a previous run.
      if (targets.takePauseRecorded(target)) repo.setPaused(null, target);
      return;
    case "skipped":
      repo.markSkipped(row.seq, now, r.reason);
      return;
    case "dead":
      repo.markDead(row.seq, now, r.reason, r.answer);
      repo.setLastError(row.kind, now, r.reason);
      return;
    case "retry": {
      // The row's own backoff (by its attempts); the target's backoff gates when anything goes.
      const itemDelay = r.afterMs ?? backoffMs(row.attempts + 1, random);
      repo.markRetry(row.seq, now + itemDelay, r.reason);
      repo.setLastError(row.kind, now, r.reason);
      return;
    }
    case "pause":
      repo.setLastError(row.kind, now, r.reason);
      repo.setPaused({ target, since: now, message: r.reason }, target);
      targets.notePauseRecorded(target);
      return;
    case "aborted":
      return;
  }
}

/** Logs what an outcome changed about its target. */
export function reportTargetChange(log: Logger, r: Result, change: TargetChange): void {
  const row = r.row;
  const target = targetOf(row);
  const reason = r.kind === "retry" || r.kind === "pause" ? r.reason : "";
  switch (change.kind) {
    case "none":
      return;
    case "recovered":
      if (change.wasPaused) log.warn({ target }, "delivery resumed: credentials accepted again");
      else log.info({ target, failures: change.failures }, "delivery resumed");
      return;
    case "backoff":
      log.warn(
        { target, kind: row.kind, alarmId: row.alarm_id, failures: change.failures, retryInMs: change.delayMs, reason },
        "delivery failed; will retry",
      );
      return;
    case "paused":
      if (change.first) {
        log.error(
          { target, kind: row.kind, reason },
          `DELIVERY PAUSED: ${target} refused the credentials; nothing is dropped, items wait until a retry is accepted`,
        );
      } else {
        log.warn({ target, retryInMs: change.delayMs, reason }, "delivery still paused: credentials refused");
      }
      return;
  }
}
