// Platform-style object ids (the platform's ObjectId): 4 bytes of seconds since the epoch then 8
// random bytes, 24 hex digits; given to rules and tasks added through the local API without an id.

import { randomBytes } from "node:crypto";

export function objectId(nowMs: number): string {
  const secs = Math.floor(nowMs / 1000) >>> 0;
  return secs.toString(16).padStart(8, "0") + randomBytes(8).toString("hex");
}
