// Compiles one MQTT subscription (docs/mqtt.md) into a mapper from (topic, payload) to a Reading.
// Pure and synchronous: everything that can be prepared (topic levels, device template, JSON paths)
// is prepared once here, so a message costs one JSON.parse, a level walk and one values object.
// Every value of the message is a fact (numbers, booleans, strings, arrays, objects, null), within
// size bounds that keep memory and rule evaluation cheap: an oversize value is cut from the reading
// and counted, the rest of the message still arrives. Bad input never throws: `map` returns
// `{ ok: false, reason }` for the caller to count.

import type { SubscriptionConfig } from "../../config/schema.js";
import { setOwn } from "../../core/json-value.js";
import type { FactValue, Reading } from "../../core/types.js";

export type RejectReason =
  | "not-json"
  | "too-large"
  | "no-device"
  | "no-metrics"
  | "bad-timestamp"
  | "bad-values"
  | "no-match";

/** Why a value was cut from a reading (label of edge_mqtt_values_dropped_total). */
export type DropReason = "string-too-long" | "too-deep" | "too-large";
export const DROP_REASONS: readonly DropReason[] = ["string-too-long", "too-deep", "too-large"];
/** Values cut from one message, by reason. */
export type Drops = Partial<Record<DropReason, number>>;

/** A string value longer than this many UTF-8 bytes is cut. */
export const MAX_STRING_BYTES = 4096;
/** An array or object nested deeper than this is cut (the value itself is level 1). */
export const MAX_DEPTH = 16;
/** An array or object larger than this many bytes of JSON is cut. */
export const MAX_VALUE_BYTES = 64 * 1024;

export type MapResult =
  | {
      ok: true;
      reading: Reading /** Values cut by the size bounds, null when none (the common case). */;
      dropped: Drops | null;
    }
  | { ok: false; reason: RejectReason; detail: string; dropped?: Drops };

type Segment = string | number;

/** Parses `$`, `$.a.b`, `$[0]`, `$["a b"]` into segments; throws on anything else (config checks reject it first). */
export function parseJsonPath(path: string): Segment[] {
  if (path[0] !== "$") throw new Error(`JSON path must start with '$': '${path}'`);
  const out: Segment[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === ".") {
      let j = i + 1;
      while (j < path.length && path[j] !== "." && path[j] !== "[") j++;
      if (j === i + 1) throw new Error(`empty name in JSON path '${path}'`);
      out.push(path.slice(i + 1, j));
      i = j;
    } else if (c === "[") {
      const end = path.indexOf("]", i);
      if (end < 0) throw new Error(`unclosed '[' in JSON path '${path}'`);
      const inner = path.slice(i + 1, end);
      if (/^\d+$/.test(inner)) out.push(Number(inner));
      else if (/^(["']).*\1$/.test(inner)) out.push(inner.slice(1, -1));
      else throw new Error(`bad index '[${inner}]' in JSON path '${path}'`);
      i = end + 1;
    } else {
      throw new Error(`unexpected '${c}' in JSON path '${path}'`);
    }
  }
  return out;
}

function walk(root: unknown, segs: readonly Segment[]): unknown {
  let cur = root;
  for (let i = 0; i < segs.length; i++) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[segs[i] as Segment];
  }
  return cur;
}

function sameSegments(a: readonly Segment[], b: readonly Segment[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Below this an epoch number is taken as seconds (1e11 s is year 5138; 1e11 ms is March 1973). */
const SECONDS_LIMIT = 1e11;
const MAX_DEVICE_ID = 128;

/**
 * Parses a device timestamp: epoch ms, epoch seconds (< 1e11), a numeric string of either, or ISO-8601.
 * Returns NaN when it is not a usable time.
 */
export function parseTimestamp(v: unknown): number {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string") {
    const t = v.trim();
    if (t === "") return Number.NaN;
    // "2026-01-01T…" starts like a number but is ISO: only an all-digit string is an epoch.
    n = isDecimal(t) ? Number(t) : isDigit(t.charCodeAt(0)) ? Date.parse(t) : Number.NaN;
  } else return Number.NaN;
  if (!Number.isFinite(n) || n <= 0) return Number.NaN;
  return n < SECONDS_LIMIT ? Math.round(n * 1000) : Math.round(n);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isDecimal(s: string): boolean {
  let dot = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 && !dot && i > 0 && i < s.length - 1) dot = true;
    else if (!isDigit(c)) return false;
  }
  return true;
}

interface TemplatePart {
  text: string;
  /** 0-based wildcard index whose level follows `text`, -1 for none. */
  wildcard: number;
}

/** A compiled subscription. `match` and `map` are the per-message calls. */
/** `C`: the subscription as given, e.g. resolved (with offlineAfter) when the source built it. */
export class SubscriptionMapper<C extends SubscriptionConfig = SubscriptionConfig> {
  readonly config: C;
  readonly filter: string;
  readonly qos: 0 | 1 | 2;
  /** Topic filter levels; "+" and "#" are wildcards. */
  readonly #levels: readonly string[];
  readonly #wildcards: number;
  readonly #deviceTemplate: readonly TemplatePart[] | null;
  readonly #devicePath: readonly Segment[] | null;
  readonly #valuesPath: readonly Segment[];
  readonly #tsPath: readonly Segment[] | null;
  /** Keys of the values object that are the device id, timestamp or event, not metrics. */
  readonly #skipKeys: ReadonlySet<string>;
  readonly #product: string;

  constructor(config: C) {
    this.config = config;
    this.filter = config.topic;
    this.qos = config.qos ?? 0;
    this.#product = config.product;
    this.#levels = config.topic.split("/");
    this.#wildcards = this.#levels.filter((l) => l === "+" || l === "#").length;
    if (config.device.startsWith("$")) {
      this.#devicePath = parseJsonPath(config.device);
      this.#deviceTemplate = null;
    } else {
      this.#devicePath = null;
      this.#deviceTemplate = compileTemplate(config.device, this.#wildcards);
    }
    this.#valuesPath = parseJsonPath(config.values ?? "$");
    const ts = config.timestamp;
    this.#tsPath = ts === undefined ? null : ts.startsWith("$") ? parseJsonPath(ts) : [ts];
    const skip = new Set<string>();
    const parentOf = (p: readonly Segment[] | null): void => {
      if (p === null || p.length === 0) return;
      const last = p[p.length - 1];
      if (typeof last === "string" && sameSegments(p.slice(0, -1), this.#valuesPath)) skip.add(last);
    };
    parentOf(this.#devicePath);
    parentOf(this.#tsPath);
    if (this.#valuesPath.length === 0) skip.add("event");
    this.#skipKeys = skip;
  }

  /**
   * Whether `topic` matches the filter; fills `captures` with the levels matched by each wildcard
   * ("#" captures the rest of the topic). Walks the string with indexOf: no split, no regex.
   */
  match(topic: string, captures: string[]): boolean {
    captures.length = 0;
    const levels = this.#levels;
    let pos = 0;
    for (let i = 0; i < levels.length; i++) {
      const want = levels[i] as string;
      if (want === "#") {
        // '#' also matches the parent level itself ("a/#" matches "a"), but never a '$' topic at the root.
        if (i === 0 && topic.charCodeAt(0) === 36) return false;
        captures.push(pos > topic.length ? "" : topic.slice(pos));
        return true;
      }
      if (pos > topic.length) return false;
      let end = topic.indexOf("/", pos);
      if (end < 0) end = topic.length;
      if (want === "+") {
        if (i === 0 && topic.charCodeAt(0) === 36) return false;
        captures.push(topic.slice(pos, end));
      } else if (end - pos !== want.length || !topic.startsWith(want, pos)) return false;
      pos = end + 1;
    }
    return pos === topic.length + 1;
  }

  /** Device id from the topic template (null when it comes from the payload or is empty). */
  deviceFromTopic(captures: readonly string[]): string | null {
    const tpl = this.#deviceTemplate;
    if (tpl === null) return null;
    let id = "";
    for (let i = 0; i < tpl.length; i++) {
      const p = tpl[i] as TemplatePart;
      id += p.text;
      if (p.wildcard >= 0) id += captures[p.wildcard] ?? "";
    }
    return id;
  }

  /**
   * Maps one message. `topicDevice` is `deviceFromTopic` of the matched topic (callers cache it per topic).
   * `now` is the receive time, used when the payload carries no timestamp.
   */
  map(topic: string, payload: Buffer | string, topicDevice: string | null, now: number): MapResult {
    let doc: unknown;
    try {
      doc = JSON.parse(typeof payload === "string" ? payload : payload.toString("utf8"));
    } catch {
      return { ok: false, reason: "not-json", detail: "payload is not JSON" };
    }

    let deviceId = topicDevice;
    if (this.#devicePath !== null) {
      const d = walk(doc, this.#devicePath);
      if (typeof d === "string") deviceId = d;
      else if (typeof d === "number" && Number.isFinite(d)) deviceId = String(d);
      else deviceId = null;
    }
    if (deviceId === null || deviceId === "" || deviceId.length > MAX_DEVICE_ID) {
      return {
        ok: false,
        reason: "no-device",
        detail:
          this.#devicePath !== null
            ? `payload has no device id at ${this.config.device}`
            : `device template '${this.config.device}' gave '${deviceId ?? ""}'`,
      };
    }

    const reading: Reading = { deviceId, product: this.#product, ts: now, values: {}, source: "mqtt" };
    // No single value can be larger than the whole payload: below the bound its size is not measured.
    const measure = (typeof payload === "string" ? payload.length * 3 : payload.length) > MAX_VALUE_BYTES;

    if (doc === null || typeof doc !== "object") {
      if (doc === null) return { ok: false, reason: "no-metrics", detail: "payload is null" };
      // A bare number, boolean or string is one value named after the last topic level.
      const slash = topic.lastIndexOf("/");
      const cut = this.#cut(doc as FactValue, measure);
      if (cut !== null) {
        const dropped: Drops = { [cut]: 1 };
        return { ok: false, reason: "bad-values", detail: `the value is cut: ${CUT_DETAIL[cut]}`, dropped };
      }
      setOwn(reading.values, topic.slice(slash + 1), doc as FactValue);
      return { ok: true, reading, dropped: null };
    }
    if (Array.isArray(doc)) {
      return {
        ok: false,
        reason: "no-metrics",
        detail: "payload is an array: send an object of values, or one bare value per topic",
      };
    }

    if (this.#tsPath !== null) {
      const raw = walk(doc, this.#tsPath);
      if (raw !== undefined && raw !== null) {
        const ts = parseTimestamp(raw);
        if (Number.isNaN(ts))
          return {
            ok: false,
            reason: "bad-timestamp",
            detail: `timestamp ${JSON.stringify(raw)} is not epoch ms/s or ISO-8601`,
          };
        reading.ts = ts;
      }
    }

    const ev = (doc as Record<string, unknown>).event;
    if (typeof ev === "string" && ev !== "") reading.event = ev;

    const obj = walk(doc, this.#valuesPath);
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
      if (reading.event !== undefined) return { ok: true, reading, dropped: null };
      return { ok: false, reason: "no-metrics", detail: `no object at ${this.config.values ?? "$"}` };
    }
    const values = reading.values;
    let dropped: Drops | null = null;
    let count = 0;
    const skip = this.#skipKeys;
    for (const key in obj) {
      if (skip.has(key)) continue;
      const v = (obj as Record<string, FactValue>)[key] as FactValue;
      // Numbers and booleans (the common case) need no bound check.
      if (typeof v === "string" || (v !== null && typeof v === "object")) {
        const cut = this.#cut(v, measure);
        if (cut !== null) {
          if (dropped === null) dropped = {};
          dropped[cut] = (dropped[cut] ?? 0) + 1;
          continue;
        }
      }
      if (key === "__proto__") setOwn(values, key, v);
      else values[key] = v;
      count++;
    }
    if (count === 0 && reading.event === undefined) {
      if (dropped !== null)
        return { ok: false, reason: "bad-values", detail: `every value is cut (${describeDrops(dropped)})`, dropped };
      return { ok: false, reason: "no-metrics", detail: "the values object has no values" };
    }
    return { ok: true, reading, dropped };
  }

  /** Why a string, array or object value is cut from the reading, null when it is kept. */
  #cut(v: FactValue, measure: boolean): DropReason | null {
    if (typeof v === "string") {
      // A UTF-16 unit is at most 3 UTF-8 bytes: only long strings are measured.
      return v.length > MAX_STRING_BYTES / 3 && Buffer.byteLength(v, "utf8") > MAX_STRING_BYTES
        ? "string-too-long"
        : null;
    }
    if (v === null || typeof v !== "object") return null;
    if (deeperThan(v, 1)) return "too-deep";
    if (measure && Buffer.byteLength(JSON.stringify(v), "utf8") > MAX_VALUE_BYTES) return "too-large";
    return null;
  }
}

const CUT_DETAIL: Record<DropReason, string> = {
  "string-too-long": `a string longer than ${MAX_STRING_BYTES} bytes`,
  "too-deep": `an array or object nested deeper than ${MAX_DEPTH} levels`,
  "too-large": `an array or object larger than ${MAX_VALUE_BYTES} bytes of JSON`,
};

function describeDrops(d: Drops): string {
  return DROP_REASONS.filter((r) => d[r] !== undefined)
    .map((r) => `${d[r]} × ${CUT_DETAIL[r]}`)
    .join("; ");
}

/** Whether an array or object at `level` nests deeper than MAX_DEPTH. Stops at the bound: never recurses further. */
function deeperThan(v: object, level: number): boolean {
  if (level > MAX_DEPTH) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (x !== null && typeof x === "object" && deeperThan(x, level + 1)) return true;
    }
    return false;
  }
  for (const k in v) {
    const x: unknown = (v as Record<string, unknown>)[k];
    if (x !== null && typeof x === "object" && deeperThan(x, level + 1)) return true;
  }
  return false;
}

function compileTemplate(tpl: string, wildcards: number): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let i = 0;
  let text = "";
  while (i < tpl.length) {
    const open = tpl.indexOf("{", i);
    const close = open < 0 ? -1 : tpl.indexOf("}", open);
    if (open < 0 || close < 0) {
      text += tpl.slice(i);
      break;
    }
    const inner = tpl.slice(open + 1, close);
    const n = /^\d+$/.test(inner) ? Number(inner) : 0;
    if (n < 1 || n > wildcards) {
      // Not a wildcard reference: keep the braces as literal text.
      text += tpl.slice(i, close + 1);
    } else {
      parts.push({ text: text + tpl.slice(i, open), wildcard: n - 1 });
      text = "";
    }
    i = close + 1;
  }
  if (text !== "" || parts.length === 0) parts.push({ text, wildcard: -1 });
  return parts;
}

/** Compiles every subscription once; `route` finds the first that matches a topic. */
export function compileSubscriptions<C extends SubscriptionConfig>(subs: readonly C[]): SubscriptionMapper<C>[] {
  return subs.map((s) => new SubscriptionMapper(s));
}
