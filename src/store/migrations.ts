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
];
