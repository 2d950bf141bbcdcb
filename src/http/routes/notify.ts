// POST /notify/test of the local API (docs/http-api.md, Notifications): sends a "test" message to
// everyone a recipient group reaches, right now and not through the outbox, so a site engineer sees
// at once whether SMTP, WeCom and the group's robots work. Every (person, channel) pair is one result;
// a channel that is not configured, a person without a contact, a hook that drops the message or a
// channel's error is a result with ok false and a code, never an exception. Robot keys are secrets:
// only a masked form of them is ever answered.

import { errorMessage } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import type { NotifyInterceptor } from "../../core/notify-ports.js";
import type { Channel } from "../../notify/channels/channel.js";
import { describeRobot } from "../../notify/channels/robot.js";
import type { RenderInput } from "../../notify/render.js";
import type { ChannelName, NotificationMessage, RecipientGroup, RecipientUser } from "../../notify/types.js";
import { CODES, HttpError, notFound } from "../errors.js";
import { stringField } from "../params.js";
import type { AddRoute } from "./route.js";

/** A backstop over the channels' own deadlines (notify.*.timeoutMs), for a channel that never answers. */
const TEST_DEADLINE_MS = 45_000;

export interface NotifyRouteDeps {
  recipients: { get(id: string): RecipientGroup | undefined };
  /** The built-in channels that are configured, by name (email, wecom, robot). */
  channels: ReadonlyMap<string, Channel>;
  /** The renderer delivery uses (the site's templates, else the shipped ones). */
  render(input: RenderInput): NotificationMessage;
  lang: string;
  timezone: string;
  statusPageUrl?: string | undefined;
  /** Named in the test message, so a site with several agents knows which one sent it. */
  gateway: string;
  now(): number;
  /** Hooks' beforeNotify, as delivery runs it. */
  interceptor?: NotifyInterceptor<NotificationMessage> | undefined;
  log: Logger;
}

export interface NotifyTestResult {
  /** The person's id; absent for a group robot. */
  userId?: string;
  realname?: string;
  audience: "users" | "principals" | "robots";
  channel: ChannelName | "none";
  /** Address or WeCom user id; a robot's key masked. */
  to: string;
  ok: boolean;
  /** The service's own code (SMTP reply, WeCom errcode, HTTP status) or the agent's (not-configured, no-contact, dropped, error). */
  code?: string | number;
  message?: string;
}

export interface NotifyTestAnswer {
  recipient: string;
  name: string;
  results: NotifyTestResult[];
}

interface Job {
  result: NotifyTestResult;
  channel: ChannelName;
  to: string;
  user?: RecipientUser;
}

/** Every (person, contact) and robot of the group, a person in both users and principals once. */
function jobs(group: RecipientGroup): Job[] {
  const out: Job[] = [];
  const seen = new Set<string>();
  const people: [RecipientUser, "users" | "principals"][] = [
    ...group.users.map((u): [RecipientUser, "users"] => [u, "users"]),
    ...group.principals.map((u): [RecipientUser, "principals"] => [u, "principals"]),
  ];
  for (const [user, audience] of people) {
    if (seen.has(user.id)) continue;
    seen.add(user.id);
    const who = { userId: user.id, ...(user.realname ? { realname: user.realname } : {}), audience };
    const contacts: [ChannelName, string][] = [];
    if (user.email) contacts.push(["email", user.email]);
    if (user.wecomUserId) contacts.push(["wecom", user.wecomUserId]);
    if (contacts.length === 0) {
      out.push({
        channel: "email",
        to: "",
        user,
        result: {
          ...who,
          channel: "none",
          to: "",
          ok: false,
          code: "no-contact",
          message: "this user has neither email nor wecomUserId in the recipients file",
        },
      });
    }
    for (const [channel, to] of contacts) out.push({ channel, to, user, result: { ...who, channel, to, ok: false } });
  }
  for (const key of group.robots ?? []) {
    out.push({
      channel: "robot",
      to: key,
      result: { audience: "robots", channel: "robot", to: describeRobot(key), ok: false },
    });
  }
  return out;
}

const NOT_CONFIGURED: Record<string, string> = {
  email: "e-mail is not configured (notify.email in the config)",
  wecom: "WeCom is not configured (notify.wecom in the config)",
  robot: "WeCom group robots are not configured (notify.robot in the config)",
};

async function runJob(deps: NotifyRouteDeps, group: RecipientGroup, job: Job): Promise<NotifyTestResult> {
  const r = job.result;
  if (r.code === "no-contact") return r;
  const channel = deps.channels.get(job.channel);
  if (!channel) {
    return {
      ...r,
      code: "not-configured",
      message: NOT_CONFIGURED[job.channel] ?? `channel ${job.channel} is not configured`,
    };
  }
  try {
    let msg = deps.render({
      transition: "test",
      channel: job.channel,
      to: job.to,
      lang: deps.lang,
      timezone: deps.timezone,
      ...(deps.statusPageUrl !== undefined ? { statusPageUrl: deps.statusPageUrl } : {}),
      gateway: deps.gateway,
      now: deps.now(),
    });
    msg.recipientId = group.id;
    if (job.user) msg.userId = job.user.id;
    const ic = deps.interceptor;
    if (ic?.active) {
      // A test belongs to no alarm and no outbox row: seq 0, alarmId "".
      const verdict = await ic.beforeNotify(msg, { seq: 0, alarmId: "", audience: r.audience, attempts: 0 });
      if ("vetoedBy" in verdict)
        return { ...r, code: "dropped", message: `hook ${verdict.vetoedBy} dropped the message (beforeNotify)` };
      msg = verdict.message;
    }
    const out = await channel.send(msg, AbortSignal.timeout(TEST_DEADLINE_MS));
    if (out.ok) return { ...r, ok: true };
    return { ...r, code: out.code ?? (out.permanent ? "refused" : "failed"), message: out.message };
  } catch (err) {
    // A channel reports delivery problems as results; a throw is a bug (or a hook's channel).
    return { ...r, code: "error", message: errorMessage(err) };
  }
}

/** Sends the test message through every channel of `group` in parallel; one result per pair. */
export async function sendTest(deps: NotifyRouteDeps, group: RecipientGroup): Promise<NotifyTestAnswer> {
  const results = await Promise.all(jobs(group).map((j) => runJob(deps, group, j)));
  return { recipient: group.id, name: group.name, results };
}

export function notifyRoutes(route: AddRoute, deps: NotifyRouteDeps | undefined): void {
  route("/notify/test", "POST", async (ctx): Promise<{ code: 0; data: NotifyTestAnswer }> => {
    const id = stringField(await ctx.body(), "recipient");
    if (!deps) throw new HttpError(503, CODES.unavailable, "Notifications are not set up in this agent");
    const group = deps.recipients.get(id);
    if (!group) throw notFound("Recipient", id);
    const answer = await sendTest(deps, group);
    const failed = answer.results.filter((x) => !x.ok);
    deps.log.info(
      {
        recipientId: id,
        sent: answer.results.length - failed.length,
        failed: failed.map((x) => `${x.userId ?? "robot"}/${x.channel}: ${x.code}`),
      },
      "test notification sent through the local API",
    );
    return { code: 0, data: answer };
  });
}
