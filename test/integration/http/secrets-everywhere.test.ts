// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the config holds ${ENV} references
// The real `edge-agent run` with every kind of secret in the environment (upstream token, work-order
// app secret, MQTT password, an embedded-broker device password, the API token), a rule whose title
// and an operator alarm whose title and message hold some of them: no secret appears in any answer
// of the local API, in the SSE stream, in `edge-agent alarms` (table and --json), in the agent's log
// lines, or in what a hook sees as ctx.config.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { main as alarmsMain } from "../../../src/cli/alarms.js";
import { type AgentProcess, makeTempDir, removeDir, startAgent } from "../../helpers/agent-process.js";
import { type FakeUpstream, startUpstream } from "../../helpers/upstream.js";
import { freePort, waitFor } from "../../helpers/wait.js";

const ENV = {
  UP_TOKEN: "upstream-bearer-8642-zz",
  WO_SECRET: 'wo-app"secret\\97531',
  MQTT_PASSWORD: "mqtt-agent-pass-2468",
  DEVICE_PASSWORD: "device-pass-1357-xx",
  API_TOKEN: "local-api-token-31337",
};
const SECRETS = Object.values(ENV);

let dir = "";
let agent: AgentProcess | null = null;
let upstream: FakeUpstream | null = null;
let base = "";
let configFile = "";
const auth = { Authorization: `Bearer ${ENV.API_TOKEN}` };

/** Fails naming the secret and where it leaked. */
function assertClean(text: string, where: string): void {
  for (const s of SECRETS) {
    assert.ok(!text.includes(s), `${where} shows the secret ${s}: ${text.slice(0, 2000)}`);
    const escaped = JSON.stringify(s).slice(1, -1);
    assert.ok(!text.includes(escaped), `${where} shows the secret ${s} JSON-escaped`);
  }
}

before(async () => {
  dir = makeTempDir("edge-agent-secrets-");
  upstream = await startUpstream();
  const rulesDir = join(dir, "rules");
  const hooksDir = join(dir, "hooks");
  mkdirSync(rulesDir);
  mkdirSync(hooksDir);
  // An operator pasted the upstream token into a rule title.
  writeFileSync(
    join(rulesDir, "overvoltage.json"),
    JSON.stringify({
      id: "meter-overvoltage",
      name: "overvoltage",
      title: `Over-voltage (ask ops, token ${ENV.UP_TOKEN})`,
      key: "meter",
      type: "rule",
      level: 4,
      conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 }] },
      actions: { alarm: true },
    }),
  );
  // A hook that writes down the config it is given.
  writeFileSync(
    join(hooksDir, "spy.mjs"),
    `import { writeFileSync } from "node:fs";
export default { start(ctx) { writeFileSync(${JSON.stringify(join(dir, "hook-config.json"))}, JSON.stringify(ctx.config)); } };
`,
  );
  const httpPort = await freePort();
  const mqttPort = await freePort();
  agent = startAgent(
    {
      gatewayId: "gw-secrets",
      dataDir: join(dir, "data"),
      rulesDir,
      hooksDir,
      log: { level: "debug" },
      mqtt: {
        url: "embedded",
        host: "127.0.0.1",
        port: mqttPort,
        username: "agent",
        password: "${MQTT_PASSWORD}",
        users: [{ username: "meter", password: "${DEVICE_PASSWORD}" }],
        subscriptions: [{ topic: "meters/+/telemetry", device: "{1}", product: "meter", values: "$" }],
      },
      upstream: { baseUrl: upstream.url, token: "${UP_TOKEN}", heartbeatIntervalMs: 600000 },
      workOrders: { baseUrl: upstream.url, appId: "edge", appSecret: "${WO_SECRET}", tenantId: "1" },
      http: { host: "127.0.0.1", port: httpPort, token: "${API_TOKEN}" },
    },
    { dir, env: ENV },
  );
  configFile = agent.configFile;
  await agent.waitForLog((l) => l.msg === "edge-agent started", "the agent to start", 30_000);
  base = `http://127.0.0.1:${httpPort}`;
});

after(async () => {
  await agent?.stop();
  await upstream?.close();
  if (dir) removeDir(dir);
});

const get = async (path: string): Promise<string> => {
  const res = await fetch(base + path, { headers: auth });
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
  return text;
};

describe("secrets in a run", { timeout: 60_000 }, () => {
  let alarmId = "";

  it("an operator alarm with a secret in its title and message is masked in the SSE stream", async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${base}/events`, { headers: auth, signal: ctrl.signal });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = "";
    const readUntil = (re: RegExp) =>
      waitFor(
        async () => {
          if (re.test(text)) return true;
          const { value } = await reader.read();
          if (value) text += dec.decode(value);
          return re.test(text);
        },
        { what: String(re), timeoutMs: 10_000 },
      );
    await readUntil(/retry: 2000/);
    const add = await fetch(`${base}/alert/add`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({
        name: "manual",
        title: `Breaker cabinet, login ${ENV.DEVICE_PASSWORD}`,
        message: `call the vendor with ${ENV.WO_SECRET} and ${ENV.MQTT_PASSWORD}`,
        level: 3,
        device: "meter-01",
      }),
    });
    const added = await add.text();
    assert.equal(add.status, 200, added);
    assertClean(added, "/alert/add");
    alarmId = (JSON.parse(added) as { id: string }).id;
    await readUntil(/event: alarm\ndata: /);
    ctrl.abort();
    assertClean(text, "/events");
    assert.match(text, /\[REDACTED\]/);
  });

  it("no answer of the local API shows a secret", async () => {
    const rules = await get("/rule/list");
    assert.match(rules, /Over-voltage \(ask ops, token \[REDACTED\]\)/);
    const answers: Record<string, string> = {
      "/status": await get("/status"),
      "/alert/list": await get("/alert/list"),
      "/alert/get": await get(`/alert/get?id=${encodeURIComponent(alarmId)}`),
      "/rule/list": rules,
      "/rule/get": await get("/rule/get?id=meter-overvoltage"),
      "/hooks/list": await get("/hooks/list"),
      "/metrics": await get("/metrics"),
      "/health": await get("/health"),
    };
    for (const [path, text] of Object.entries(answers)) assertClean(text, path);
    assert.match(answers["/alert/get"] ?? "", /Breaker cabinet, login \[REDACTED\]/);
    const status = JSON.parse(answers["/status"] ?? "{}") as {
      data: { config: { mqtt: { password: string; users: { password: string }[] }; upstream: { token: string } } };
    };
    assert.equal(status.data.config.mqtt.password, "[REDACTED]");
    assert.equal(status.data.config.mqtt.users[0]?.password, "[REDACTED]");
    assert.equal(status.data.config.upstream.token, "[REDACTED]");
  });

  it("a hook's ctx.config holds no secret", async () => {
    const file = join(dir, "hook-config.json");
    const text = await waitFor(
      () => {
        try {
          return readFileSync(file, "utf8");
        } catch {
          return undefined;
        }
      },
      { what: "the spy hook's config" },
    );
    assertClean(text, "ctx.config");
    const cfg = JSON.parse(text) as {
      gatewayId: string;
      workOrders: { appSecret: string };
      mqtt: { users: { password: string }[] };
      http: { token: string };
    };
    assert.equal(cfg.gatewayId, "gw-secrets");
    assert.equal(cfg.workOrders.appSecret, "[REDACTED]");
    assert.equal(cfg.mqtt.users[0]?.password, "[REDACTED]");
    assert.equal(cfg.http.token, "[REDACTED]");
  });

  it("`edge-agent alarms` masks the secrets in the table and in --json", async () => {
    for (const args of [
      ["--status", "all"],
      ["--status", "all", "--json"],
    ]) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await alarmsMain(["-c", configFile, ...args], {
        stdout: (s) => out.push(s),
        stderr: (s) => err.push(s),
        env: ENV,
        cwd: dir,
      });
      assert.equal(code, 0, err.join(""));
      const text = out.join("");
      assert.match(text, /Breaker cabinet, login \[REDACTED\]/, text);
      assertClean(text, `edge-agent alarms ${args.join(" ")}`);
    }
  });

  it("no log line of the run shows a secret", async () => {
    // The operator alarm was logged with its message ("alarm raised").
    await agent!.waitForLog((l) => l.msg === "alarm raised" || l.msg === "pre-warning raised", "the alarm log line");
    const code = await agent!.stop();
    assert.equal(code, 0);
    assertClean(agent!.lines.map((l) => JSON.stringify(l)).join("\n"), "the log");
    assertClean(agent!.stderr.join(""), "stderr");
  });
});
