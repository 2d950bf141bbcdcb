// Coded errors: a stable `code` for programs and tests, a sentence a site engineer can act on.

export type ErrorCode =
  | "EA_CONFIG_INVALID"
  | "EA_CONFIG_NOT_FOUND"
  | "EA_RULE_INVALID"
  | "EA_HOOK_INVALID"
  | "EA_HOOK_TIMEOUT"
  | "EA_HOOK_EXIT"
  | "EA_MODBUS_TIMEOUT"
  | "EA_MODBUS_EXCEPTION"
  | "EA_MODBUS_DISCONNECTED"
  | "EA_MODBUS_WRITE"
  | "EA_UPSTREAM_STATUS"
  | "EA_UPSTREAM_NETWORK"
  | "EA_WORKORDER_REJECTED"
  | "EA_DB"
  | "EA_INTERNAL";

export class AgentError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AgentError";
    this.code = code;
  }
}

/** One problem found in a user's file: config, rule or hook. Validators return these, never throw. */
export interface Problem {
  file: string;
  /** JSON path, `$` for the whole document, e.g. `$.conditions.all[0].operator`. */
  path: string;
  message: string;
  line?: number;
  column?: number;
  hint?: string;
  /** Absent = "error". A warning is printed but does not make the file invalid. */
  severity?: "error" | "warning";
}

export function formatProblem(p: Problem): string {
  const pos = p.line !== undefined ? `:${p.line}:${p.column ?? 1}` : "";
  const hint = p.hint ? ` — ${p.hint}` : "";
  return `${p.file}${pos}: ${p.path}: ${p.message}${hint}`;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
