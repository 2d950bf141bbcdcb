// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the fixtures are config text with ${ENV} references
// A value taken from the environment never stands in a problem message: validate's output ends up
// in the journal, and the value may be a secret put in the wrong field.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { formatProblemLine } from "../../../src/config/format.js";
import { loadConfig } from "../../../src/config/load.js";

const dir = mkdtempSync(join(tmpdir(), "ea-secret-problems-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'ApiTok-9f8e"7d\\6c-SECRET!';
let n = 0;
async function problems(doc: unknown, env: NodeJS.ProcessEnv): Promise<string> {
  const file = join(dir, `c${n++}.json`);
  writeFileSync(file, JSON.stringify(doc));
  const r = await loadConfig(file, env, { cwd: dir });
  assert.equal(r.config, null, "the config must be refused");
  return r.problems.map((p) => formatProblemLine(p)).join("\n");
}

const cases: Array<[string, unknown]> = [
  ["gatewayId of the wrong shape", { gatewayId: "${UPSTREAM_TOKEN} and more/with spaces" }],
  ["a number field", { gatewayId: "gw", upstream: { baseUrl: "http://127.0.0.1:1", timeoutMs: "${UPSTREAM_TOKEN}" } }],
  [
    "a Modbus device's bus",
    {
      gatewayId: "gw",
      modbus: {
        buses: [{ id: "plant", transport: "tcp", host: "127.0.0.1", port: 502 }],
        devices: [{ id: "m", bus: "${UPSTREAM_TOKEN}", unitId: 1, product: "meter", points: [] }],
      },
    },
  ],
  [
    "a quota's device",
    {
      gatewayId: "gw",
      quotas: [{ id: "q", device: "${UPSTREAM_TOKEN}", metric: "kwh", period: "day", limit: 10 }],
    },
  ],
];

for (const [what, doc] of cases) {
  test(`a substituted value in ${what} is named by its variable, never echoed`, async () => {
    const out = await problems(doc, { UPSTREAM_TOKEN: SECRET });
    assert.ok(out.length > 0);
    assert.ok(!out.includes("ApiTok"), out);
    assert.ok(!out.includes("SECRET!"), out);
  });
}

test("the message says which variable the value came from", async () => {
  const out = await problems(
    { gatewayId: "gw", upstream: { baseUrl: "http://127.0.0.1:1", timeoutMs: "${UPSTREAM_TOKEN}" } },
    { UPSTREAM_TOKEN: "plain-secret-value" },
  );
  assert.match(out, /timeoutMs/);
  assert.ok(!out.includes("plain-secret-value"), out);
});
