// The notification model (docs/notifications.md): recipient groups as the platform's `/recipient/*`
// names them (`id`, `name`, `description`, `delay`, `principals`, `users`), the people in them with
// the contact points the agent can reach, and the message a channel delivers.

import type { Alarm } from "../core/types.js";

/** A person who can be told. `id`, `realname`, `username` are the platform's; the rest are contacts. */
export interface RecipientUser {
  id: string;
  realname?: string;
  username?: string;
  email?: string;
  /** WeCom (企业微信) user id, for application messages. */
  wecomUserId?: string;
  /** Kept for hooks (a custom SMS channel); the agent sends nothing to it itself. */
  phone?: string;
  [extra: string]: unknown;
}

/** A recipient group, with its members resolved to users. */
export interface RecipientGroup {
  id: string;
  name: string;
  description?: string;
  /** Seconds an alarm must still be active before `users` are told (and again before `principals`). */
  delay: number;
  /** Told when the alarm escalates to status 2, or is still active `delay` s after the users were told. */
  principals: RecipientUser[];
  users: RecipientUser[];
  /** WeCom group robot webhook keys or URLs told like users (secrets: never logged or shown whole). */
  robots?: string[];
  created?: number;
  updated?: number;
  ownerId?: string;
  [extra: string]: unknown;
}

/** Built-in channels, and `channel:<name>` for a channel a hook provides. */
export type ChannelName = "email" | "wecom" | "robot" | `channel:${string}`;

export type NotifyTransition = "raise" | "escalate" | "recover" | "test";

/** Who a message is for, as an outbox row of kind "notify" holds it (JSON). */
export interface NotificationPayload {
  alarmId: string;
  transition: NotifyTransition;
  /** direct: the rule's actions.email / actions.wechat / channel:*; users / principals: of the group. */
  audience: "direct" | "users" | "principals";
  channel: ChannelName;
  /** Email address, WeCom user id, robot key/URL, or the custom channel's target. */
  to: string;
  userId?: string;
  recipientId?: string;
  /** Send only if the alarm is still active at send time (delayed raises and principals). */
  onlyIfActive?: boolean;
}

/** A rendered message, what `beforeNotify` sees and may change. */
export interface NotificationMessage {
  channel: ChannelName;
  to: string;
  transition: NotifyTransition;
  lang: string;
  subject: string;
  text: string;
  html?: string;
  /** The alarm as committed (absent for a test message). */
  alarm?: Alarm;
  recipientId?: string;
  userId?: string;
}
