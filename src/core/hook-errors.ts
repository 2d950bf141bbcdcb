// Errors a hook throws to say what went wrong, in the words of the plugin system hooks are modelled
// on: ProcessingError (the action is blocked), InvalidDataInput (the input is wrong, field by field),
// PermissionDenied (the site forbids it). The local API answers them with its own codes; elsewhere
// they are logged with the hook's name. They are recognised by `name`, not by class identity, so a
// hook that cannot import the agent's package may define its own class with the same name.

export class ProcessingError extends Error {
  constructor(message = "Blocked by hook") {
    super(message);
    this.name = "ProcessingError";
  }
}

export class InvalidDataInput extends Error {
  /** Field → message, as the hook reported them (e.g. `{password: "too short"}`). */
  readonly fields: Record<string, string>;
  constructor(fields: Record<string, string> | string) {
    const f = typeof fields === "string" ? { "": fields } : fields;
    super(
      Object.entries(f)
        .map(([k, v]) => (k ? `${k}: ${v}` : v))
        .join("; ") || "Invalid data input",
    );
    this.name = "InvalidDataInput";
    this.fields = f;
  }
}

export class PermissionDenied extends Error {
  constructor(message = "Permission denied") {
    super(message);
    this.name = "PermissionDenied";
  }
}

export type HookErrorKind = "processing" | "invalid" | "denied";

/** Which typed hook error `err` is, or null for any other throw. */
export function hookErrorKind(err: unknown): HookErrorKind | null {
  if (!(err instanceof Error)) return null;
  switch (err.name) {
    case "ProcessingError":
      return "processing";
    case "InvalidDataInput":
      return "invalid";
    case "PermissionDenied":
      return "denied";
    default:
      return null;
  }
}
