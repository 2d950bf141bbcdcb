// The pipeline bench's publisher, run as its own process (`node --import tsx pipeline-publisher.ts <url>`)
// so that publishing never competes with the agent for the bench process's event loop. It connects,
// prints "ready", then runs each plan it reads on stdin (one JSON line) and answers with one JSON
// result line; "quit" ends it. One process serves the whole run, so no burst pays a process start.

import { createInterface } from "node:readline";
import mqtt from "mqtt";
import {
  CROSSING_RULES,
  crossingFields,
  isCrossing,
  NORMAL,
  type PublishPlan,
  type PublishResult,
  topicOf,
  wallNow,
} from "./pipeline-workload.js";

async function publisherMain(url: string): Promise<void> {
  const client = await mqtt.connectAsync(url, {
    clientId: `bench-pub-${process.pid}`,
    clean: true,
    reconnectPeriod: 0,
  });
  // A device sends each reading when it has it: no Nagle coalescing on the publisher's socket.
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  const normal = Buffer.from(JSON.stringify(NORMAL));
  const crossingBufs: Buffer[] = [];
  for (let k = 0; k < CROSSING_RULES; k++)
    crossingBufs.push(Buffer.from(JSON.stringify({ ...NORMAL, ...crossingFields(k) })));

  const run = async (plan: PublishPlan): Promise<PublishResult> => {
    const topics: string[] = [];
    for (let d = 0; d < plan.devices; d++) topics.push(topicOf(plan.prefix, d));
    let crossing = 0;
    const payloadFor = (seq: number): Buffer => {
      if (!isCrossing(seq, plan.devices, plan.pattern)) return normal;
      const k =
        plan.pattern === "steady" ? Math.floor((seq % plan.devices) / 10) % CROSSING_RULES : crossing % CROSSING_RULES;
      crossing++;
      if (!plan.stamp) return crossingBufs[k] as Buffer;
      return Buffer.from(JSON.stringify({ ...NORMAL, ...crossingFields(k), sent: wallNow() }));
    };
    const flushed = (seq: number): Promise<void> =>
      new Promise((res, rej) => {
        client.publish(topics[seq % plan.devices] as string, payloadFor(seq), { qos: 0 }, (err) =>
          err ? rej(err) : res(),
        );
      });
    const t0 = performance.now();
    let seq = 0;
    if (plan.rate <= 0) {
      // Back-pressure: every 256th publish waits until the socket took it.
      while (seq < plan.count) {
        if ((seq & 255) === 255) await flushed(seq);
        else client.publish(topics[seq % plan.devices] as string, payloadFor(seq), { qos: 0 });
        seq++;
      }
    } else {
      while (seq < plan.count) {
        const due = Math.min(plan.count, Math.floor(((performance.now() - t0) * plan.rate) / 1000) + 1);
        while (seq < due) {
          client.publish(topics[seq % plan.devices] as string, payloadFor(seq), { qos: 0 });
          seq++;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    await new Promise<void>((res) => client.publish(`${plan.prefix}/end`, "", { qos: 0 }, () => res()));
    return { sent: seq, crossing, ms: performance.now() - t0 };
  };

  process.stdout.write("ready\n");
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    if (line.trim() === "quit") break;
    const result = await run(JSON.parse(line) as PublishPlan);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  lines.close();
  await client.endAsync();
}

await publisherMain(process.argv[2] ?? "");
