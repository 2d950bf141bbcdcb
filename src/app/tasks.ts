// Scheduled tasks as parts of the agent (docs/tasks.md): the task files' loader that fills the tasks
// in force, the scheduler over them with its table, and the parts its actions go through. Started
// after hooks and the sources (Modbus writes and the MQTT client are attached by then), stopped before them.

import type { Dispatcher } from "undici";
import type { ResolvedConfig } from "../config/defaults.js";
import type { Clock } from "../core/clock.js";
import type { EventBus } from "../core/events.js";
import type { Part } from "../core/lifecycle.js";
import type { Logger } from "../core/log.js";
import type { AlarmOperator, AlarmQueries, HookInvoker, ModbusWriter, MqttPublisher } from "../core/ports.js";
import type { Db } from "../store/db.js";
import { TasksRepo } from "../store/tasks-repo.js";
import { TaskFiles } from "../tasks/admin.js";
import { taskCheckContext } from "../tasks/check-context.js";
import { TasksLoader } from "../tasks/loader.js";
import { TaskScheduler } from "../tasks/scheduler.js";
import { TaskSet } from "../tasks/types.js";

export interface TaskParts {
  /** The loader, then the scheduler, in start order. */
  parts: Part[];
  /** The tasks in force. */
  set: TaskSet;
  /** Task changes through the local API, checked and written like task files. */
  files: TaskFiles;
  /** What the local API, the status page and the CLI ask of the running scheduler. */
  scheduler: TaskScheduler;
  repo: TasksRepo;
}

export function taskParts(o: {
  config: ResolvedConfig;
  db: Db;
  clock: Clock;
  log: Logger;
  events: EventBus;
  modbus?: ModbusWriter | undefined;
  mqtt?: MqttPublisher | undefined;
  http?: Dispatcher | undefined;
  hooks?: HookInvoker | undefined;
  alarms?: { operator: AlarmOperator; queries: AlarmQueries } | undefined;
}): TaskParts {
  const set = new TaskSet();
  const log = o.log.child({ module: "tasks" });
  // Task files are checked against this config and the hooks present at each check.
  const context = () => taskCheckContext(o.config);
  const loader = new TasksLoader({ dir: o.config.tasksDir, taskSet: set, log, clock: o.clock, context });
  const files = new TaskFiles({ loader, taskSet: set, log, context });
  const repo = new TasksRepo(o.db);
  const scheduler = new TaskScheduler({
    tasks: set,
    repo,
    clock: o.clock,
    log,
    events: o.events,
    timezone: o.config.timezone,
    runsPerTask: o.config.tasks.runsPerTask,
    runRetentionDays: o.config.tasks.runRetentionDays,
    ports: { modbus: o.modbus, mqtt: o.mqtt, http: o.http, hooks: o.hooks, alarms: o.alarms },
  });
  return {
    parts: [
      { name: "task files", part: loader },
      { name: "tasks", part: scheduler },
    ],
    set,
    files,
    scheduler,
    repo,
  };
}
