// The built-in channels the config asks for (docs/notifications.md, "Channels"): e-mail when
// `notify.email` is set, WeCom application messages when `notify.wecom` is, group robots when
// `notify.robot` is. Channels a hook provides (`channel:<name>`) are added by the hook runtime.

import type { ResolvedNotifyConfig } from "../../config/defaults.js";
import type { ChannelName } from "../types.js";
import type { Channel, ChannelDeps } from "./channel.js";
import { EmailChannel } from "./email.js";
import { RobotChannel } from "./robot.js";
import { WecomChannel } from "./wecom.js";

export type { Channel, ChannelDeps, ChannelResult } from "./channel.js";
export { closeChannels, permanent, retryable } from "./channel.js";

/** One channel per configured section; building opens nothing (connections open on first send). */
export function buildChannels(notify: ResolvedNotifyConfig, deps: ChannelDeps): Map<ChannelName, Channel> {
  const out = new Map<ChannelName, Channel>();
  if (notify.email) out.set("email", new EmailChannel(notify.email, deps));
  if (notify.wecom) out.set("wecom", new WecomChannel(notify.wecom, deps));
  if (notify.robot) out.set("robot", new RobotChannel(notify.robot, deps));
  return out;
}
