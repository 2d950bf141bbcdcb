import assert from "node:assert/strict";
import { test } from "node:test";
import { lineColumn, scanJson } from "../../../src/config/json-scan.js";

// The scanner decides validity exactly as JSON.parse does; it only adds the position and wording.
const SAMPLES = [
  "{}",
  "[]",
  '{"a": [1, -0, 1.5e-3, 2E+2, true, false, null, "x\\u00e9\\n"]}',
  ' \t\r\n{"a":{"b":{"c":[[]]}}} ',
  '"just a string"',
  "42",
  "{,}",
  '{"a":1,}',
  "[1,]",
  "[1 2]",
  '{"a" 1}',
  "{'a': 1}",
  '{"a": 01}',
  '{"a": 1.}',
  '{"a": .5}',
  '{"a": +1}',
  '{"a": NaN}',
  '{"a": tru}',
  '{"a": "line\nbreak"}',
  '{"a": "tab\there"}',
  '{"a": "\\x41"}',
  '{"a": "\\u12"}',
  '{"a": 1} x',
  '{"a": 1',
  '{"a": "unterminated',
  "",
  "   ",
  "// comment\n{}",
  '{"a": 1}\n// trailing comment',
];

test("accepts and rejects exactly what JSON.parse does", () => {
  for (const s of SAMPLES) {
    let parses = true;
    try {
      JSON.parse(s);
    } catch {
      parses = false;
    }
    assert.equal(scanJson(s).error === null, parses, `sample ${JSON.stringify(s)}`);
  }
});

test("positions and messages", () => {
  assert.deepEqual(scanJson('{\n  "a": 1,\n  "b": [1, 2,]\n}').error, {
    offset: 25,
    line: 3,
    column: 14,
    message: "trailing comma before ']'",
  });
  assert.equal(scanJson('{"a": "x\ny"}').error?.message, "unterminated string (line break inside a string)");
  assert.equal(scanJson("{} {}").error?.message, "unexpected '{' after the end of the document");
  assert.deepEqual(lineColumn("ab\ncd", 4), { line: 2, column: 2 });
});

test("reports duplicate keys with their path", () => {
  const r = scanJson('{"m": {"x": 1, "y": 2, "x": 3}, "list": [{"k": 1, "k": 2}]}');
  assert.equal(r.error, null);
  assert.deepEqual(
    r.duplicates.map((d) => `${d.path} ${d.key} ${d.line}:${d.column}`),
    ["$.m x 1:24", "$.list[0] k 1:51"],
  );
});

test("a key repeated thousands of times is one problem with its count", () => {
  const n = 40_000;
  const text = `{${Array.from({ length: n }, () => '"a":1').join(",")}}`;
  const r = scanJson(text);
  assert.equal(r.error, null);
  assert.equal(r.duplicates.length, 1);
  assert.deepEqual(r.duplicates[0], { path: "$", key: "a", line: 1, column: 8, repeats: n - 1 });
});

test("keys compare by their decoded value, as JSON.parse does", () => {
  const r = scanJson('{"a\\nb": 1, "a\\u000ab": 2, "q\\"": 3, "q\\u0022": 4}');
  assert.deepEqual(
    r.duplicates.map((d) => d.key),
    ["a\nb", 'q"'],
  );
});

test("paths of duplicates deep in a document are built from the keys on the way", () => {
  const r = scanJson('{"rules": [{"x": {"odd key": {"k": 1, "k": 2}}}]}');
  assert.equal(r.duplicates[0]?.path, '$.rules[0].x["odd key"]');
});
