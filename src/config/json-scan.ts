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
  /** JSON path of the object holding the key twice. */
  path: string;
  key: string;
  line: number;
  column: number;
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

export function scanJson(text: string): ScanResult {
  let i = 0;
  const duplicates: DuplicateKey[] = [];

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

  const string = (): string => {
    const start = i;
    i++; // opening quote
    let out = "";
    for (;;) {
      const ch = text[i];
      if (ch === undefined) fail("unterminated string", start);
      if (ch === '"') {
        i++;
        return out;
      }
      if (ch === "\\") {
        const esc = text[i + 1];
        if (esc === "u") {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9A-Fa-f]{4}$/.test(hex)) fail("invalid \\u escape in string", i);
          out += String.fromCharCode(Number.parseInt(hex, 16));
          i += 6;
          continue;
        }
        if (esc === undefined || !'"\\/bfnrt'.includes(esc)) fail(`invalid escape ${describe(esc)} in string`, i);
        out += esc;
        i += 2;
        continue;
      }
      if ((ch as string).charCodeAt(0) < 0x20)
        fail(ch === "\n" ? "unterminated string (line break inside a string)" : "control character in string");
      out += ch;
      i++;
    }
  };

  const number = (): void => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail(`invalid number`);
    i += (m as RegExpExecArray)[0].length;
    const next = text[i];
    if (next !== undefined && /[0-9A-Za-z.]/.test(next)) fail(`invalid number`);
  };

  const literal = (word: string): void => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return;
    }
    fail(`unexpected ${describe(text[i])}`);
  };

  const value = (path: string, depth: number): void => {
    if (depth > 1000) fail("document nested too deeply");
    ws();
    const ch = text[i];
    if (ch === "{") object(path, depth);
    else if (ch === "[") array(path, depth);
    else if (ch === '"') string();
    else if (ch === "t") literal("true");
    else if (ch === "f") literal("false");
    else if (ch === "n") literal("null");
    else if (ch === undefined) fail("unexpected end of file, expected a value");
    else if (ch === "'") fail("strings must use double quotes");
    else if (ch === "-" || (ch >= "0" && ch <= "9")) number();
    else if (ch === "}" || ch === "]") fail(`unexpected ${describe(ch)}, expected a value (trailing comma?)`);
    else fail(`unexpected ${describe(ch)}, expected a value`);
  };

  const object = (path: string, depth: number): void => {
    i++;
    const seen = new Set<string>();
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
      const key = string();
      if (seen.has(key)) duplicates.push({ path, key, ...lineColumn(text, keyAt) });
      seen.add(key);
      ws();
      if (text[i] !== ":") fail(`expected ':' after key "${key}", found ${describe(text[i])}`);
      i++;
      value(childPath(path, key), depth + 1);
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

  const array = (path: string, depth: number): void => {
    i++;
    ws();
    if (text[i] === "]") {
      i++;
      return;
    }
    for (let n = 0; ; n++) {
      ws();
      if (text[i] === "]") fail("trailing comma before ']'");
      value(childPath(path, n), depth + 1);
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
    value("$", 0);
    ws();
    if (i < text.length) fail(`unexpected ${describe(text[i])} after the end of the document`);
    return { error: null, duplicates };
  } catch (err) {
    if (!(err instanceof ScanError)) throw err;
    return { error: { offset: err.offset, message: err.message, ...lineColumn(text, err.offset) }, duplicates };
  }
}
