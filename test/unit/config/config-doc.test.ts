// The manual stays in step with the code: docs/configuration.md is what the generator renders from
// the schema (every field described), and every relative link in README.md and docs/ points at a file
// that exists.

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, test } from "node:test";
import { DOC_PATH, renderConfigDoc, undocumentedFields } from "../../../scripts/gen-config-doc.js";

const REPO = join(import.meta.dirname, "../../..");

describe("docs/configuration.md", () => {
  test("every schema field has a description", () => {
    assert.deepEqual(undocumentedFields(), []);
  });

  test("is what scripts/gen-config-doc.ts renders (run npm run docs:config after changing the schema)", () => {
    assert.ok(existsSync(DOC_PATH), "docs/configuration.md exists");
    assert.equal(readFileSync(DOC_PATH, "utf8"), renderConfigDoc());
  });

  test("documents every top-level key with its default", () => {
    const doc = renderConfigDoc();
    for (const key of ["gatewayId", "dataDir", "mqtt", "modbus", "upstream", "workOrders", "quotas", "http"]) {
      assert.match(doc, new RegExp(`^\\| \`${key}\` \\|`, "m"), key);
    }
    assert.match(doc, /^\| `dataDir` \| string \| `\.\/data` \|/m);
    assert.match(doc, /^\| `gatewayId` \| id \| \*\*required\*\* \|/m);
  });
});

/** Relative link targets in a Markdown text, outside fenced code blocks. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "");
  const out: string[] = [];
  for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1] as string;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue;
    out.push(decodeURI(target.split("#")[0] as string));
  }
  return out;
}

describe("links in README.md and docs/", () => {
  const files = [
    join(REPO, "README.md"),
    ...readdirSync(join(REPO, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => join(REPO, "docs", f)),
  ];

  test("the link parser sees relative links and skips URLs, anchors and code", () => {
    const sample = "[a](docs/x.md) [b](https://e.org/y) [c](#z) [d](../e.md#f)\n```\n[g](nope.md)\n```\n";
    assert.deepEqual(relativeLinks(sample), ["docs/x.md", "../e.md"]);
  });

  for (const file of files) {
    test(`${file.slice(REPO.length + 1)}: every relative link points at an existing file`, () => {
      const broken = relativeLinks(readFileSync(file, "utf8")).filter((t) => !existsSync(resolve(dirname(file), t)));
      assert.deepEqual(broken, []);
    });
  }

  test("the chapters that code comments point at exist", () => {
    for (const chapter of [
      "configuration",
      "mqtt",
      "modbus",
      "rules",
      "alarms",
      "quotas",
      "upstream",
      "hooks",
      "http-api",
      "install",
      "cli",
      "errors",
      "architecture",
      "benchmarks",
    ]) {
      assert.ok(existsSync(join(REPO, "docs", `${chapter}.md`)), `docs/${chapter}.md`);
    }
  });
});
