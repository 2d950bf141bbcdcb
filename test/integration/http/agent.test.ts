// Manual resolve through the real agent: a reading raises an alarm (and a work order) against a
// fake upstream; POST /alert/update resolves it; the resolve reaches upstream as /alert/update
// status 0 and completes the work order with its exact 64-bit id. Everything real but the upstream.
// Secrets come from the environment, as on a site, and must appear in no log line and no API answer.

import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { systemClock } from "../../../src/core/clock.js";
import { captureLog, type LogCapture } from "../../helpers/harness.js";
import { freePort, waitFor } from "../../helpers/wait.js";

type AppModule = typeof import("../../../src/app.js");
let app: AppModule | null = null;
let skip: string | false = false;
try {
  app = await import("../../../src/app.js");
} catch (err) {
  skip = `the agent does not load yet: ${(err as Error).message}`;
}

const TOKEN = "agent-e2e-token-31337";
const ENV = { API_TOKEN: TOKEN, UP_TOKEN: "upstream-bearer-8642", WO_SECRET: "wo-app-secret-97531" };
let logs: LogCapture;
const ORDER_ID = "1234567890123456789"; // > 2^53: must stay exact
let dir: string;
let upstream: Server;
const seen: { path: string; body: string }[] = [];
let agent: ReturnType<AppModule["createAgent"]> | null = null;
let base = "";

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), "edge-agent-http-e2e-"));
  upstream = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString("utf8");
    });
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0] ?? "";
      seen.push({ path, body });
      res.setHeader("Content-Type", "application/json");
      if (path === "/alert/add") res.end(JSON.stringify({ id: `up-${seen.length}` }));
      else if (path.endsWith("/order/create")) res.end(`{"code":0,"data":${ORDER_ID}}`);
      else if (path.endsWith("/order/auto-complete")) res.end('{"code":0,"data":true}');
      else res.end("{}");
    });
  });
  const upPort = await freePort();
  await new Promise<void>((r) => upstream.listen(upPort, "127.0.0.1", r));
  const rulesDir = join(dir, "rules");
  await mkdir(rulesDir);
  await mkdir(join(dir, "hooks"));
  await writeFile(
    join(rulesDir, "overvoltage.json"),
    JSON.stringify({
      id: "meter-overvoltage",
      name: "overvoltage",
      title: "Over-voltage on incomer",
      key: "meter",
      type: "rule",
      level: 4,
      conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
      actions: { alarm: true, workOrder: { priority: 1, alarmType: "overvoltage" } },
    }),
  );
  const httpPort = await freePort();
  const file = join(dir, "agent.json");
  await writeFile(
    file,
    JSON.stringify({
      gatewayId: "gw-e2e",
      dataDir: join(dir, "data"),
      devices: { "meter-01": { product: "meter", name: "Main incomer", areaId: 12 } },
      rulesDir,
      hooksDir: join(dir, "hooks"),
      upstream: { baseUrl: `http://127.0.0.1:${upPort}`, token: "${UP_TOKEN}", heartbeatIntervalMs: 600000 },
      workOrders: {
        baseUrl: `http://127.0.0.1:${upPort}`,
        appId: "edge",
        appSecret: "${WO_SECRET}",
        tenantId: "1",
      },
      http: { host: "127.0.0.1", port: httpPort, token: "${API_TOKEN}" },
    }),
  );
  const { loadConfig } = await import("../../../src/config/load.js");
  const loaded = await loadConfig(file, ENV);
  assert.deepEqual(
    loaded.problems.filter((p) => p.severity !== "warning"),
    [],
  );
  logs = captureLog({ level: "debug", secrets: loaded.secrets });
  const log = logs.log;
  agent = app!.createAgent(loaded.config!, { clock: systemClock, log, version: "0.0.0-test" });
  await agent.start();
  base = `http://127.0.0.1:${agent.http!.port}`;
});

after(async () => {
  await agent?.stop();
  await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const auth = { Authorization: `Bearer ${TOKEN}` };

it("an operator resolve flows upstream and completes the work order", { skip, timeout: 30_000 }, async () => {
  agent!.pipeline.ingest({
    deviceId: "meter-01",
    product: "meter",
    ts: Date.now(),
    values: { voltage: 262 },
    source: "mqtt",
  });
  const alarm = await waitFor(
    async () => {
      const res = await fetch(`${base}/alert/list?status=active`, { headers: auth });
      const body = (await res.json()) as { alerts: { id: string; workOrderId: string | null }[] };
      return body.alerts.find((a) => a.workOrderId === ORDER_ID);
    },
    { what: "an active alarm with its work order", timeoutMs: 10_000 },
  );
  await waitFor(() => seen.some((s) => s.path === "/alert/add"), { what: "the upstream add" });

  const res = await fetch(`${base}/alert/update`, {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ id: alarm.id, status: 0, remark: "fuse replaced" }),
  });
  assert.equal(res.status, 200);
  const resolved = (await res.json()) as { status: number; resolvedAt: number | null };
  assert.equal(resolved.status, 0);
  assert.ok(resolved.resolvedAt);

  const update = await waitFor(() => seen.find((s) => s.path === "/alert/update" && JSON.parse(s.body).status === 0), {
    what: "the upstream /alert/update with status 0",
    timeoutMs: 10_000,
  });
  assert.ok(update);
  const complete = await waitFor(() => seen.find((s) => s.path.endsWith("/order/auto-complete")), {
    what: "the work-order auto-complete",
    timeoutMs: 10_000,
  });
  assert.match(complete.body, new RegExp(`"orderId":${ORDER_ID}[,}]`), "the exact 64-bit order id");
  const again = await fetch(`${base}/alert/get?id=${alarm.id}`, { headers: auth });
  assert.equal(((await again.json()) as { status: number }).status, 0);

  // Log hygiene across the whole flow (requests carried every secret upstream).
  const up = seen.find((x) => x.path === "/alert/add");
  assert.ok(up, "upstream was reached");
  const status = await (await fetch(`${base}/status`, { headers: auth })).text();
  const everything = logs.text + status;
  assert.ok(logs.text.includes("alarm"), "the log was captured");
  for (const secret of Object.values(ENV)) assert.ok(!everything.includes(secret), `leaked ${secret}`);
});
