// Agent error codes: every code is thrown somewhere in src/ (an unused code is removed, so the list
// in docs/errors.md stays true), a failed listen() on a taken port has its own code, and a log line
// reporting an error carries that code at the top of the line.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { AgentError, errFields, listenErrorCode } from "../../../src/core/errors.js";
import { createLogger } from "../../../src/core/log.js";

const SRC = new URL("../../../src/", import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

describe("agent error codes", () => {
  it("every code in core/errors.ts is used outside its declaration", () => {
    const decl = readFileSync(join(SRC, "core/errors.ts"), "utf8");
    const union = /export type ErrorCode =([^;]*);/.exec(decl)?.[1] ?? "";
    const codes = [...union.matchAll(/"(EA_[A-Z_]+)"/g)].map((m) => m[1] as string);
    assert.ok(codes.length > 0);
    const text = sources(SRC)
      .map((f) => readFileSync(f, "utf8"))
      .join("\n")
      .replace(union, "");
    const unused = codes.filter((c) => !text.includes(`"${c}"`));
    assert.deepEqual(unused, [], "remove these codes or throw them where they belong");
  });

  it("a taken port is EA_PORT_IN_USE; any other listen failure is the config's", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
    const addr = taken.address();
    const port = typeof addr === "object" && addr ? addr.port : 0;
    const other = createServer();
    try {
      const err = await new Promise<Error>((resolve) => {
        other.once("error", resolve);
        other.listen(port, "127.0.0.1");
      });
      assert.equal(listenErrorCode(err), "EA_PORT_IN_USE");
      assert.equal(listenErrorCode(Object.assign(new Error("x"), { code: "EADDRNOTAVAIL" })), "EA_CONFIG_INVALID");
      assert.equal(listenErrorCode(undefined), "EA_CONFIG_INVALID");
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });

  it("errFields puts the code beside the error, or the fallback for a library's own error", () => {
    const coded = new AgentError("EA_DB", "cannot open database");
    assert.deepEqual(errFields(coded), { err: coded, code: "EA_DB" });
    const plain = new Error("SQLITE_FULL");
    assert.deepEqual(errFields(plain), { err: plain });
    assert.deepEqual(errFields(plain, "EA_DB"), { err: plain, code: "EA_DB" });
    // The error's own code wins over the fallback.
    assert.deepEqual(errFields(new AgentError("EA_PORT_IN_USE", "x"), "EA_DB").code, "EA_PORT_IN_USE");
  });

  it("a logged AgentError has its code at the top of the JSON line", () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString("utf8"));
        cb();
      },
    });
    const log = createLogger({ destination });
    log.fatal(errFields(new AgentError("EA_PORT_IN_USE", "cannot listen on 127.0.0.1:8080")), "failed to start");
    const line = JSON.parse(lines.join("")) as { code?: string; err?: { message?: string } };
    assert.equal(line.code, "EA_PORT_IN_USE");
    assert.equal(line.err?.message, "cannot listen on 127.0.0.1:8080");
  });
});
