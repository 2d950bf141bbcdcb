// The architecture, checked: which part of src/ may import which. A reading flows
//
//   sources ─→ pipeline ─→ rules / alarms ─→ store ←─ upstream (+ workorders)
//   quotas ──↗ (a source of readings of its own)
//
// with core and config underneath everything, hooks and http observing from above, and app.ts,
// cli/, main.ts and index.ts on top wiring it all together. An import is an arrow "depends on";
// the table lists, for every part, the parts it may depend on. Imports inside one part are free.
// A change that needs a new arrow changes this table, in review, with its reason. A part is a
// folder of src/ (src/app/ and app.ts are one part, "app"); type-only imports count too.

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const BASE = ["core", "config"] as const;
const CORE_PARTS = [
  "store",
  "rules",
  "alarms",
  "pipeline",
  "sources",
  "quotas",
  "stats",
  "upstream",
  "workorders",
  "tasks",
  "notify",
] as const;

const MAY_IMPORT = {
  core: [],
  config: ["core"],
  store: [...BASE],
  rules: [...BASE],
  // Rules and alarms are peers: the pipeline hands one's verdict to the other.
  alarms: [...BASE, "store"],
  // Not the store: no disk I/O per reading; what is kept goes through the alarms' commit queue.
  pipeline: [...BASE, "rules", "alarms"],
  sources: [...BASE, "pipeline"],
  // Quotas feed the pipeline like a source; they also persist their counters.
  quotas: [...BASE, "pipeline", "store"],
  // Daily statistics observe readings like quotas do and keep closed days.
  stats: [...BASE, "pipeline", "store"],
  // Scheduled tasks act through ports (Modbus writes, MQTT publish, hook calls, operator alarms)
  // that app.ts plugs in; they keep their runs.
  tasks: [...BASE, "store"],
  // Upstream delivers what the store holds; work orders are one of its kinds, never the other way.
  workorders: [...BASE, "store"],
  // Notifications: recipients, channels, templates and the plan of who is told when (rows it plans
  // are written by the store's outbox writer through a port).
  notify: [...BASE, "store"],
  upstream: [...BASE, "store", "workorders", "notify"],
  // Observers: anything below them, never each other (each one is plugged in by app.ts).
  hooks: [...BASE, ...CORE_PARTS],
  http: [...BASE, ...CORE_PARTS],
  // On top: the wiring, the command line and the two entry points.
  app: [...BASE, ...CORE_PARTS, "hooks", "http"],
  // Not http: what the CLI shares with the API (the redaction of secrets) lives in core.
  cli: [...BASE, ...CORE_PARTS, "hooks", "app"],
  main: [...BASE, ...CORE_PARTS, "hooks", "http", "app", "cli"],
  // The library entry re-exports the public types and createAgent.
  index: [...BASE, ...CORE_PARTS, "hooks", "http", "app"],
} satisfies Record<string, readonly string[]>;
type Part = keyof typeof MAY_IMPORT;

// Known imports against the table, each to be removed by the change that fixes it. The test fails
// when one of them no longer occurs, so this list cannot outlive the problem. Empty: keep it so.
const KNOWN_EXCEPTIONS: readonly { from: string; to: string; why: string }[] = [];
// Known import cycles between files (within one part), same rule: fails when one is gone.
const KNOWN_FILE_CYCLES: readonly { files: readonly string[]; why: string }[] = [];

// ---------------------------------------------------------------------------------------------

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SRC = join(ROOT, "src");

interface Edge {
  from: string; // repo-relative path, e.g. src/http/server.ts
  to: string;
  line: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return sourceFiles(p);
      return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [p] : [];
    });
}

const rel = (abs: string): string => relative(ROOT, abs).split("\\").join("/");

/** The part a file belongs to: its first folder under src/, or the file's name for app.ts, main.ts, index.ts. */
function partOf(file: string): string {
  const segs = relative(SRC, file).split(/[\\/]/);
  return segs.length === 1 ? (segs[0] ?? "").replace(/\.ts$/, "") : (segs[0] ?? "");
}

/**
 * Every relative module specifier in a file, with its line. Import and export declarations
 * (type-only ones too: a type is a dependency), `import("…")`, and any other relative `.js`
 * string literal that names a file in src/: cli/validate.ts loads optional validators through a
 * helper taking the specifier as a string.
 */
function importsOf(file: string): Edge[] {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) && /^\.\.?\//.test(node.text)) {
      const isModuleSpecifier =
        (ts.isImportDeclaration(node.parent) || ts.isExportDeclaration(node.parent)) &&
        node.parent.moduleSpecifier === node;
      const isDynamicImport =
        ts.isCallExpression(node.parent) && node.parent.expression.kind === ts.SyntaxKind.ImportKeyword;
      const target = resolve(dirname(file), node.text.replace(/\.js$/, ".ts"));
      if (existsSync(target)) {
        edges.push({
          from: rel(file),
          to: rel(target),
          line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1,
        });
      } else if (isModuleSpecifier || isDynamicImport) {
        assert.fail(`${rel(file)}: cannot resolve import "${node.text}" (the architecture test expects ./x.js → x.ts)`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

/** Strongly connected components with more than one node (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return out;
}

function graphOf(edges: readonly Edge[], node: (file: string) => string): Map<string, Set<string>> {
  const g = new Map<string, Set<string>>();
  for (const e of edges) {
    const a = node(e.from);
    const b = node(e.to);
    if (a === b) continue;
    if (!g.has(a)) g.set(a, new Set());
    g.get(a)!.add(b);
  }
  return g;
}

const files = sourceFiles(SRC);
const allEdges = files.flatMap(importsOf);
const edges = allEdges.filter((e) => e.to.startsWith("src/"));
const partOfRel = (f: string): string => partOf(join(ROOT, f));

describe("architecture: imports between the parts of src/", () => {
  it("every part of src/ is in the table", () => {
    const unknown = [...new Set(files.map(partOf))].filter((p) => !(p in MAY_IMPORT));
    assert.deepEqual(unknown, [], `add these parts of src/ to MAY_IMPORT: ${unknown.join(", ")}`);
  });

  it("the table itself has no cycle", () => {
    const g = new Map<string, Set<string>>(Object.entries(MAY_IMPORT).map(([k, v]) => [k, new Set<string>(v)]));
    assert.deepEqual(cycles(g), []);
  });

  it("every import runs in the allowed direction", () => {
    const wrong = edges.filter((e) => {
      const from = partOfRel(e.from);
      const to = partOfRel(e.to);
      const allowed: readonly string[] = MAY_IMPORT[from as Part] ?? [];
      return from !== to && !allowed.includes(to);
    });
    const isKnown = (e: Edge): boolean => KNOWN_EXCEPTIONS.some((k) => k.from === e.from && k.to === e.to);
    const fresh = wrong.filter((e) => !isKnown(e)).map((e) => `${e.from}:${e.line} → ${e.to}`);
    assert.deepEqual(fresh, [], `imports against the architecture (see MAY_IMPORT):\n  ${fresh.join("\n  ")}`);
    const stale = KNOWN_EXCEPTIONS.filter((k) => !wrong.some((e) => e.from === k.from && e.to === k.to));
    assert.deepEqual(stale, [], "these KNOWN_EXCEPTIONS no longer occur: remove them from the list");
  });

  it("src/ imports nothing from test/ or scripts/ (package.json, for the version, is fine)", () => {
    const out = allEdges.filter((e) => !e.to.startsWith("src/") && e.to !== "package.json");
    assert.deepEqual(
      out.map((e) => `${e.from}:${e.line} → ${e.to}`),
      [],
    );
  });

  it("no import cycle between parts", () => {
    const known = new Set(KNOWN_EXCEPTIONS.map((k) => `${k.from}→${k.to}`));
    const g = graphOf(
      edges.filter((e) => !known.has(`${e.from}→${e.to}`)),
      partOfRel,
    );
    assert.deepEqual(cycles(g), []);
  });

  it("no import cycle between files", () => {
    const found = cycles(graphOf(edges, (f) => f)).map((c) => c.join(" ↔ "));
    const known = KNOWN_FILE_CYCLES.map((k) => [...k.files].sort().join(" ↔ "));
    assert.deepEqual(
      found.filter((c) => !known.includes(c)),
      [],
      "files that import each other (directly or round a loop)",
    );
    assert.deepEqual(
      known.filter((c) => !found.includes(c)),
      [],
      "these KNOWN_FILE_CYCLES no longer occur: remove them from the list",
    );
  });
});
