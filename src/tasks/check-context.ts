// What task files are checked against, read from the config and the hooks directory: the Modbus
// devices a write may reach, whether MQTT is there, the hooks there are (read again on every check,
// since hooks come and go while the agent runs).

import { readdir } from "node:fs/promises";
import type { ResolvedConfig } from "../config/defaults.js";
import type { TaskCheckContext } from "./validate.js";

export type TaskConfig = Pick<ResolvedConfig, "timezone" | "tasks" | "modbus" | "mqtt" | "hooksDir" | "hooks">;

/** Hook names as the hook manager gives them: the file name without `.js` / `.mjs`. */
export async function hookNames(dir: string): Promise<Set<string>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    // No hooks directory: every hook action is reported missing (a warning), which is the truth.
    return new Set();
  }
  const out = new Set<string>();
  for (const n of names) {
    if (n.startsWith(".") || n.startsWith("_")) continue;
    const m = /^(.*)\.(?:m?js)$/.exec(n);
    if (m?.[1]) out.add(m[1]);
  }
  return out;
}

export async function taskCheckContext(config: TaskConfig): Promise<TaskCheckContext> {
  return {
    timezone: config.timezone,
    defaultTimeoutMs: config.tasks.defaultTimeoutMs,
    modbusDevices: config.modbus?.devices ?? [],
    mqtt: config.mqtt !== undefined,
    hookNames: await hookNames(config.hooksDir),
    disabledHooks: config.hooks.disabled,
  };
}
