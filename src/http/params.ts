// Query-string parameters of the local API, checked strictly: a wrong type or an unknown enum value
// is a 400 naming the field, never silently replaced by a default.

import { missing } from "./errors.js";

export { alarmShape as alertShape } from "../alarms/shape.js";
export { LIST_LIMIT_DEFAULT as DEFAULT_LIST_LIMIT, LIST_LIMIT_MAX as MAX_LIST_LIMIT } from "../store/alarms-repo.js";
// One definition of the alarm list query: kept where the routes use it.
export { type ParsedAlarmList, parseAlarmList } from "./routes/alarms.js";

export function requiredString(q: URLSearchParams, name: string): string {
  const raw = q.get(name);
  if (raw === null || raw.trim() === "") throw missing(name);
  return raw;
}
