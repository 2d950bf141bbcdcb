import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configSecrets, redactConfig } from "../../../src/config/redact-config.js";
import type { Config } from "../../../src/config/schema.js";
import { REDACTED } from "../../../src/core/secrets.js";
import { captureLog } from "../../helpers/harness.js";

const config = {
  gatewayId: "gw-1",
  mqtt: {
    url: "embedded",
    password: "agent-pass-1",
    users: [
      { username: "meter", password: "device-pass-2" },
      { username: "empty", password: "" },
    ],
    subscriptions: [],
  },
  upstream: { baseUrl: "https://up.example/api?k=url-secret-3", token: "up-token-4" },
  workOrders: { baseUrl: "https://wo.example", appId: "edge", appSecret: "wo-secret-5", tenantId: "1" },
  http: { token: "api-token-6" },
  // A key added later that looks like a secret is covered without being listed anywhere.
  extra: { nested: [{ apiKey: "api-key-7", privateKey: "pk-8" }] },
} as unknown as Config;

describe("configSecrets", () => {
  it("collects every non-empty value under a secret key, at any depth", () => {
    assert.deepEqual(configSecrets(config).sort(), [
      "agent-pass-1",
      "api-key-7",
      "api-token-6",
      "device-pass-2",
      "pk-8",
      "up-token-4",
      "wo-secret-5",
    ]);
    assert.deepEqual(configSecrets(null), []);
  });
});

describe("redactConfig", () => {
  it("replaces values under secret keys everywhere, masks known secrets in other strings, leaves the rest", () => {
    const out = redactConfig(config, ["url-secret-3"]) as unknown as Record<string, any>;
    assert.equal(out.mqtt.password, REDACTED);
    assert.equal(out.mqtt.users[0].password, REDACTED);
    assert.equal(out.mqtt.users[0].username, "meter");
    assert.equal(out.mqtt.users[1].password, "", "an empty password stays visibly empty");
    assert.equal(out.upstream.token, REDACTED);
    assert.equal(out.upstream.baseUrl, `https://up.example/api?k=${REDACTED}`);
    assert.equal(out.workOrders.appSecret, REDACTED);
    assert.equal(out.workOrders.appId, "edge");
    assert.equal(out.http.token, REDACTED);
    assert.equal(out.extra.nested[0].apiKey, REDACTED);
    assert.equal(out.extra.nested[0].privateKey, REDACTED);
    assert.equal(out.gatewayId, "gw-1");
    assert.ok(Object.isFrozen(out) && Object.isFrozen(out.mqtt.users[0]), "hooks get a frozen copy");
    assert.equal((config as unknown as Record<string, any>).mqtt.password, "agent-pass-1", "the original is untouched");
  });

  it("is what /status shows (publicConfig), including the embedded broker's device users", () => {
    const text = JSON.stringify(redactConfig(config));
    for (const s of configSecrets(config)) assert.ok(!text.includes(s), `leaked ${s}`);
  });
});

describe("log redaction by key", () => {
  it("a logged config hides device-user passwords even when their values are not known secrets", () => {
    const logs = captureLog();
    logs.log.info({ config: { mqtt: { users: [{ username: "u", password: "device-pass-2" }] } } }, "x");
    logs.log.info({ headers: { sign: "signature-9", Authorization: "Bearer abcdef" } }, "y");
    const line = logs.text;
    assert.ok(!line.includes("device-pass-2"), line);
    assert.ok(!line.includes("signature-9"), line);
    assert.ok(!line.includes("abcdef"), line);
  });
});
