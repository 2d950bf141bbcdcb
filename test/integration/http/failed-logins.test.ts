// Failed logins over a real server on 127.0.0.1: a flood of wrong tokens is visible in the log as a
// bounded number of warn lines naming the address and the count (never the token), repeated
// failures are answered more and more slowly (on the injected clock: no real waiting), and the
// right token from the same address is still served at once.

import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../helpers/wait.js";
import { type Harness, startHarness, TOKEN } from "./fixtures.js";

function get(port: number, path: string, token: string | null): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        agent: false,
        headers: token === null ? {} : { Authorization: `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

interface LogLine {
  level: number;
  msg: string;
  remote?: string;
  failures?: number;
}
const WARN = 40;

function refusalLines(h: Harness): LogLine[] {
  return (h.logs.lines as LogLine[]).filter((l) => l.level === WARN && l.msg.includes("local API token refused"));
}

describe("failed logins", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.api.stop();
  });

  it("slows repeated wrong tokens from one address, still serves the right one, logs boundedly", async () => {
    const port = h.api.port;
    // The first five failures are answered at once.
    for (let i = 0; i < 5; i++) assert.equal(await get(port, "/status", `wrong-${i}`), 401);
    assert.equal(refusalLines(h).length, 1, "one line for the first failure from the address");
    const first = refusalLines(h)[0];
    assert.equal(first?.remote, "127.0.0.1");

    // The sixth is held on the agent's clock until it advances.
    const timersBefore = h.clock.pendingTimers();
    let answered: number | null = null;
    const sixth = get(port, "/status", "wrong-6").then((s) => {
      answered = s;
    });
    await waitFor(() => h.clock.pendingTimers() > timersBefore, { what: "the refusal to be held" });
    assert.equal(answered, null, "not answered before the delay");

    // Meanwhile the right token from the same address is served without delay.
    assert.equal(await get(port, "/status", TOKEN), 200);
    // A request without any token is not a login attempt: answered at once, not counted.
    assert.equal(await get(port, "/status", null), 401);
    assert.equal(answered, null);

    h.clock.advance(249);
    // The hold is a timer on the agent's clock: still pending after 249 ms means not yet answered.
    assert.ok(h.clock.pendingTimers() > timersBefore, "held for the full first delay");
    assert.equal(answered, null);
    h.clock.advance(1);
    await sixth;
    assert.equal(answered, 401);

    // A flood: 200 more wrong tokens at once. Each is held (the delay grows to its cap) and the
    // log gets no line per request.
    const flood = Array.from({ length: 200 }, (_, i) => get(port, "/alert/list", `guess-${i}`));
    let done = false;
    void Promise.all(flood).then(() => {
      done = true;
    });
    await waitFor(
      () => {
        h.clock.advance(1000);
        return done;
      },
      { what: "every held refusal answered" },
    );
    assert.deepEqual([...new Set(await Promise.all(flood))], [401]);
    h.clock.advance(60_000);
    const lines = refusalLines(h);
    // One line for the first failure, then summaries at most once a minute (the flood may have
    // spanned one summary period on the pumped clock).
    assert.ok(lines.length >= 2 && lines.length <= 3, `bounded: ${lines.length} lines`);
    const summaries = lines.filter((l) => l.failures !== undefined);
    assert.ok(summaries.length >= 1);
    for (const l of summaries) {
      assert.equal(l.remote, "127.0.0.1");
      assert.match(l.msg, /more times from 127\.0\.0\.1/);
      assert.match(l.msg, /slowed down/);
    }
    assert.equal(
      summaries.reduce((n, l) => n + (l.failures ?? 0), 0),
      4 + 1 + 200,
      "every failure after the first is counted in a summary",
    );
    for (const secret of ["wrong-", "guess-", TOKEN])
      assert.ok(!h.logs.text.includes(secret), `no ${secret} in the log`);
  });
});
