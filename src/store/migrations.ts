// Schema migrations, applied in order inside one transaction each; `user_version` records the last.
// Append only: never edit a migration that has shipped.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "initial",
    sql: `
      CREATE TABLE alarms (
        id            TEXT PRIMARY KEY,
        rule_id       TEXT NOT NULL,
        device_id     TEXT NOT NULL,
        status        INTEGER NOT NULL,
        level         INTEGER NOT NULL,
        created       INTEGER NOT NULL,
        updated       INTEGER NOT NULL,
        resolved_at   INTEGER,
        upstream_id   TEXT,
        work_order_id TEXT,
        doc           TEXT NOT NULL
      ) STRICT;
      -- one open episode per (rule, device)
      CREATE UNIQUE INDEX alarms_open ON alarms(rule_id, device_id) WHERE status > 0;
      CREATE INDEX alarms_status_updated ON alarms(status, updated);
      CREATE INDEX alarms_device ON alarms(device_id, created);

      CREATE TABLE outbox (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        kind          TEXT NOT NULL,
        class         TEXT NOT NULL,
        stream        TEXT NOT NULL,
        alarm_id      TEXT,
        payload       TEXT NOT NULL,
        state         TEXT NOT NULL DEFAULT 'pending',
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_at       INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        created       INTEGER NOT NULL,
        done_at       INTEGER
      ) STRICT;
      CREATE INDEX outbox_pending ON outbox(state, stream, seq);
      CREATE INDEX outbox_class ON outbox(state, class, seq);

      CREATE TABLE kv (
        ns    TEXT NOT NULL,
        key   TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (ns, key)
      ) STRICT;

      CREATE TABLE rule_state (
        rule_id     TEXT NOT NULL,
        device_id   TEXT NOT NULL,
        state       TEXT NOT NULL,
        PRIMARY KEY (rule_id, device_id)
      ) STRICT;

      CREATE TABLE quota_usage (
        quota_id      TEXT NOT NULL,
        period_start  INTEGER NOT NULL,
        usage         REAL NOT NULL,
        last_value    REAL,
        last_ts       INTEGER,
        crossed       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (quota_id, period_start)
      ) STRICT;
    `,
  },
  {
    version: 10,
    name: "outbox-lookups",
    sql: `
      -- per-alarm stream lookups (work-order create exists?) regardless of state
      CREATE INDEX outbox_stream ON outbox(stream, seq);
      -- retention purge of settled rows
      CREATE INDEX outbox_done ON outbox(state, done_at);
    `,
  },
  {
    version: 11,
    name: "alarm-periods-operator-alarms-firings",
    sql: `
      -- silenced repeats of an alarm (new episodes within the rule's period of its raise)
      ALTER TABLE alarms ADD COLUMN recurrences INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE alarms ADD COLUMN last_recurrence INTEGER;
      -- status of the silenced repeat still going on (0: none), so a restart neither counts it twice nor raises it
      ALTER TABLE alarms ADD COLUMN repeating INTEGER NOT NULL DEFAULT 0;
      -- product key and origin, for /alert/list?key= and operator alarms
      ALTER TABLE alarms ADD COLUMN product TEXT NOT NULL DEFAULT '';
      UPDATE alarms SET product = COALESCE(CASE WHEN json_valid(doc) THEN json_extract(doc, '$.resource.product') END, '');
      -- operator alarms (rule_id '') are not rule episodes: any number of them may be open per device
      DROP INDEX alarms_open;
      CREATE UNIQUE INDEX alarms_open ON alarms(rule_id, device_id) WHERE status > 0 AND rule_id <> '';
      -- last raise of a (rule, device), for the rule's period after a restart
      CREATE INDEX alarms_rule_device ON alarms(rule_id, device_id, created);

      -- firings of rules with actions.alarm false: not alarms (never listed nor sent as alarms), the
      -- local record their work order and period hang on. Same columns as alarms, so one repository serves both.
      CREATE TABLE firings (
        id              TEXT PRIMARY KEY,
        rule_id         TEXT NOT NULL,
        device_id       TEXT NOT NULL,
        status          INTEGER NOT NULL,
        level           INTEGER NOT NULL,
        created         INTEGER NOT NULL,
        updated         INTEGER NOT NULL,
        resolved_at     INTEGER,
        upstream_id     TEXT,
        work_order_id   TEXT,
        doc             TEXT NOT NULL,
        recurrences     INTEGER NOT NULL DEFAULT 0,
        last_recurrence INTEGER,
        repeating       INTEGER NOT NULL DEFAULT 0,
        product         TEXT NOT NULL DEFAULT ''
      ) STRICT;
      CREATE INDEX firings_rule_device ON firings(rule_id, device_id, created);
      CREATE INDEX firings_open ON firings(status) WHERE status > 0;
    `,
  },
  {
    version: 12,
    name: "tasks",
    sql: `
      -- the last slot each task ran for: a slot is never run twice, whatever the clock does
      CREATE TABLE task_state (
        task_id   TEXT PRIMARY KEY,
        last_slot INTEGER NOT NULL,
        updated   INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE task_runs (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id  TEXT NOT NULL,
        slot     INTEGER NOT NULL,
        trigger  TEXT NOT NULL,
        started  INTEGER NOT NULL,
        ended    INTEGER,
        status   TEXT NOT NULL,
        actions  TEXT NOT NULL
      ) STRICT;
      CREATE INDEX task_runs_task ON task_runs(task_id, id);
    `,
  },
  {
    version: 13,
    name: "maintenance",
    sql: `
      -- devices in maintenance set at run time (API, CLI, page, hooks); config's maintenance is not here
      CREATE TABLE device_maintenance (
        device_id TEXT PRIMARY KEY,
        since     INTEGER NOT NULL,
        until     INTEGER,
        reason    TEXT NOT NULL DEFAULT '',
        by        TEXT NOT NULL DEFAULT ''
      ) STRICT;
      -- why an alarm was kept local (e.g. 'maintenance'): nothing about it goes upstream
      ALTER TABLE alarms ADD COLUMN suppressed TEXT;
      ALTER TABLE firings ADD COLUMN suppressed TEXT;
    `,
  },
  {
    version: 14,
    name: "day-stats",
    sql: `
      -- one row per closed local day and device ('' holds the quotas' usage), doc is JSON; the row
      -- (date 'open', device '') holds the running day's accumulators between restarts
      CREATE TABLE day_stats (
        date      TEXT NOT NULL,
        device_id TEXT NOT NULL,
        doc       TEXT NOT NULL,
        PRIMARY KEY (date, device_id)
      ) STRICT;
    `,
  },
];
