// Reads values out of a JSON response as their exact source text, so 64-bit integer ids (which a
// JavaScript number would round above 2^53) survive from the response to the database unchanged.
// Node 20 has no JSON.parse source access, hence this small scanner over the top-level object.

/** Raw source text of each member of a JSON object (whitespace trimmed), or null if `text` is not an object. */
export function rawMembers(text: string): Map<string, string> | null {
  let i = skipWs(text, 0);
  if (text[i] !== "{") return null;
  const out = new Map<string, string>();
  i = skipWs(text, i + 1);
  if (text[i] === "}") return out;
  for (;;) {
    if (text[i] !== '"') return null;
    const keyEnd = endOfString(text, i);
    if (keyEnd < 0) return null;
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWs(text, keyEnd);
    if (text[i] !== ":") return null;
    i = skipWs(text, i + 1);
    const valEnd = endOfValue(text, i);
    if (valEnd < 0) return null;
    out.set(key, text.slice(i, valEnd));
    i = skipWs(text, valEnd);
    if (text[i] === ",") {
      i = skipWs(text, i + 1);
      continue;
    }
    if (text[i] === "}") return out;
    return null;
  }
}

const INTEGER = /^-?\d+$/;

/**
 * An id member as an exact decimal string: a JSON integer's digits, or a string's content.
 * Null when absent or not an integer/string.
 */
export function rawId(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  if (INTEGER.test(raw)) return raw;
  if (raw.startsWith('"')) {
    try {
      const s = JSON.parse(raw) as string;
      return s.length > 0 ? s : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** True when `s` is a decimal integer that can be written bare into a JSON body. */
export function isIntegerText(s: string): boolean {
  return INTEGER.test(s);
}

function skipWs(t: string, i: number): number {
  while (i < t.length) {
    const c = t.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

function endOfString(t: string, i: number): number {
  for (let j = i + 1; j < t.length; j++) {
    const c = t[j];
    if (c === "\\") j++;
    else if (c === '"') return j + 1;
  }
  return -1;
}

function endOfValue(t: string, i: number): number {
  const c = t[i];
  if (c === '"') return endOfString(t, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    for (let j = i; j < t.length; j++) {
      const d = t[j];
      if (d === '"') {
        j = endOfString(t, j) - 1;
        if (j < 0) return -1;
      } else if (d === "{" || d === "[") depth++;
      else if (d === "}" || d === "]") {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < t.length && !",}] \n\r\t".includes(t[j] as string)) j++;
  return j > i ? j : -1;
}
