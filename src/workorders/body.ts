// Work-order request bodies (docs/upstream.md). The create payload is decided when the alarm is raised
// and stored in the outbox (store/outbox-payloads.ts); the bytes are produced here at send time:
// compact JSON with non-ASCII kept as UTF-8 (JSON.stringify never escapes it), optional fields
// omitted when empty, and the 64-bit orderId spliced in as a bare integer from its exact decimal
// text. `areaId` is an integer the platform always expects: 0 when the device has none, a decimal
// string written as a bare integer.

import { NO_AREA_ID, type WorkOrderCreatePayload } from "../store/outbox-payloads.js";
import { isIntegerText } from "./json-raw.js";

/** A decimal integer that is also valid JSON number syntax (no leading zeros). */
const JSON_INTEGER = /^-?(?:0|[1-9]\d*)$/;

const ORDER: readonly (keyof WorkOrderCreatePayload)[] = [
  "title",
  "areaId",
  "alarmId",
  "alarmType",
  "description",
  "priority",
  "triggerSource",
  "cameraId",
  "imageUrl",
];

/**
 * Exact body bytes of a create request; keys in the API's order, empty optional fields omitted,
 * `areaId` always present (rows queued before it was always set get 0).
 */
export function createBody(p: WorkOrderCreatePayload): string {
  const parts: string[] = [];
  for (const k of ORDER) {
    let v: unknown = p[k];
    if (k === "areaId") {
      if (v === undefined || v === null || v === "") v = NO_AREA_ID;
      if (typeof v === "string" && JSON_INTEGER.test(v)) {
        parts.push(`"areaId":${v}`);
        continue;
      }
    }
    if (v === undefined || v === null || v === "") continue;
    parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
  }
  return `{${parts.join(",")}}`;
}

/** Exact body bytes of an auto-complete request, with orderId a bare JSON integer. */
export function completeBody(orderId: string, remark: string): string {
  if (!isIntegerText(orderId)) throw new TypeError(`work-order id ${JSON.stringify(orderId)} is not an integer`);
  return `{"orderId":${orderId},"remark":${JSON.stringify(remark)}}`;
}
