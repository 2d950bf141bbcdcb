// Example hook: posts raised and resolved alarms to a WeCom (企业微信) group robot.
//
// The agent has this built in: WeCom group robots (and e-mail, and WeCom application messages) are
// notification channels of their own, named in recipient groups, queued in the outbox, retried, and
// rendered from the site's templates (docs/notifications.md, "Channels"). Prefer the built-in
// channel for alarms. This file stays as an example of a custom channel written as a hook: copy it
// to reach a service the agent does not know (an SMS gateway, a pager, a chat system).
//
// Inert until configured. Set the robot's webhook URL in the environment of the agent:
//   WECOM_WEBHOOK_URL=https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<robot key>
// or store it in this hook's key/value store (kv key "webhookUrl").
// WECOM_MIN_LEVEL (default 3) skips alarms below that level. Mentions: WECOM_MENTION=13800000000,13900000000.
//
// WeCom answers HTTP 200 with {"errcode":0,"errmsg":"ok"}; any other errcode is logged (and
// counted as a hook error, so it shows on the status page).

/** @typedef {import('edge-agent').Hook} Hook */
/** @typedef {import('edge-agent').HookContext} HookContext */
/** @typedef {import('edge-agent').Alarm} Alarm */

const LEVELS = ["info", "info", "warning", "warning", "critical", "fatal"];

/** @param {HookContext} ctx */
function settings(ctx) {
  const url = process.env.WECOM_WEBHOOK_URL || ctx.kv.get("webhookUrl");
  const minLevel = Number(process.env.WECOM_MIN_LEVEL ?? ctx.kv.get("minLevel") ?? 3);
  const mention = (process.env.WECOM_MENTION ?? "").split(",").filter(Boolean);
  return { url: typeof url === "string" && url ? url : null, minLevel, mention };
}

/**
 * @param {HookContext} ctx
 * @param {string} content
 */
async function send(ctx, content) {
  const { url, mention } = settings(ctx);
  if (!url) return;
  const res = await ctx.http.postJson(url, {
    msgtype: "markdown",
    markdown: { content: mention.length ? `${content}\n${mention.map((m) => `<@${m}>`).join("")}` : content },
  });
  const body = res.status === 200 ? res.json() : null;
  if (body?.errcode !== 0) {
    throw new Error(`WeCom robot refused the message: HTTP ${res.status} ${res.text.slice(0, 200)}`);
  }
}

/** @param {Alarm} alarm */
function where(alarm) {
  return alarm.resource.name ? `${alarm.resource.name} (${alarm.resource.id})` : alarm.resource.id;
}

/** @type {Hook} */
export default {
  start(ctx) {
    const { url } = settings(ctx);
    ctx.log.info(url ? "WeCom notifications on" : "WeCom notifications off (set WECOM_WEBHOOK_URL to enable)");
  },

  async onAlarmCreated(alarm, _device, _rule, ctx) {
    if (alarm.level < settings(ctx).minLevel) return;
    const color = alarm.level >= 4 ? "warning" : "comment";
    await send(
      ctx,
      [
        `**<font color="${color}">${alarm.status === 2 ? "Alarm" : "Pre-warning"}: ${alarm.title}</font>**`,
        `> Device: ${where(alarm)}`,
        `> Level: ${alarm.level} (${LEVELS[alarm.level] ?? "?"})`,
        `> ${alarm.message}`,
        `> Gateway: ${ctx.config.gatewayId} · ${new Date(alarm.created).toISOString()}`,
      ].join("\n"),
    );
  },

  async onAlarmResolved(alarm, _device, ctx) {
    if (alarm.level < settings(ctx).minLevel) return;
    await send(ctx, `**<font color="info">Resolved: ${alarm.title}</font>**\n> Device: ${where(alarm)}`);
  },
};
