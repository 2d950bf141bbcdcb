// The event-loop watchdog. A hook that never returns (`while (true) {}`) blocks the only thread the
// agent has: no timer, log line or HTTP answer can run, so nothing inside the loop can notice. A
// worker thread watches a heartbeat the main loop writes into shared memory; when it has not moved
// for hooks.watchdogS, the worker reads which hook and method the main thread is inside (the
// HookActivity marker), writes the log line itself (synchronously: the main thread cannot log),
// records the hook in <dataDir>/hook-quarantine.json and kills the process with SIGKILL.
//
// Why SIGKILL: process.exit() in a worker ends only the worker, and a SIGTERM would wait for the
// blocked main loop to run its handler. SIGKILL ends the process at once; the service manager sees
// a failure ("status=9/KILL") and restarts the agent (Restart=on-failure), which then starts
// without the quarantined hook.

import { Worker } from "node:worker_threads";
import type { Logger } from "../core/log.js";
import { ACTIVITY_METHODS, type HookActivity, MAX_TRACKED_HOOKS, SLOT } from "./activity.js";
import { QUARANTINE_FILE } from "./quarantine.js";

export interface WatchdogOptions {
  activity: HookActivity;
  /** A heartbeat older than this ends the process. */
  watchdogMs: number;
  dataDir: string;
  log: Logger;
  /** Write a readable line to stderr instead of a JSON log line to stdout. */
  pretty?: boolean;
}

export interface Watchdog {
  stop(): Promise<void>;
}

// Plain JavaScript: the worker must not depend on the TypeScript loader the main thread may use.
const WORKER_SOURCE = `
"use strict";
const { workerData, parentPort } = require("node:worker_threads");
const fs = require("node:fs");
const path = require("node:path");
const os = require("node:os");
const { buffer, watchdogMs, dataDir, methods, slot, maxTracked, pretty, pid, file: qfile } = workerData;
const a = new Int32Array(buffer);
const hooks = new Map();
parentPort.on("message", (m) => { if (m && m.type === "hook") hooks.set(m.hook.id, m.hook); });
const every = Math.max(20, Math.min(1000, Math.floor(watchdogMs / 8)));
// A gap this long between two checks means this thread was stopped too (SIGSTOP, host suspend).
const suspended = Math.max(2000, every * 4);
let last = Atomics.load(a, slot.heartbeat);
let since = Date.now();
let lastCheck = since;
setInterval(() => {
  const now = Date.now();
  const hb = Atomics.load(a, slot.heartbeat);
  const gap = now - lastCheck;
  lastCheck = now;
  if (hb !== last || gap > suspended) { last = hb; since = now; return; }
  if (now - since >= watchdogMs) fire(now - since);
}, every);

function quarantine(h, method, reason) {
  const target = path.join(dataDir, qfile);
  let doc = { version: 1, hooks: {} };
  try {
    const old = JSON.parse(fs.readFileSync(target, "utf8"));
    if (old && typeof old.hooks === "object" && old.hooks !== null) doc.hooks = old.hooks;
  } catch {}
  doc.hooks[h.name] = { file: h.file, sha256: h.sha256, method, reason, at: new Date().toISOString() };
  fs.writeFileSync(target + ".tmp", JSON.stringify(doc, null, 2) + "\\n", { mode: 0o600 });
  fs.renameSync(target + ".tmp", target);
}

function fire(blockedMs) {
  const h = hooks.get(Atomics.load(a, slot.hook) - 1);
  const method = methods[Atomics.load(a, slot.method)] || "unknown";
  const secs = Math.round(blockedMs / 100) / 10;
  const limit = "hooks.watchdogS = " + watchdogMs / 1000;
  let msg;
  const fields = { module: "hooks", blockedMs, watchdogMs };
  if (h !== undefined) {
    const reason = "it blocked the event loop for " + secs + " s in " + method + " (" + limit + ")";
    msg = "event loop blocked for " + secs + " s by hook " + h.name + " (" + method + ", " + h.file + ") [" + limit +
      "]: the agent exits so the service manager restarts it; hook " + h.name +
      " is quarantined (not loaded) until its file changes";
    Object.assign(fields, { hook: h.name, method, file: h.file });
    try { quarantine(h, method, reason); } catch (err) {
      msg += " (could not record the quarantine in " + path.join(dataDir, qfile) + ": " + err.message + ")";
    }
  } else {
    const busy = [];
    for (const x of hooks.values()) if (x.id < maxTracked && Atomics.load(a, slot.inFlight + x.id) > 0) busy.push(x.name);
    msg = "event loop blocked for " + secs + " s outside any hook method [" + limit + "]" +
      (busy.length ? "; hooks with asynchronous calls in progress: " + busy.join(", ") : "") +
      ": the agent exits so the service manager restarts it";
    if (busy.length) fields.suspects = busy;
  }
  try {
    if (pretty) fs.writeSync(2, "FATAL (watchdog): " + msg + "\\n");
    else fs.writeSync(1, JSON.stringify({ level: 60, time: Date.now(), pid, hostname: os.hostname(), ...fields, msg }) + "\\n");
  } catch {}
  process.kill(pid, "SIGKILL");
}
`;

/** Starts the heartbeat on this (main) thread and the watchdog thread that reads it. */
export function startWatchdog(o: WatchdogOptions): Watchdog {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // No TypeScript loader or other preload in the watchdog thread: it is plain JavaScript.
    execArgv: [],
    workerData: {
      buffer: o.activity.buffer,
      watchdogMs: o.watchdogMs,
      dataDir: o.dataDir,
      methods: ACTIVITY_METHODS,
      slot: SLOT,
      maxTracked: MAX_TRACKED_HOOKS,
      pretty: o.pretty === true,
      pid: process.pid,
      file: QUARANTINE_FILE,
    },
  });
  worker.unref();
  worker.on("error", (err) => o.log.error({ err }, "event-loop watchdog failed; a blocked hook will not be detected"));
  const off = o.activity.onRegister((h) => worker.postMessage({ type: "hook", hook: { ...h } }));
  const beatMs = Math.max(10, Math.min(1000, Math.floor(o.watchdogMs / 4)));
  const timer = setInterval(() => o.activity.beat(), beatMs);
  timer.unref();
  o.log.info({ watchdogS: o.watchdogMs / 1000 }, "event-loop watchdog started");
  return {
    async stop() {
      clearInterval(timer);
      off();
      await worker.terminate();
    },
  };
}
