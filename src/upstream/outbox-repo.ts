// The outbox repository lives in the store; re-exported here for the delivery side and the composition root.

export type { OutboxClass, OutboxKind, OutboxRow, OutboxState } from "../store/outbox-repo.js";
export { OutboxRepo } from "../store/outbox-repo.js";
