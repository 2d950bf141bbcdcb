// `edge-agent run`: validate the config (exit 1 with the same problems `validate` prints), build the
// agent, run until SIGINT/SIGTERM, then stop cleanly and exit 0.
// While the agent runs, hook code cannot end the process (exit guard: process.exit and friends
// throw and are logged with the hook's name), and a hook that blocks the event loop for longer
// than hooks.watchdogS is named, quarantined and the process killed by the watchdog thread so the
// service manager restarts the agent without it.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createAgent } from "../app.js";
import { systemTimeZone } from "../config/defaults.js";
import { reportConfigProblems } from "../config/format.js";
import { loadConfig } from "../config/load.js";
import { systemClock } from "../core/clock.js";
import { errFields } from "../core/errors.js";
import { createLogger } from "../core/log.js";
import { HookActivity } from "../hooks/activity.js";
import { installExitGuard } from "../hooks/exit-guard.js";
import { startWatchdog, type Watchdog } from "../hooks/watchdog.js";
import { DEFAULT_CONFIG } from "./args.js";
import { type CliIO, waitForShutdownSignal } from "./io.js";

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

export async function main(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: "string", short: "c", default: DEFAULT_CONFIG } },
    allowPositionals: false,
  });
  const file = values.config ?? DEFAULT_CONFIG;
  const { config, problems, secrets } = await loadConfig(file, io.env, { cwd: io.cwd });
  if (!reportConfigProblems(file, problems, config !== null, io.stderr) || config === null) return 1;
  // The site's time zone is the process's: rule active windows and quota periods read local time
  // from the runtime, tasks and daily statistics from config.timezone — one zone for all of them.
  if (config.timezone !== systemTimeZone()) process.env.TZ = config.timezone;
  // Unset `pretty` means "on a terminal": decided here, where the terminal is known.
  const pretty = config.log.pretty ?? (process.stdout.isTTY === true && io.env.NO_COLOR === undefined);
  const log = createLogger({
    level: io.env.EDGE_AGENT_LOG_LEVEL ?? config.log.level,
    pretty,
    secrets,
  });
  const hookActivity = new HookActivity();
  const hooksLog = log.child({ module: "hooks" });
  // Removed again before returning: src/main.ts ends the process with process.exit(code).
  const removeExitGuard = installExitGuard(hooksLog, hookActivity);
  const watchdogS = config.hooks.watchdogS;
  let watchdog: Watchdog | null = null;
  try {
    if (watchdogS > 0) {
      watchdog = startWatchdog({
        activity: hookActivity,
        watchdogMs: Math.round(watchdogS * 1000),
        dataDir: config.dataDir,
        log: hooksLog,
        pretty,
      });
    }
    const agent = createAgent(config, {
      clock: systemClock,
      log,
      version: packageVersion(),
      secrets,
      hookActivity,
      env: io.env,
    });

    // Never die on a stray rejection or exception from a device, hook or network peer: log it and go on.
    process.on("unhandledRejection", (err) => log.error(errFields(err), "unhandled rejection"));
    process.on("uncaughtException", (err) => log.error(errFields(err), "uncaught exception"));

    try {
      await agent.start();
    } catch (err) {
      log.fatal(errFields(err), "edge-agent failed to start");
      await agent.stop().catch(() => undefined);
      return 1;
    }
    const signal = await waitForShutdownSignal();
    log.info({ signal }, "shutting down");
    await agent.stop();
    await new Promise<void>((r) => log.flush(() => r()));
    return 0;
  } finally {
    await watchdog?.stop();
    removeExitGuard();
  }
}
