// The agent's health for /health and /status: the database is open, the MQTT client is connected
// (when MQTT is configured) and delivery is not paused by refused credentials. Parts that are not
// configured are not reported.

import type { Clock } from "../core/clock.js";
import type { OutboxStats } from "../core/ports.js";
import type { Db } from "../store/db.js";

export interface AgentHealth {
  ok: boolean;
  parts: Record<string, { ok: boolean; detail?: string }>;
}

export function agentHealth(o: {
  db: Db;
  clock: Clock;
  outbox: OutboxStats;
  mqtt: { readonly connected: boolean } | null;
}): () => AgentHealth {
  return () => {
    const parts: AgentHealth["parts"] = {};
    parts.database = { ok: o.db.open };
    if (o.mqtt) parts.mqtt = o.mqtt.connected ? { ok: true } : { ok: false, detail: "broker not connected" };
    parts.outbox = o.outbox.summary(o.clock.now()).paused
      ? { ok: false, detail: "delivery paused: upstream refused the credentials" }
      : { ok: true };
    return { ok: Object.values(parts).every((p) => p.ok), parts };
  };
}
