// Reading what the dispatcher recorded, so retry tests step on its real state (an attempt's outcome
// is in the outbox) instead of on turns of the event loop.

import type { Db } from "../../src/store/db.js";
import type { Dispatcher } from "../../src/upstream/dispatcher.js";
import type { FakeUpstream } from "./upstream.js";
import { waitFor } from "./wait.js";

export interface OutboxRowState {
  seq: number;
  state: string;
  attempts: number;
  next_at: number;
}

/** The (latest) outbox row of `kind` for an alarm, as the dispatcher last recorded it. */
export function outboxRow(db: Db, alarmId: string, kind: string): OutboxRowState | undefined {
  return db
    .prepare(
      "SELECT seq, state, attempts, next_at FROM outbox WHERE alarm_id = ? AND kind = ? ORDER BY seq DESC LIMIT 1",
    )
    .get(alarmId, kind) as OutboxRowState | undefined;
}

/** Waits until the row's `failures`-th failed attempt is recorded; returns the row (its next_at is the retry time). */
export function failureRecorded(db: Db, alarmId: string, kind: string, failures: number): Promise<OutboxRowState> {
  return waitFor(
    () => {
      const row = outboxRow(db, alarmId, kind);
      return row && row.state === "pending" && row.attempts === failures ? row : undefined;
    },
    { what: `${kind} of ${alarmId}: failure #${failures} recorded` },
  );
}

/**
 * Stops the dispatcher: the shutdown path waits for the requests it started and commits their
 * outcomes, so what the fake platform and the outbox show afterwards is final. A "nothing was sent"
 * check made after this can fail, unlike one made after a turn of the event loop. The caller starts
 * the dispatcher again (start() resumes from the outbox; targets keep their backoff).
 */
export async function stopAndSettle(dispatcher: Dispatcher, up: FakeUpstream): Promise<void> {
  await dispatcher.stop();
  await waitFor(() => up.inflight === 0, { what: "the fake platform answered everything" });
}
