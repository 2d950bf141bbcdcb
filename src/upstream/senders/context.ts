// What a sender gets and gives back. A sender turns one outbox row into one request and says what
// that means for the row; it never writes the database: the dispatcher commits the outcomes of many
// rows in one transaction, after the requests.

import type { UpstreamConfig } from "../../config/schema.js";
import type { Logger } from "../../core/log.js";
import type { HookChannels, NotificationOutcome, NotifyInterceptor } from "../../core/notify-ports.js";
import type { DeviceView } from "../../core/ports.js";
import type { Alarm, WorkOrder } from "../../core/types.js";
import type { Channel } from "../../notify/channels/channel.js";
import type { RenderInput as FullRenderInput } from "../../notify/render.js";
import type { NotificationMessage } from "../../notify/types.js";
import type { OutboxKind, OutboxRepo, OutboxRow, PlatformAnswer } from "../../store/outbox-repo.js";
import type { WorkOrderClient } from "../../workorders/client.js";
import type { SendOutcome } from "../http.js";
import type { TargetName } from "../targets.js";

/** A send that did not end with an accepted answer. */
export type SendFailure = Exclude<SendOutcome, { kind: "ok" }>;

/** A notification that was sent or failed: announced (notificationSent / notificationFailed) after commit. */
export interface NotificationNotice {
  message: NotificationMessage;
  outcome: NotificationOutcome;
}

/** What a finished request means for its row; committed in a batch. */
export type Result = (
  | { row: OutboxRow; kind: "ok"; upstreamId?: string; orderId?: string; order?: WorkOrder; completed?: WorkOrder }
  | { row: OutboxRow; kind: "skipped"; reason: string }
  | { row: OutboxRow; kind: "dead"; reason: string; answer?: PlatformAnswer }
  | { row: OutboxRow; kind: "retry"; reason: string; afterMs?: number }
  | { row: OutboxRow; kind: "pause"; reason: string }
  | { row: OutboxRow; kind: "aborted" }
) & { notification?: NotificationNotice };

/** What renderMessage (notify/render.ts) is given; the site's templates are the renderer's own. */
export type RenderInput = Omit<FullRenderInput, "templates">;

/** What the notify sender needs (docs/notifications.md, "Delivery"); absent: notify rows wait. */
export interface NotifyDeliveryContext {
  /** The built-in channels that are configured, by name (email, wecom, robot). */
  readonly channels: ReadonlyMap<string, Channel>;
  readonly hookChannels?: HookChannels<NotificationMessage> | undefined;
  readonly interceptor?: NotifyInterceptor<NotificationMessage> | undefined;
  /** The alarm (or firing) as committed now. */
  readonly alarms: { get(id: string): Alarm | undefined };
  readonly devices: DeviceView;
  readonly repo: OutboxRepo;
  render(input: RenderInput): NotificationMessage;
  readonly lang: string;
  readonly timezone: string;
  readonly statusPageUrl?: string | undefined;
  now(): number;
  /** The dispatcher's shutdown signal. */
  signal(): AbortSignal;
}

export interface SenderContext {
  /** Undefined: alarm rows are not handed to a sender (they wait in the outbox). */
  readonly upstream: UpstreamConfig | undefined;
  /** Undefined: work-order rows are not handed to a sender. */
  readonly workOrders: WorkOrderClient<SendFailure> | undefined;
  /** Read-only lookups: ids an earlier row of the alarm obtained, why a dependency did not go. */
  readonly repo: OutboxRepo;
  readonly log: Logger;
  /** The hooks' `beforeUpload`: the payload to send, or null to skip the row. */
  intercept(kind: OutboxKind, payload: unknown): Promise<unknown | null>;
  send(target: TargetName, url: URL, headers: Record<string, string>, body: string): Promise<SendOutcome>;
  /** Undefined: notify rows are not handed to a sender. */
  readonly notify?: NotifyDeliveryContext | undefined;
}

export type Sender = (ctx: SenderContext, row: OutboxRow) => Promise<Result>;

export const skipped = (row: OutboxRow, reason = "skipped by beforeUpload"): Result => ({
  row,
  kind: "skipped",
  reason,
});

/** Maps a failed send to a row result. */
export function failed(row: OutboxRow, out: SendFailure): Result {
  if (out.kind === "aborted") return { row, kind: "aborted" };
  if (out.kind === "retry")
    return out.afterMs !== undefined
      ? { row, kind: "retry", reason: out.reason, afterMs: out.afterMs }
      : { row, kind: "retry", reason: out.reason };
  if (out.kind === "dead" && out.answer !== undefined)
    return { row, kind: "dead", reason: out.reason, answer: out.answer };
  return { row, kind: out.kind, reason: out.reason };
}

/** "dead (why it died)" for a dependent item's reason, so the last dead letter says the root cause. */
export function dependencyState(dep: { state: string; error: string | null } | undefined): string {
  if (dep === undefined) return "missing";
  return dep.error ? `${dep.state} (${dep.error})` : dep.state;
}

/** Headers of the alarm API: JSON, the bearer token when one is configured. */
export function upstreamHeaders(upstream: UpstreamConfig, extra: Record<string, string>): Record<string, string> {
  const h: Record<string, string> = { "Content-Type": "application/json", ...extra };
  if (upstream.token) h.Authorization = `Bearer ${upstream.token}`;
  return h;
}
