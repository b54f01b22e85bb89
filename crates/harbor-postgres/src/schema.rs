//! The bus schema: its tables and functions, and the versioned migrations applied under an
//! advisory lock so that concurrent opens are safe.
//!
//! - `messages`: the log, one row per stored envelope (`seq` is the driver sequence, `txid`
//!   the publishing transaction), unique on `(task_id, edge, event_id)` for publish dedup
//!   (`task_id` is `''` when absent).
//! - `groups`: consumer groups by `(name, tenant)`; tenant `''` is the admin scope. `exact`
//!   holds plain edges, `patterns` the wildcard patterns as anchored regular expressions.
//!   `done`, `upto`, `pos_txid` and `pos_seq` are the group's read position in the log, and
//!   `from_seq` the first sequence a group started at a sequence reads (see
//!   [`claim_function`](crate::statements::claim_function)).
//! - `deliveries`: one row per (group, message) handed out and not yet settled: `vt` is
//!   when it may be claimed again (visibility timeout, nack delay), `attempts` how many
//!   deliveries were made (and the lease token a settle must name), `reason` the last nack
//!   reason.
//! - Every statement that stores envelopes (a publish batch, dead letters) sends one
//!   NOTIFY on the bus's channel; listeners wake their groups.
//!
//! Version 1 fanned each envelope out to a `deliveries` row per matching group in the
//! publishing transaction; version 2 has groups read the log instead, so a publish writes
//! one row whatever the number of groups. Migrating keeps every stored envelope and
//! delivery: existing groups are positioned after the envelopes already stored (they hold
//! deliveries for them), and those envelopes get a transaction id older than any snapshot,
//! so a new group at `Earliest` still reads them.

use deadpool_postgres::Pool;
use harbor_distributed::Error;

use crate::{errors, statements};

/// The schema version this driver writes.
pub(crate) const VERSION: i32 = 2;

/// Migration `n` (1-based) for `schema` notifying on `channel`.
fn migration(n: i32, schema: &str, channel: &str) -> Option<String> {
    let s = schema;
    match n {
        1 => Some(format!(
            r#"
CREATE TABLE {s}.messages (
    seq bigserial PRIMARY KEY,
    edge text NOT NULL,
    tenant text NOT NULL,
    user_id text NOT NULL,
    session_id text NOT NULL,
    run_id text,
    task_id text NOT NULL,
    event_id text NOT NULL,
    source text NOT NULL,
    target text NOT NULL,
    payload bytea NOT NULL,
    headers jsonb NOT NULL,
    meta jsonb NOT NULL,
    ts_secs bigint NOT NULL,
    ts_nanos integer NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (task_id, edge, event_id)
);
CREATE TABLE {s}.groups (
    id serial PRIMARY KEY,
    name text NOT NULL,
    tenant text NOT NULL,
    exact text[] NOT NULL,
    patterns text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, tenant)
);
CREATE TABLE {s}.deliveries (
    group_id integer NOT NULL,
    seq bigint NOT NULL,
    vt timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    reason text,
    PRIMARY KEY (group_id, seq)
) WITH (fillfactor = 70);
CREATE FUNCTION {s}.fan_out() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    ids text;
BEGIN
    WITH made AS (
        INSERT INTO {s}.deliveries (group_id, seq)
        SELECT g.id, n.seq
        FROM new_rows n
        JOIN {s}.groups g
          ON (g.tenant = '' OR g.tenant = n.tenant)
         AND (n.edge = ANY (g.exact) OR n.edge ~ ANY (g.patterns))
        RETURNING group_id
    )
    SELECT string_agg(DISTINCT group_id::text, ',') INTO ids FROM made;
    IF ids IS NOT NULL THEN
        PERFORM pg_notify('{channel}', ids);
    END IF;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER fan_out AFTER INSERT ON {s}.messages
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {s}.fan_out();
"#
        )),
        2 => Some(format!(
            r#"
DROP TRIGGER fan_out ON {s}.messages;
DROP FUNCTION {s}.fan_out();
ALTER TABLE {s}.messages ADD COLUMN txid xid8 NOT NULL DEFAULT '3';
ALTER TABLE {s}.messages ALTER COLUMN txid SET DEFAULT pg_current_xact_id();
CREATE INDEX messages_by_txid ON {s}.messages (txid, seq);
CREATE INDEX deliveries_due ON {s}.deliveries (group_id, vt);
ALTER TABLE {s}.groups
    ADD COLUMN done pg_snapshot NOT NULL DEFAULT pg_current_snapshot(),
    ADD COLUMN upto pg_snapshot,
    ADD COLUMN pos_txid xid8,
    ADD COLUMN pos_seq bigint,
    ADD COLUMN from_seq bigint NOT NULL DEFAULT 0;
{claim}
"#,
            claim = statements::claim_function(s, channel),
        )),
        _ => None,
    }
}

/// Creates the schema or brings it to [`VERSION`]. Concurrent callers serialise on a
/// transaction-scoped advisory lock keyed by the schema name; a schema written by a newer
/// driver is refused.
pub(crate) async fn migrate(pool: &Pool, schema: &str, channel: &str) -> Result<(), Error> {
    let versions = Versions {
        what: "bus",
        table: "schema_version",
        current: VERSION,
    };
    versions
        .migrate(pool, schema, |n| migration(n, schema, channel))
        .await
}

/// A set of tables versioned on their own in a schema: the bus's, the task store's.
pub(crate) struct Versions {
    /// What the tables are, for messages and the lock key (`bus`, `task store`).
    pub(crate) what: &'static str,
    /// The table holding the versions applied.
    pub(crate) table: &'static str,
    /// The version this driver writes.
    pub(crate) current: i32,
}

impl Versions {
    /// Creates the schema and the version table if needed, then applies `migration(n)` for
    /// every version after the one stored, all in one transaction under an advisory lock
    /// keyed by what and schema, so concurrent opens are safe; tables written by a newer
    /// driver are refused.
    pub(crate) async fn migrate(
        &self,
        pool: &Pool,
        schema: &str,
        migration: impl Fn(i32) -> Option<String>,
    ) -> Result<(), Error> {
        let (what, table) = (self.what, self.table);
        let mut client = pool.get().await.map_err(errors::pool)?;
        let tx = client.transaction().await.map_err(errors::backend)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            &[&format!("harbor-{what}:{schema}")],
        )
        .await
        .map_err(errors::backend)?;
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {schema};
             CREATE TABLE IF NOT EXISTS {schema}.{table} (
                 version integer NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );"
        ))
        .await
        .map_err(errors::backend)?;
        let row = tx
            .query_one(
                &format!("SELECT coalesce(max(version), 0) FROM {schema}.{table}"),
                &[],
            )
            .await
            .map_err(errors::backend)?;
        let stored: i32 = row.get(0);
        if stored > self.current {
            return Err(Error::InvalidConfig(format!(
                "the {what} tables in schema {schema} are at version {stored}, newer than this driver's {}; upgrade the driver or use another schema",
                self.current
            )));
        }
        for n in stored + 1..=self.current {
            if let Some(sql) = migration(n) {
                tx.batch_execute(&sql).await.map_err(errors::backend)?;
                tx.execute(
                    &format!("INSERT INTO {schema}.{table} (version) VALUES ($1)"),
                    &[&n],
                )
                .await
                .map_err(errors::backend)?;
                tracing::info!(schema, version = n, "{what} schema migrated");
            }
        }
        tx.commit().await.map_err(errors::backend)
    }
}
