// The whole agent (createAgent) with hooks and a quota: readings go in through the pipeline, the rule
// file raises an alarm, beforeUpload changes what reaches a real upstream server, and the hook's kpis
// arrive in the heartbeat. Upstream is a node:http server on 127.0.0.1 that records requests.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createAgent } from "../../../src/app.js";
import type { Config } from "../../../src/config/schema.js";
import { systemClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import { resolvedConfig } from "../../helpers/config.js";
import { waitFor } from "../../helpers/wait.js";

type Got = { path: string; body: Record<string, unknown> };
const g = globalThis as unknown as { __ag: unknown[][] };

test("agent run: rule alarm through beforeAlarm/beforeUpload to upstream, hook kpis in the heartbeat, quota alarm", async () => {
  g.__ag = [];
  const root = mkdtempSync(join(tmpdir(), "ea-agent-hooks-"));
  const rulesDir = join(root, "rules");
  const hooksDir = join(root, "hooks");
  mkdirSync(rulesDir);
  mkdirSync(hooksDir);
  writeFileSync(
    join(rulesDir, "overvoltage.json"),
    JSON.stringify({
      id: "meter-overvoltage",
      name: "overvoltage",
      title: "Over-voltage on incomer",
      key: "meter",
      type: "rule",
      fact: "voltage",
      level: 4,
      conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
    }),
  );
  writeFileSync(
    join(hooksDir, "site.mjs"),
    `export default {
      beforeAlarm(a) { return { ...a, message: a.message + ' [site A]' }; },
      beforeUpload(kind, p) { if (kind === 'alert.add') return { ...p, site: 'A' }; },
      onAlarmCreated(a, d, rule) { globalThis.__ag.push(['created', a.ruleId, d.id, rule.id]); },
      onQuotaExceeded(q, u) { globalThis.__ag.push(['quota', q.id, u.crossed]); },
      kpis(period) { return { solar_efficiency: 0.85 }; },
    };`,
  );
  const got: Got[] = [];
  const server = createServer((req, res) => {
    let data = "";
    req.on("data", (c) => {
      data += c;
    });
    req.on("end", () => {
      got.push({ path: req.url ?? "", body: data ? JSON.parse(data) : {} });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ id: `up-${got.length}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  const config: Config = Object.freeze({
    gatewayId: "gw-hooks",
    dataDir: join(root, "data"),
    rulesDir,
    hooksDir,
    hooks: { timeoutMs: 2000 },
    devices: { "meter-01": { product: "meter", name: "Main incomer" } },
    upstream: { baseUrl: `http://127.0.0.1:${port}`, token: "t0ken-xyz", heartbeatIntervalMs: 200, timeoutMs: 2000 },
    quotas: [{ id: "m1-daily", device: "meter-01", metric: "energy_kwh", period: "day", limit: 10, warnAt: 0.5 }],
    http: { enabled: false },
  }) as Config;
  const agent = createAgent(resolvedConfig(config), { clock: systemClock, log: silentLogger(), version: "test" });
  try {
    await agent.start();
    const now = Date.now();
    const ingest = (values: Record<string, number>, dt: number) =>
      agent.pipeline.ingest({ deviceId: "meter-01", product: "meter", ts: now + dt, values, source: "mqtt" });
    ingest({ voltage: 230, energy_kwh: 100 }, 0);
    ingest({ voltage: 262, energy_kwh: 111 }, 1000);

    await waitFor(() => got.filter((x) => x.path === "/alert/add").length === 2, { what: "two alert/add requests" });
    const adds = got.filter((x) => x.path === "/alert/add").map((x) => x.body);
    const rule = adds.find((b) => b.ruleId === "meter-overvoltage");
    assert.ok(rule, JSON.stringify(adds));
    assert.equal(rule.site, "A", "beforeUpload changed the body sent");
    assert.match(String(rule.message), /\[site A\]$/, "beforeAlarm changed the stored alarm");
    const quota = adds.find((b) => b.ruleId === "quota:m1-daily");
    assert.equal(quota?.status, 2);
    await waitFor(
      () =>
        got.some(
          (x) =>
            x.path === "/api/ai/device/heartbeat" && (x.body.kpis as Record<string, number>)?.solar_efficiency === 0.85,
        ),
      {
        what: "heartbeat with the hook's kpis",
      },
    );
    await waitFor(() => g.__ag.length >= 4, { what: "observer calls" });
    assert.deepEqual(
      g.__ag.filter((e) => e[0] === "quota"),
      [
        ["quota", "m1-daily", "warn"],
        ["quota", "m1-daily", "limit"],
      ],
    );
    assert.ok(g.__ag.some((e) => e[0] === "created" && e[1] === "meter-overvoltage" && e[2] === "meter-01"));
    assert.deepEqual(
      agent.hooks?.list().map((h) => [h.name, h.state]),
      [["site", "running"]],
    );
  } finally {
    await agent.stop();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(root, { recursive: true, force: true });
  }
});
