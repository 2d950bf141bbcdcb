// docker cannot run here, so the Dockerfile is checked by structure: two stages, native modules
// built by `npm ci` in the build stage, a slim runtime as a non-root user in dialout, a /data
// volume, a HEALTHCHECK on /health, and no architecture pinned.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const REPO = join(import.meta.dirname, "../../..");

interface Instr {
  op: string;
  args: string;
}

/** Splits a Dockerfile into instructions (continuations joined, comments dropped). */
function parse(text: string): Instr[] {
  const out: Instr[] = [];
  let cur = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (cur === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue;
    cur += (cur ? " " : "") + line.replace(/\\$/, "").trim();
    if (!line.endsWith("\\")) {
      const m = /^(\S+)\s*(.*)$/.exec(cur);
      if (m) out.push({ op: m[1]!.toUpperCase(), args: m[2]! });
      cur = "";
    }
  }
  return out;
}

describe("Dockerfile", () => {
  const ins = parse(readFileSync(join(REPO, "Dockerfile"), "utf8"));
  const stages: { name: string; from: string; body: Instr[] }[] = [];
  for (const i of ins) {
    if (i.op === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args);
      stages.push({ from: m?.[1] ?? "", name: m?.[2] ?? "", body: [] });
    } else stages.at(-1)?.body.push(i);
  }
  const build = stages.find((s) => s.name === "build");
  const runtime = stages.at(-1)!;

  it("has a build stage and a separate slim runtime stage", () => {
    assert.ok(stages.length >= 2);
    assert.ok(build, "a stage named build");
    assert.notEqual(runtime, build);
    assert.match(runtime.from, /slim|alpine|distroless/);
    assert.ok(!ins.some((i) => /--platform/.test(i.args) && i.op === "FROM"), "no pinned platform (arm64 + amd64)");
  });

  it("builds native modules with npm ci in the build stage, not in the runtime", () => {
    const runs = build!.body.filter((i) => i.op === "RUN").map((i) => i.args);
    assert.ok(
      runs.some((r) => /\bnpm ci\b/.test(r) && !/--ignore-scripts/.test(r)),
      "npm ci with install scripts",
    );
    assert.ok(
      runs.some((r) => /better-sqlite3/.test(r)),
      "better-sqlite3 is loaded once to prove it built",
    );
    assert.ok(
      runs.some((r) => /npm prune --omit=dev/.test(r)),
      "dev dependencies pruned",
    );
    assert.ok(!runtime.body.some((i) => i.op === "RUN" && /\bnpm (ci|install)\b/.test(i.args)));
    assert.ok(runtime.body.some((i) => i.op === "COPY" && /--from=build\s+\/src\/node_modules/.test(i.args)));
  });

  it("runs as a non-root user in dialout, with /data, a health check and tini", () => {
    const user = runtime.body.filter((i) => i.op === "USER").at(-1);
    assert.ok(user && !/^(root|0)(:|$)/.test(user.args), "USER is not root");
    assert.ok(
      runtime.body.some(
        (i) => i.op === "RUN" && /useradd .*--groups dialout/.test(i.args) && i.args.includes(user.args),
      ),
      "the user is created in dialout",
    );
    assert.ok(runtime.body.some((i) => i.op === "VOLUME" && i.args.includes("/data")));
    const hc = runtime.body.find((i) => i.op === "HEALTHCHECK");
    assert.ok(hc && /\/health/.test(hc.args), "HEALTHCHECK on /health");
    const entry = runtime.body.find((i) => i.op === "ENTRYPOINT");
    assert.ok(entry && /tini/.test(entry.args) && /dist\/main\.js/.test(entry.args));
    const cmd = runtime.body.find((i) => i.op === "CMD");
    assert.ok(cmd && /"run"/.test(cmd.args));
  });

  it(".dockerignore keeps host builds and data out of the context", () => {
    const ignore = readFileSync(join(REPO, ".dockerignore"), "utf8").split("\n");
    for (const p of ["node_modules", "dist", "data", ".git"]) assert.ok(ignore.includes(p), p);
  });
});
