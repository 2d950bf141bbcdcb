// Rule and config file scanning: the strict scanner (positions, duplicate keys) against JSON.parse
// of the same text in the same run, on a large valid rule file and on a file of repeated keys.

import { scanJson } from "../../src/config/json-scan.js";

function bigRuleFile(bytes: number): string {
  const rule = (i: number) =>
    JSON.stringify({
      id: `r${i}`,
      name: `rule${i}`,
      title: `Rule ${i} — 过压 "quoted" \\ text`,
      key: "meter",
      type: "rule",
      conditions: { all: [{ fact: "voltage", operator: "greaterThan", value: 250 + (i % 10) }] },
      actions: { alarm: true, webhook: "https://hooks.example.com/alarm" },
    });
  const parts: string[] = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const r = rule(i);
    parts.push(r);
    size += r.length + 1;
  }
  return `[${parts.join(",")}]`;
}

function time(fn: () => void, rounds: number): number {
  fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e6 / rounds;
}

export default async function main(): Promise<void> {
  const big = bigRuleFile(10 * 2 ** 20);
  const dup = `{${Array.from({ length: 68_000 }, () => '"a":1').join(",")}}`;
  for (const [label, text] of [
    ["10 MB valid rule file", big],
    [`${Math.round(dup.length / 1024)} KB of one repeated key`, dup],
  ] as const) {
    const heap0 = process.memoryUsage().heapUsed;
    const scan = time(() => scanJson(text), 3);
    const heap1 = process.memoryUsage().heapUsed;
    const parse = time(() => JSON.parse(text), 3);
    const dups = scanJson(text).duplicates.length;
    console.log(
      `files.scan ${label}: ${scan.toFixed(1)} ms vs JSON.parse ${parse.toFixed(1)} ms ` +
        `(ratio ${(scan / parse).toFixed(2)}), duplicate problems ${dups}, heap growth ${((heap1 - heap0) / 2 ** 20).toFixed(1)} MB`,
    );
  }
}
