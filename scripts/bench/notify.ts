// Notification storm: 1,000 alarms raised within one second by the whole agent (createAgent on a
// config file; readings handed to the pipeline), one recipient group told on three channels: e-mail
// to a real SMTP server, a WeCom application message to a fake WeCom API, and a group robot post to
// the fake robot webhook. Prints alarms committed per second with notifications against the same
// agent without them (same run), that every notification arrived exactly once (per channel, as the
// servers count them), and the drain rate per channel. The servers run in a child process, as remote
// services would: they do not share the agent's event loop. Stops by itself and removes its files.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ALARMS = 1000;
const ROUNDS = 3;
const ROBOT_KEY = "bench-robot-key-0001";
const WECOM_SECRET = "bench-wecom-secret-0001";
/** Messages per alarm: the user's e-mail and WeCom id, and the group's robot. */
const CHANNELS = ["email", "wecom", "robot"] as const;
type ChannelCount = Record<(typeof CHANNELS)[number], number>;

interface Servers {
  smtpPort: number;
  wecomUrl: string;
  robotUrl: string;
  corpId: string;
}

/** The child: a real SMTP server and the fake WeCom API; "report" on stdin prints what they received. */
async function serve(): Promise<void> {
  const { startSmtp } = await import("../../test/helpers/smtp.js");
  const { startFakeWecom } = await import("../../test/helpers/wecom.js");
  const smtp = await startSmtp();
  const wecom = await startFakeWecom({ robotKeys: [ROBOT_KEY], secret: WECOM_SECRET });
  const s: Servers = { smtpPort: smtp.port, wecomUrl: wecom.url, robotUrl: wecom.robotUrl, corpId: wecom.corpId };
  process.stdout.write(`${JSON.stringify(s)}\n`);
  process.stdin.on("data", (d: Buffer) => {
    if (d.toString().startsWith("report")) {
      const subjects = smtp.messages.map((m) => m.subject);
      const report = {
        email: smtp.messages.length,
        wecom: wecom.accepted.length,
        robot: wecom.robotAccepted.length,
        // Each alarm's subject is distinct: a repeat would show as fewer distinct than received.
        distinctEmail: new Set(subjects).size,
        distinctWecom: new Set(wecom.accepted.map((r) => JSON.stringify(r.json))).size,
        distinctRobot: new Set(wecom.robotAccepted.map((r) => JSON.stringify(r.json))).size,
      };
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    void Promise.all([smtp.close(), wecom.close()]).then(() => process.exit(0));
  });
}

function lineReader(child: ChildProcess): () => Promise<string> {
  const lines: string[] = [];
  let buf = "";
  child.stdout?.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  return async () => {
    const deadline = Date.now() + 30_000;
    while (lines.length === 0) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error("bench notification servers did not answer");
      await new Promise((r) => setTimeout(r, 20));
    }
    return lines.shift() as string;
  };
}

type AgentModule = typeof import("../../src/app.js");
type Agent = ReturnType<AgentModule["createAgent"]>;

/** The agent's files: one rule over every meter, and (with notifications) the group it tells. */
async function buildAgent(dir: string, servers: Servers | null): Promise<Agent> {
  for (const d of ["data", "rules", "hooks", "tasks"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(
    join(dir, "rules", "storm.json"),
    JSON.stringify({
      id: "storm-overvoltage",
      name: "overvoltage",
      title: "Over-voltage",
      key: "meter",
      type: "rule",
      level: 4,
      conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
      actions: { alarm: true },
      ...(servers ? { recipient: "storm-group" } : {}),
    }),
  );
  writeFileSync(
    join(dir, "recipients.json"),
    JSON.stringify({
      users: [{ id: "u-1", realname: "Site engineer", email: "engineer@example.com", wecomUserId: "Engineer" }],
      recipients: [{ id: "storm-group", name: "Storm", delay: 0, users: ["u-1"], robots: ["${BENCH_ROBOT_KEY}"] }],
    }),
  );
  const file = join(dir, "agent.json");
  writeFileSync(
    file,
    JSON.stringify({
      gatewayId: "bench",
      dataDir: "./data",
      rulesDir: "./rules",
      hooksDir: "./hooks",
      tasksDir: "./tasks",
      http: { enabled: false },
      ...(servers
        ? {
            notify: {
              recipientsFile: "./recipients.json",
              email: {
                host: "127.0.0.1",
                port: servers.smtpPort,
                secure: false,
                starttls: "off",
                from: "edge-agent <bench@example.com>",
              },
              wecom: {
                corpId: servers.corpId,
                agentId: 1000002,
                secret: "${BENCH_WECOM_SECRET}",
                baseUrl: servers.wecomUrl,
              },
              robot: { baseUrl: servers.robotUrl },
            },
          }
        : {}),
    }),
  );
  const env = { ...process.env, BENCH_ROBOT_KEY: ROBOT_KEY, BENCH_WECOM_SECRET: WECOM_SECRET };
  const { loadConfig } = await import("../../src/config/load.js");
  const loaded = await loadConfig(file, env, { cwd: dir });
  if (loaded.config === null) {
    throw new Error(`bench config rejected: ${loaded.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
  }
  const { createAgent } = (await import("../../src/app.js")) as AgentModule;
  const { systemClock } = await import("../../src/core/clock.js");
  const { silentLogger } = await import("../../src/core/log.js");
  return createAgent(loaded.config, {
    clock: systemClock,
    log: silentLogger(),
    version: "bench",
    secrets: [ROBOT_KEY, WECOM_SECRET],
    env,
  });
}

/** One storm: `ALARMS` meters cross 250 V within one second (1 ms steps); alarms committed per second. */
async function storm(
  agent: Agent,
  round: number | string,
  alarms = ALARMS,
): Promise<{ perS: number; seconds: number }> {
  let committed = 0;
  const off = agent.events.on("alarmCreated", () => {
    committed++;
  });
  const ids = Array.from({ length: alarms }, (_, i) => `r${round}-meter-${String(i).padStart(4, "0")}`);
  const t0 = performance.now();
  let next = 0;
  while (next < alarms) {
    const due = Math.min(alarms, Math.ceil(((performance.now() - t0) / 1000) * ALARMS) + 1);
    for (; next < due; next++) {
      agent.pipeline.ingest({
        deviceId: ids[next] as string,
        product: "meter",
        ts: Date.now(),
        values: { voltage: 262 },
        source: "mqtt",
      });
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const deadline = Date.now() + 30_000;
  while (committed < alarms && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  const seconds = (performance.now() - t0) / 1000;
  off();
  if (committed < alarms) throw new Error(`only ${committed}/${alarms} alarms committed within 30 s`);
  return { perS: alarms / seconds, seconds };
}

interface Drain {
  delivered: ChannelCount;
  pending: number;
  dead: number;
  /** Messages per second per channel, first planned → last delivered. */
  perS: ChannelCount;
}

/** Waits until the notify rows created since `since` (epoch ms) are `expected` and none pending; per channel counts and rates. */
async function drained(agent: Agent, since: number, expected: number, deadlineMs: number): Promise<Drain> {
  const db = agent.db;
  if (!db) throw new Error("the agent has no database open");
  const q = (sql: string) => (db.prepare(sql).get(since) as { n: number }).n;
  const stopAt = Date.now() + deadlineMs;
  while (Date.now() < stopAt) {
    const total = q("SELECT count(*) AS n FROM outbox WHERE kind = 'notify' AND created >= ?");
    const open = q("SELECT count(*) AS n FROM outbox WHERE kind = 'notify' AND created >= ? AND state = 'pending'");
    if (total >= expected && open === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const rows = db
    .prepare(
      `SELECT json_extract(payload, '$.channel') AS channel, state, count(*) AS n, min(created) AS first, max(done_at) AS last
       FROM outbox WHERE kind = 'notify' AND created >= ? GROUP BY channel, state`,
    )
    .all(since) as { channel: string; state: string; n: number; first: number; last: number | null }[];
  const delivered: ChannelCount = { email: 0, wecom: 0, robot: 0 };
  const perS: ChannelCount = { email: 0, wecom: 0, robot: 0 };
  let pending = 0;
  let dead = 0;
  for (const r of rows) {
    if (r.state === "delivered" && r.channel in delivered) {
      const ch = r.channel as keyof ChannelCount;
      delivered[ch] = r.n;
      perS[ch] = r.last !== null && r.last > r.first ? (r.n * 1000) / (r.last - r.first) : 0;
    } else if (r.state === "dead") dead += r.n;
    else if (r.state !== "delivered") pending += r.n;
  }
  return { delivered, pending, dead, perS };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export default async function bench(): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", new URL(import.meta.url).pathname, "--serve"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const nextLine = lineReader(child);
  const root = mkdtempSync(join(tmpdir(), "edge-bench-notify-"));
  try {
    const servers = JSON.parse(await nextLine()) as Servers;
    const plain = await buildAgent(join(root, "plain"), null);
    const told = await buildAgent(join(root, "told"), servers);
    await plain.start();
    await told.start();
    const withN: number[] = [];
    const without: number[] = [];
    const drains: Drain[] = [];
    try {
      // Warm-up (code paths, the SMTP connection, the WeCom token), not counted.
      await storm(plain, "w", 100);
      const w0 = Date.now();
      await storm(told, "w", 100);
      await drained(told, w0, 100 * CHANNELS.length, 60_000);
      // Interleaved rounds: the machine's drift hits both agents alike. Each round's notifications
      // drain before the next round, so a round's commit rate includes its own deliveries only.
      for (let round = 0; round < ROUNDS; round++) {
        without.push((await storm(plain, round)).perS);
        const since = Date.now();
        withN.push((await storm(told, round)).perS);
        drains.push(await drained(told, since, ALARMS * CHANNELS.length, 120_000));
      }
      child.stdin?.write("report\n");
      const got = JSON.parse(await nextLine()) as ChannelCount & {
        distinctEmail: number;
        distinctWecom: number;
        distinctRobot: number;
      };
      const a = median(withN);
      const b = median(without);
      const r = (xs: number[]) => xs.map((x) => Math.round(x)).join("/");
      console.log(
        `notify.alarms_committed_per_s: ${Math.round(a)} with notifications on 3 channels (baseline the same agent without: ${Math.round(b)}, ratio ${(a / b).toFixed(2)}; target >= 0.9; ${ALARMS} alarms raised within 1 s, median of ${ROUNDS} interleaved rounds, with ${r(withN)}, without ${r(without)})`,
      );
      const per = ROUNDS * ALARMS;
      const sum = (ch: keyof ChannelCount) => drains.reduce((t, d) => t + d.delivered[ch], 0);
      const d = {
        delivered: { email: sum("email"), wecom: sum("wecom"), robot: sum("robot") },
        pending: drains.reduce((t, x) => t + x.pending, 0),
        dead: drains.reduce((t, x) => t + x.dead, 0),
      };
      const warm = 100;
      const once =
        got.distinctEmail === got.email && got.distinctWecom === got.wecom && got.distinctRobot === got.robot;
      const all =
        once &&
        d.delivered.email === per &&
        d.delivered.wecom === per &&
        d.delivered.robot === per &&
        got.email === per + warm &&
        got.wecom === per + warm &&
        got.robot === per + warm;
      console.log(
        `notify.delivered: ${all ? "all" : "NOT ALL"} (${per} alarms + ${warm} warm-up; received email ${got.email}, wecom ${got.wecom}, robot ${got.robot}; ${once ? "each once" : "SOME TWICE"}; outbox delivered ${d.delivered.email}/${d.delivered.wecom}/${d.delivered.robot}, pending ${d.pending}, dead ${d.dead})`,
      );
      const rate = (ch: keyof ChannelCount) =>
        `${ch} ${Math.round(median(drains.map((x) => x.perS[ch])))} (${drains.map((x) => Math.round(x.perS[ch])).join("/")})`;
      console.log(
        `notify.drain_per_s: ${rate("email")}, ${rate("wecom")}, ${rate("robot")} messages/s (median of ${ROUNDS} rounds of ${ALARMS} per channel, first planned → last delivered; the servers on loopback in another process)`,
      );
    } finally {
      await told.stop();
      await plain.stop();
    }
  } finally {
    child.stdin?.write("quit\n");
    await new Promise<void>((r) => {
      if (child.exitCode !== null) r();
      else child.once("exit", () => r());
      setTimeout(() => {
        if (child.exitCode === null) child.kill();
        r();
      }, 5000).unref();
    });
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv.includes("--serve")) await serve();
else if (import.meta.url === `file://${process.argv[1]}`) await bench();
