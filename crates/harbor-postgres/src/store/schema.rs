//! The task store's tables, versioned apart from the bus's (`store_version`), in the same
//! schema, migrated under a transaction-scoped advisory lock so concurrent opens are safe.
//!
//! - `tasks`: one row per task, its projection as protobuf (`task`), the write `version`
//!   (the sequence of its last log entry), its owner, and the columns ListTasks filters and
//!   sorts by: `context_id`, `state`, and the status timestamp as whole seconds and
//!   nanoseconds (`stamp_secs`, `stamp_nanos`, zero and `stamped = false` when the status
//!   has none). `terminal_at` is when the row was first stored terminal (the database's
//!   clock, so every replica agrees), `log_compacted` whether retention dropped its log.
//!   Ids sort by byte (`COLLATE "C"`), as every other store sorts them.
//! - `task_log`: the events, one row per `(task_id, seq)`, as protobuf `StreamResponse`s.
//! - `push_configs`: one row per `(task_id, config_id)`, the config as protobuf.
//!   `lease_holder`, `lease_epoch` and `lease_until` are the execution lease (migration 2;
//!   see [`Leases`](harbor_distributed::Leases)): who runs the task, the fencing epoch
//!   (never lowered, so a new holder always gets a new epoch), and until when (the
//!   database's clock); holder and deadline are cleared when the execution releases the
//!   lease or the task ends.
//! - `push_cursors`: where delivery of a config stands (the cursor as JSON, with `dead`
//!   and `delivered` beside it for the queries); deleted with its config. `holder` and
//!   `holder_until` (migration 2) name the process delivering it and until when, cleared
//!   once nothing is left to deliver.

use deadpool_postgres::Pool;
use harbor_a2a::TaskState;
use harbor_distributed::Error;

/// The store schema version this driver writes.
pub(crate) const VERSION: i32 = 2;

/// Migration `n` (1-based) in `schema`.
fn migration(n: i32, s: &str) -> Option<String> {
    let (submitted, working) = (TaskState::Submitted as i32, TaskState::Working as i32);
    match n {
        1 => Some(format!(
            r#"
CREATE TABLE {s}.tasks (
    id text COLLATE "C" PRIMARY KEY,
    tenant text NOT NULL,
    user_id text NOT NULL,
    context_id text NOT NULL,
    state integer NOT NULL,
    stamped boolean NOT NULL,
    stamp_secs bigint NOT NULL,
    stamp_nanos integer NOT NULL,
    version bigint NOT NULL,
    task bytea NOT NULL,
    terminal_at timestamptz,
    log_compacted boolean NOT NULL DEFAULT false
);
CREATE INDEX tasks_by_owner ON {s}.tasks
    (tenant, user_id, stamp_secs DESC, stamp_nanos DESC, id DESC);
CREATE INDEX tasks_by_context ON {s}.tasks
    (tenant, user_id, context_id, stamp_secs DESC, stamp_nanos DESC, id DESC);
CREATE INDEX tasks_active ON {s}.tasks (id) WHERE state IN ({submitted}, {working});
CREATE INDEX tasks_terminal ON {s}.tasks (terminal_at) WHERE terminal_at IS NOT NULL;
CREATE INDEX tasks_log_due ON {s}.tasks (terminal_at)
    WHERE terminal_at IS NOT NULL AND NOT log_compacted;
CREATE TABLE {s}.task_log (
    task_id text COLLATE "C" NOT NULL REFERENCES {s}.tasks (id) ON DELETE CASCADE,
    seq bigint NOT NULL,
    event bytea NOT NULL,
    PRIMARY KEY (task_id, seq)
);
CREATE TABLE {s}.push_configs (
    task_id text COLLATE "C" NOT NULL REFERENCES {s}.tasks (id) ON DELETE CASCADE,
    config_id text COLLATE "C" NOT NULL,
    config bytea NOT NULL,
    PRIMARY KEY (task_id, config_id)
);
CREATE TABLE {s}.push_cursors (
    task_id text COLLATE "C" NOT NULL,
    config_id text COLLATE "C" NOT NULL,
    dead boolean NOT NULL,
    delivered bigint NOT NULL,
    cursor bytea NOT NULL,
    PRIMARY KEY (task_id, config_id),
    FOREIGN KEY (task_id, config_id) REFERENCES {s}.push_configs ON DELETE CASCADE
);
"#
        )),
        2 => Some(format!(
            r#"
ALTER TABLE {s}.tasks
    ADD COLUMN lease_holder text,
    ADD COLUMN lease_epoch bigint NOT NULL DEFAULT 0,
    ADD COLUMN lease_until timestamptz;
CREATE INDEX tasks_by_lease_holder ON {s}.tasks (lease_holder) WHERE lease_holder IS NOT NULL;
ALTER TABLE {s}.push_cursors
    ADD COLUMN holder text,
    ADD COLUMN holder_until timestamptz;
CREATE INDEX push_cursors_by_holder ON {s}.push_cursors (holder) WHERE holder IS NOT NULL;
"#
        )),
        _ => None,
    }
}

/// Creates the store's tables or brings them to [`VERSION`]; tables written by a newer
/// driver are refused.
pub(crate) async fn migrate(pool: &Pool, schema: &str) -> Result<(), Error> {
    let versions = crate::schema::Versions {
        what: "task store",
        table: "store_version",
        current: VERSION,
    };
    versions
        .migrate(pool, schema, |n| migration(n, schema))
        .await
}
