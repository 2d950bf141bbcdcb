// Coded errors: a stable `code` for programs and tests, a sentence a site engineer can act on.

// Every code here is thrown somewhere; docs/errors.md says what each means and what to do.
export type ErrorCode =
  | "EA_CONFIG_INVALID"
  | "EA_PORT_IN_USE"
  | "EA_HOOK_TIMEOUT"
  | "EA_HOOK_EXIT"
  | "EA_MODBUS_TIMEOUT"
  | "EA_MODBUS_EXCEPTION"
  | "EA_MODBUS_DISCONNECTED"
  | "EA_MODBUS_WRITE"
  | "EA_DB";

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

/**
 * The code for a failed listen(): a port another program already holds is its own case (stop that
 * program or choose another port); anything else (an address not on this machine, a privileged
 * port) is a configuration problem.
 */
export function listenErrorCode(err: unknown): ErrorCode {
  return (err as NodeJS.ErrnoException | null)?.code === "EADDRINUSE" ? "EA_PORT_IN_USE" : "EA_CONFIG_INVALID";
}

/**
 * Log fields for an error: the error itself and its `code` at the top of the line, where a log
 * filter or an alert on `code` finds it without digging into the serialized error. `otherwise` is
 * the code of the failure being reported when the error is a library's own (a SQLite error is EA_DB).
 */
export function errFields(err: unknown, otherwise?: ErrorCode): { err: unknown; code?: ErrorCode } {
  const code = err instanceof AgentError ? err.code : otherwise;
  return code === undefined ? { err } : { err, code };
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
