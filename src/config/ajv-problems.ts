// Turns Ajv's schema errors into Problems a site engineer can act on: clean JSON paths
// (`$.modbus.devices[0].points[2].type`), one message per mistake (a union collapses to the list
// of allowed values instead of one error per branch) and "did you mean" for unknown keys and values.
// Needs Ajv compiled with `allErrors: true, verbose: true` (parentSchema and data on every error).

import type { ErrorObject } from "ajv";
import type { Problem } from "../core/errors.js";
import { closest, suggestion } from "./did-you-mean.js";
import { childPath } from "./json-scan.js";

type Json = unknown;

const ID_PATTERN = "^[A-Za-z0-9_.:-]+$";

/** JSON pointer (`/a/0/b`) → problem path (`$.a[0].b`), using the document to tell indexes from keys. */
export function pointerToPath(pointer: string, doc: Json): string {
  if (pointer === "") return "$";
  let path = "$";
  let node: Json = doc;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node) && /^\d+$/.test(seg)) {
      path = childPath(path, Number(seg));
      node = node[Number(seg)];
    } else {
      path = childPath(path, seg);
      node = node !== null && typeof node === "object" ? (node as Record<string, Json>)[seg] : undefined;
    }
  }
  return path;
}

export function describeValue(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  switch (typeof v) {
    case "string":
      return `'${v.length > 40 ? `${v.slice(0, 37)}...` : v}'`;
    case "number":
    case "boolean":
      return String(v);
    case "object":
      return "an object";
    default:
      return typeof v;
  }
}

function literal(v: Json): string {
  return typeof v === "string" ? `'${v}'` : JSON.stringify(v);
}

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
  object: "an object",
  array: "an array",
  null: "null",
};

function typeWord(t: unknown): string {
  if (Array.isArray(t)) return t.map(typeWord).join(" or ");
  return TYPE_WORDS[String(t)] ?? String(t);
}

function actualType(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "number") return Number.isInteger(v) ? `number ${v}` : `number ${v}`;
  if (typeof v === "string") return `string ${describeValue(v)}`;
  if (typeof v === "boolean") return `boolean ${v}`;
  return describeValue(v);
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {};
}

/** A union schema (anyOf) described as its allowed values or types. */
function unionMessage(branches: unknown[], data: Json): { message: string; hint?: string } {
  const consts = branches.map((b) => asRecord(b)).filter((b) => "const" in b);
  if (consts.length === branches.length) {
    const values = consts.map((b) => b.const);
    const msg = `must be one of ${values.map(literal).join(", ")}, got ${describeValue(data)}`;
    if (typeof data === "string") {
      const near = closest(
        data,
        values.filter((v): v is string => typeof v === "string"),
      );
      if (near !== undefined) return { message: msg, hint: `did you mean '${near}'?` };
    }
    return { message: msg };
  }
  const words = branches.map((b) => {
    const r = asRecord(b);
    if ("const" in r) return literal(r.const);
    return typeWord(r.type);
  });
  return { message: `must be ${[...new Set(words)].join(" or ")}, got ${actualType(data)}` };
}

function messageFor(e: ErrorObject, doc: Json): { path: string; message: string; hint?: string } {
  const path = pointerToPath(e.instancePath, doc);
  const p = asRecord(e.params);
  const schema = asRecord(e.parentSchema);
  switch (e.keyword) {
    case "additionalProperties": {
      const key = String(p.additionalProperty);
      const allowed = Object.keys(asRecord(schema.properties));
      const hint = suggestion(key, allowed, "allowed keys");
      return { path: childPath(path, key), message: "unknown key", ...(hint ? { hint } : {}) };
    }
    case "required":
      return { path: childPath(path, String(p.missingProperty)), message: "required key is missing" };
    case "type":
      return { path, message: `must be ${typeWord(p.type)}, got ${actualType(e.data)}` };
    case "anyOf":
      return { path, ...unionMessage(Array.isArray(schema.anyOf) ? schema.anyOf : [], e.data) };
    case "const":
      return { path, message: `must be ${literal(p.allowedValue)}, got ${describeValue(e.data)}` };
    case "enum": {
      const values = Array.isArray(p.allowedValues) ? p.allowedValues : [];
      return {
        path,
        ...unionMessage(
          values.map((v) => ({ const: v })),
          e.data,
        ),
      };
    }
    case "minimum":
      return { path, message: `must be at least ${String(p.limit)}, got ${describeValue(e.data)}` };
    case "maximum":
      return { path, message: `must be at most ${String(p.limit)}, got ${describeValue(e.data)}` };
    case "exclusiveMinimum":
      return { path, message: `must be greater than ${String(p.limit)}, got ${describeValue(e.data)}` };
    case "exclusiveMaximum":
      return { path, message: `must be less than ${String(p.limit)}, got ${describeValue(e.data)}` };
    case "minLength":
      return p.limit === 1
        ? { path, message: "must not be empty" }
        : { path, message: `must be at least ${String(p.limit)} characters long` };
    case "maxLength":
      return { path, message: `must be at most ${String(p.limit)} characters long` };
    case "minItems":
      return { path, message: `must have at least ${String(p.limit)} item${p.limit === 1 ? "" : "s"}` };
    case "maxItems":
      return { path, message: `must have at most ${String(p.limit)} items` };
    case "pattern":
      return p.pattern === ID_PATTERN
        ? { path, message: `may contain only letters, digits and _ . : -, got ${describeValue(e.data)}` }
        : { path, message: `must match ${String(p.pattern)}, got ${describeValue(e.data)}` };
    default:
      return { path, message: e.message ?? `fails ${e.keyword}` };
  }
}

/** Ajv errors → Problems, one per mistake, in document order of discovery. */
export function ajvProblems(errors: readonly ErrorObject[], file: string, doc: Json): Problem[] {
  // Errors inside a union's branches are noise once the union itself is reported.
  const unions = errors.filter((e) => e.keyword === "anyOf").map((e) => `${e.schemaPath}/`);
  const out: Problem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (unions.some((u) => e.schemaPath.startsWith(u))) continue;
    const m = messageFor(e, doc);
    const key = `${m.path}\u0000${m.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ file, path: m.path, message: m.message, ...(m.hint ? { hint: m.hint } : {}) });
  }
  return out;
}
