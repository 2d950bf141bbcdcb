// Public types for hook authors: `import type { Hook, HookContext } from "edge-agent"`.
export type * from "./core/types.js";
