// Public types for hook authors: `import type { Hook, HookContext } from "edge-agent"`, and the typed
// errors a hook throws to refuse something: `import { PermissionDenied } from "edge-agent"`.

export type { Config } from "./config/schema.js";
export {
  type HookErrorKind,
  hookErrorKind,
  InvalidDataInput,
  PermissionDenied,
  ProcessingError,
} from "./core/hook-errors.js";
export type { NotificationOutcome } from "./core/notify-ports.js";
export type {
  AlarmListQuery,
  ApiRequest,
  DayStats,
  KpiPeriod,
  MetricDayStats,
} from "./core/ports.js";
export type * from "./core/types.js";
export type {
  Hook,
  HookClass,
  HookContext,
  HookErrors,
  HookHttp,
  HookHttpRequest,
  HookHttpResponse,
  HookKv,
  HookModule,
  HookStatusChange,
} from "./hooks/types.js";
export type { ChannelName, NotificationMessage, RecipientGroup, RecipientUser } from "./notify/types.js";
export type { TaskAction, TaskDefinition, TaskRun, TaskSchedule } from "./tasks/types.js";
