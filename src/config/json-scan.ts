// A small strict-JSON scanner that finds what JSON.parse only hints at: the exact line:column of the
// first syntax error (V8's message wording differs between Node 20, 22 and 24) and duplicate keys,
// which JSON.parse silently resolves to the last one. It validates only; JSON.parse builds values.

export interface JsonSyntaxError {
  offset: number;
  line: number;
  column: number;
  message: string;
}

export interface DuplicateKey {
  /** JSON path of the object holding the key more than once. */
  path: string;
  key: string;
  /** Position of the first repetition. */
  line: number;
  column: number;
  /** How many times the key stands in that object beyond the first (reported once, not per copy). */
  repeats: number;
}

export interface ScanResult {
  error: JsonSyntaxError | null;
  duplicates: DuplicateKey[];
}

class ScanError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** 1-based line and column (in UTF-16 code units, as editors count) of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * lineColumn for offsets asked in increasing order: each call resumes where the last one stopped,
 * so reporting n positions in one document costs one pass, not n.
 */
export function lineCursor(text: string): (offset: number) => { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  let pos = 0;
  return (offset) => {
    const end = Math.min(offset, text.length);
    if (end < pos) return lineColumn(text, offset);
    for (let i = pos; i < end; i++) {
      if (text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    pos = end;
    return { line, column: end - lineStart + 1 };
  };
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Appends a key to a JSON path the way problems print it: `$.a.b`, `$["odd key"]`, `$.a[0]`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return IDENT.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function describe(ch: string | undefined): string {
  if (ch === undefined) return "end of file";
  if (ch === "\n" || ch === "\r") return "end of line";
  return `'${ch}'`;
}

/**
 * Linear in the text's length with memory bounded by its nesting and by the keys of the open
 * objects: keys are decoded from slices, other strings are only skipped, and a path is built only
 * when a duplicate needs one.
 */
export function scanJson(text: string): ScanResult {
  let i = 0;
  const dups: DuplicateKey[] = [];
  const where = lineCursor(text);
  // Keys and indices from the root to the value being scanned.
  const trail: (string | number)[] = [];

  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else return;
    }
  };
  const fail = (message: string, at = i): never => {
    throw new ScanError(at, message);
  };
  const pathOf = (): string => {
    let p = "$";
    for (const k of trail) p = childPath(p, k);
    return p;
  };

  /** Scans a string; returns its decoded value only when `decode` (object keys). */
  const string = (decode: boolean): string => {
    const start = i;
    i++; // opening quote
    let out = "";
    let run = i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) fail("unterminated string", start);
      if (c === 34) {
        if (decode) out += text.slice(run, i);
        i++;
        return out;
      }
      if (c === 92) {
        if (decode) out += text.slice(run, i);
        const esc = text[i + 1];
        if (esc === "u") {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9A-Fa-f]{4}$/.test(hex)) fail("invalid \\u escape in string", i);
          if (decode) out += String.fromCharCode(Number.parseInt(hex, 16));
          i += 6;
        } else {
          if (esc === undefined || !'"\\/bfnrt'.includes(esc)) fail(`invalid escape ${describe(esc)} in string`, i);
          if (decode) out += ESCAPES[esc as string];
          i += 2;
        }
        run = i;
        continue;
      }
      if (c < 0x20) fail(c === 10 ? "unterminated string (line break inside a string)" : "control character in string");
      i++;
    }
  };

  const number = (): void => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail(`invalid number`);
    i += (m as RegExpExecArray)[0].length;
    const next = text.charCodeAt(i);
    // digits, letters and '.' right after a number make it invalid (01, 1.e5, 1x)
    if (next === 46 || (next >= 48 && next <= 57) || ((next | 32) >= 97 && (next | 32) <= 122)) fail(`invalid number`);
  };

  const literal = (word: string): void => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return;
    }
    fail(`unexpected ${describe(text[i])}`);
  };

  const value = (depth: number): void => {
    if (depth > 1000) fail("document nested too deeply");
    ws();
    const ch = text[i];
    if (ch === "{") object(depth);
    else if (ch === "[") array(depth);
    else if (ch === '"') string(false);
    else if (ch === "t") literal("true");
    else if (ch === "f") literal("false");
    else if (ch === "n") literal("null");
    else if (ch === undefined) fail("unexpected end of file, expected a value");
    else if (ch === "'") fail("strings must use double quotes");
    else if (ch === "-" || (ch >= "0" && ch <= "9")) number();
    else if (ch === "}" || ch === "]") fail(`unexpected ${describe(ch)}, expected a value (trailing comma?)`);
    else fail(`unexpected ${describe(ch)}, expected a value`);
  };

  const object = (depth: number): void => {
    i++;
    let seen: Set<string> | null = null;
    let repeated: Map<string, DuplicateKey> | null = null;
    ws();
    if (text[i] === "}") {
      i++;
      return;
    }
    for (;;) {
      ws();
      const keyAt = i;
      if (text[i] === "}") fail("trailing comma before '}'");
      if (text[i] !== '"')
        fail(text[i] === undefined ? "unexpected end of file inside an object" : "expected a double-quoted key");
      const key = string(true);
      seen ??= new Set();
      if (seen.has(key)) {
        repeated ??= new Map();
        const d = repeated.get(key);
        if (d) d.repeats++;
        else {
          const nd: DuplicateKey = { path: pathOf(), key, ...where(keyAt), repeats: 1 };
          repeated.set(key, nd);
          dups.push(nd);
        }
      } else seen.add(key);
      ws();
      if (text[i] !== ":") fail(`expected ':' after key "${key}", found ${describe(text[i])}`);
      i++;
      trail.push(key);
      value(depth + 1);
      trail.pop();
      ws();
      const sep = text[i];
      if (sep === ",") {
        i++;
        continue;
      }
      if (sep === "}") {
        i++;
        return;
      }
      fail(
        sep === undefined
          ? "unexpected end of file, expected ',' or '}'"
          : `expected ',' or '}', found ${describe(sep)}`,
      );
    }
  };

  const array = (depth: number): void => {
    i++;
    ws();
    if (text[i] === "]") {
      i++;
      return;
    }
    for (let n = 0; ; n++) {
      ws();
      if (text[i] === "]") fail("trailing comma before ']'");
      trail.push(n);
      value(depth + 1);
      trail.pop();
      ws();
      const sep = text[i];
      if (sep === ",") {
        i++;
        continue;
      }
      if (sep === "]") {
        i++;
        return;
      }
      fail(
        sep === undefined
          ? "unexpected end of file, expected ',' or ']'"
          : `expected ',' or ']', found ${describe(sep)}`,
      );
    }
  };

  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    value(0);
    ws();
    if (i < text.length) fail(`unexpected ${describe(text[i])} after the end of the document`);
    return { error: null, duplicates: dups };
  } catch (err) {
    if (!(err instanceof ScanError)) throw err;
    return {
      error: { offset: err.offset, message: err.message, ...lineColumn(text, err.offset) },
      duplicates: dups,
    };
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
