// Notifications as one part of the agent (docs/notifications.md): the planner the outbox writer
// calls in the alarm's transaction, and what the dispatcher's notify sender needs (the configured
// channels, the hooks' beforeNotify and channels, the alarm as committed, the device, the renderer).
// Notify rows are delivered whether or not `upstream` is configured.

import type { Dispatcher as HttpDispatcher } from "undici";
import type { ResolvedConfig } from "../config/defaults.js";
import type { Clock } from "../core/clock.js";
import type { Part } from "../core/lifecycle.js";
import type { Logger } from "../core/log.js";
import type { MetricsRegistry } from "../core/metrics.js";
import type { HookChannels, NotifyInterceptor } from "../core/notify-ports.js";
import type { DeviceView } from "../core/ports.js";
import { buildChannels, type Channel, closeChannels } from "../notify/channels/index.js";
import { Planner, type RecipientLookup } from "../notify/planner.js";
import { RecipientFiles } from "../notify/recipients-admin.js";
import { RecipientsLoader } from "../notify/recipients-loader.js";
import { renderMessage } from "../notify/render.js";
import type { TemplateSource } from "../notify/templates.js";
import type { ChannelName, NotificationMessage } from "../notify/types.js";
import { AlarmsRepo } from "../store/alarms-repo.js";
import type { Db } from "../store/db.js";
import { OutboxRepo } from "../store/outbox-repo.js";
import type { NotifyDeliveryContext, RenderInput } from "../upstream/senders/context.js";

export interface NotifyPartsOptions {
  config: Pick<ResolvedConfig, "notify" | "timezone">;
  db: Db;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  http: HttpDispatcher;
  recipients: RecipientLookup;
  devices: DeviceView;
  /** The site's templates (notify.templatesDir), for the shipped renderer. */
  templates?: TemplateSource | undefined;
  /** Another renderer (tests); default renderMessage with `templates`. */
  render?: (input: RenderInput) => NotificationMessage;
  hooks?: { interceptor: NotifyInterceptor<NotificationMessage>; channels: HookChannels<NotificationMessage> };
  /** The channels to use instead of those the config builds (tests). */
  channels?: ReadonlyMap<ChannelName, Channel>;
}

export interface NotifyParts {
  planner: Planner;
  delivery: Omit<NotifyDeliveryContext, "repo" | "signal">;
  /** Closes the channels' connections (the SMTP pool). */
  close(): Promise<void>;
}

export function notifyParts(o: NotifyPartsOptions): NotifyParts {
  const channels = o.channels ?? buildChannels(o.config.notify, { http: o.http, clock: o.clock, log: o.log });
  const planner = new Planner({
    repo: new OutboxRepo({ db: o.db }),
    recipients: o.recipients,
    configured: (c) => channels.has(c),
    log: o.log,
    metrics: o.metrics,
  });
  const alarms = new AlarmsRepo(o.db);
  const firings = new AlarmsRepo(o.db, "firings");
  const delivery: NotifyParts["delivery"] = {
    channels,
    hookChannels: o.hooks?.channels,
    interceptor: o.hooks?.interceptor,
    alarms: { get: (id) => alarms.get(id) ?? firings.get(id) },
    devices: o.devices,
    render:
      o.render ?? ((input) => renderMessage(o.templates !== undefined ? { ...input, templates: o.templates } : input)),
    lang: o.config.notify.lang,
    timezone: o.config.timezone,
    statusPageUrl: o.config.notify.statusPageUrl,
    now: () => o.clock.now(),
  };
  return { planner, delivery, close: () => closeChannels(channels.values()) };
}

/**
 * The recipient groups rules name: the watched file (a Part, started before the alarms) and the
 * local API's changes to it.
 */
export function recipientParts(o: {
  config: Pick<ResolvedConfig, "notify">;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  log: Logger;
}): { recipients: RecipientsLoader; files: RecipientFiles; part: Part } {
  const recipients = new RecipientsLoader({
    file: o.config.notify.recipientsFile,
    log: o.log,
    clock: o.clock,
    context: { env: o.env, email: o.config.notify.email !== undefined, wecom: o.config.notify.wecom !== undefined },
  });
  const files = new RecipientFiles({ loader: recipients, log: o.log, now: () => o.clock.now() });
  return { recipients, files, part: { name: "recipients", part: recipients } };
}
