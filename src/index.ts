// Public types for hook authors: `import type { Hook, HookContext } from "edge-agent"`.

export type { Config } from "./config/schema.js";
export type { AlarmListQuery, KpiPeriod } from "./core/ports.js";
export type * from "./core/types.js";
export type {
  Hook,
  HookClass,
  HookContext,
  HookHttp,
  HookHttpRequest,
  HookHttpResponse,
  HookKv,
  HookModule,
} from "./hooks/types.js";
