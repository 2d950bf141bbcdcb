// The database holds alarms, outbox payloads and hook data: under the usual umask 022 (npm start,
// a container) the data directory must still come out 0700 and the database files 0600. Each case
// runs in a child process with its own umask so the test does not depend on the runner's.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const DB_MODULE = fileURLToPath(new URL("../../../src/store/db.ts", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "edge-modes-"));
after(() => rmSync(root, { recursive: true, force: true }));

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8).padStart(4, "0");

/** Opens the database in a child with umask 022, writes a row, and reports every file's mode while it is open. */
function openInChild(file: string): Record<string, string> {
  const script = `
    import { statSync } from "node:fs";
    import { dirname } from "node:path";
    const { openDatabase } = await import(${JSON.stringify(DB_MODULE)});
    process.umask(0o022);
    const file = ${JSON.stringify(file)};
    const db = openDatabase(file);
    db.exec("INSERT OR REPLACE INTO kv (ns, key, value) VALUES ('t', 'k', 'v')");
    const out = {};
    for (const p of [dirname(file), file, file + "-wal", file + "-shm"])
      out[p] = (statSync(p).mode & 0o777).toString(8).padStart(4, "0");
    db.close();
    console.log(JSON.stringify(out));
  `;
  const stdout = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, string>;
}

describe("data directory and database file modes", () => {
  it("creates dataDir 0700 and the db, -wal and -shm 0600 under umask 022", () => {
    const dataDir = join(root, "fresh", "data");
    const file = join(dataDir, "edge-agent.db");
    const modes = openInChild(file);
    assert.deepEqual(modes, {
      [dataDir]: "0700",
      [file]: "0600",
      [`${file}-wal`]: "0600",
      [`${file}-shm`]: "0600",
    });
    assert.equal(mode(join(root, "fresh")), "0700", "every level it created");
  });

  it("tightens a database an older version left 0644, never an existing directory", () => {
    const dataDir = join(root, "old");
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const file = join(dataDir, "edge-agent.db");
    openInChild(file); // creates it
    chmodSync(file, 0o644);
    writeFileSync(`${file}-wal`, "");
    chmodSync(`${file}-wal`, 0o644);
    const modes = openInChild(file);
    assert.equal(modes[file], "0600");
    assert.equal(modes[`${file}-wal`], "0600");
    assert.equal(modes[dataDir], "0755", "an existing directory (a volume, /var/lib/...) is left as the site set it");
  });
});
