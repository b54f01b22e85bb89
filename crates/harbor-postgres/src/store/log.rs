//! The task log and the push outbox of [`PostgresTaskStore`]: appends, log reads, the
//! tasks executions hold, and push delivery cursors.

use std::time::Duration;

use async_trait::async_trait;
use harbor_a2a::{StreamResponse, Task, TaskPushNotificationConfig, TaskState};
use harbor_distributed::store::check_append;
use harbor_distributed::{Error, Fence, Leases, LogEntry, Owner, PushCursor, PushOutbox, TaskLog};
use prost::Message as _;
use tokio_postgres::types::ToSql;

use harbor_distributed::store::unreadable;

use super::{Columns, PostgresTaskStore, not_found, to_i64, to_u64};

/// Creates the task and its first entries, or does nothing when the id is taken. With a
/// fence (`$14` holder, `$15` epoch), the new task's lease is that fence's for `$16` ms,
/// unless the task is created finished.
const CREATE: &str = "\
WITH t AS (
    INSERT INTO {s}.tasks
        (id, tenant, user_id, context_id, state, stamped, stamp_secs, stamp_nanos, version, task,
         terminal_at, lease_holder, lease_epoch, lease_until)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $11 THEN now() END,
        CASE WHEN NOT $11 THEN $14::text END, coalesce($15::bigint, 0),
        CASE WHEN NOT $11 AND $14::text IS NOT NULL THEN now() + $16::bigint * interval '1 ms' END)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), l AS (
    INSERT INTO {s}.task_log (task_id, seq, event)
    SELECT t.id, e.seq, e.event FROM t, unnest($12::bigint[], $13::bytea[]) AS e (seq, event)
)
SELECT count(*) FROM t";

/// Stores the new projection and appends the entries, only if the task is still the
/// owner's at the expected version (`$16`) and, with a fence (`$14` holder, `$15` epoch),
/// still that fence's lease; the other parameters are [`CREATE`]'s. A finished task holds
/// no lease.
const APPEND: &str = "\
WITH t AS (
    UPDATE {s}.tasks SET
        context_id = $4, state = $5, stamped = $6, stamp_secs = $7, stamp_nanos = $8,
        version = $9, task = $10,
        terminal_at = CASE WHEN $11 THEN coalesce(terminal_at, now()) END,
        lease_holder = CASE WHEN $11 THEN NULL ELSE lease_holder END,
        lease_until = CASE WHEN $11 THEN NULL ELSE lease_until END
    WHERE id = $1 AND tenant = $2 AND user_id = $3 AND version = $16
        AND ($14::text IS NULL OR (lease_holder = $14 AND lease_epoch = $15))
    RETURNING id
), l AS (
    INSERT INTO {s}.task_log (task_id, seq, event)
    SELECT t.id, e.seq, e.event FROM t, unnest($12::bigint[], $13::bytea[]) AS e (seq, event)
)
SELECT count(*) FROM t";

impl PostgresTaskStore {
    /// [`TaskLog::append`], under `fence` when given (see [`Leases::append_fenced`]).
    async fn write(
        &self,
        owner: &Owner,
        task: &Task,
        expected_version: u64,
        events: &[StreamResponse],
        fence: Option<(&Fence, Duration)>,
    ) -> Result<u64, Error> {
        check_append(task, expected_version, events)?;
        if let Some((fence, _)) = fence
            && expected_version == 0
            && fence.epoch != 1
        {
            return Err(Error::InvalidArgument(format!(
                "a task is created under its first lease (epoch 1), not epoch {}",
                fence.epoch
            )));
        }
        let columns = Columns::of(task);
        let version = expected_version + events.len() as u64;
        let seqs: Vec<i64> = (expected_version + 1..=version).map(to_i64).collect();
        let bodies: Vec<Vec<u8>> = events.iter().map(|e| e.encode_to_vec()).collect();
        let (tenant, user) = (&*owner.tenant, &*owner.user);
        let new_version = to_i64(version);
        let holder: Option<&str> = fence.map(|(f, _)| &*f.holder);
        let epoch: Option<i64> = fence.map(|(f, _)| to_i64(f.epoch));
        let last = if expected_version == 0 {
            millis(fence.map_or(Duration::ZERO, |(_, ttl)| ttl))
        } else {
            to_i64(expected_version)
        };
        let params: [&(dyn ToSql + Sync); 16] = [
            &task.id,
            &tenant,
            &user,
            &columns.context_id,
            &columns.state,
            &columns.stamped,
            &columns.secs,
            &columns.nanos,
            &new_version,
            &columns.bytes,
            &columns.terminal,
            &seqs,
            &bodies,
            &holder,
            &epoch,
            &last,
        ];
        let statement = if expected_version == 0 {
            CREATE
        } else {
            APPEND
        };
        // One statement, one transaction: PostgreSQL flushes its WAL before answering.
        let started = std::time::Instant::now();
        let rows = self.db.query(statement, &params).await?;
        harbor_distributed::store::commits::record(1, started.elapsed());
        if rows[0].get::<_, i64>(0) == 1 {
            return Ok(version);
        }
        if expected_version == 0 {
            return Err(Error::AlreadyExists {
                task_id: task.id.clone(),
            });
        }
        let rows = self
            .db
            .query(
                "SELECT version, lease_holder, lease_epoch FROM {s}.tasks \
                 WHERE id = $1 AND tenant = $2 AND user_id = $3",
                &[&task.id, &tenant, &user],
            )
            .await?;
        let row = rows.first().ok_or_else(|| not_found(&task.id))?;
        let lease = (row.get::<_, Option<&str>>(1), to_u64(row.get(2)));
        if let Some((fence, _)) = fence
            && lease != (Some(&*fence.holder), fence.epoch)
        {
            return Err(Error::LeaseLost {
                task_id: task.id.clone(),
            });
        }
        Err(Error::VersionConflict {
            task_id: task.id.clone(),
            expected: expected_version,
            actual: to_u64(row.get(0)),
        })
    }
}

/// A time to live as whole milliseconds (at least 1).
fn millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1)
}

#[async_trait]
impl TaskLog for PostgresTaskStore {
    async fn append(
        &self,
        owner: &Owner,
        task: &Task,
        expected_version: u64,
        events: &[StreamResponse],
    ) -> Result<u64, Error> {
        self.write(owner, task, expected_version, events, None)
            .await
    }

    async fn read_log(
        &self,
        owner: &Owner,
        task_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, Error> {
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let rows = self
            .db
            .query(
                "SELECT l.seq, l.event FROM {s}.tasks t \
                 LEFT JOIN LATERAL (SELECT seq, event FROM {s}.task_log \
                     WHERE task_id = t.id AND seq > $4 ORDER BY seq LIMIT $5) l ON true \
                 WHERE t.id = $1 AND t.tenant = $2 AND t.user_id = $3",
                &[
                    &task_id,
                    &&*owner.tenant,
                    &&*owner.user,
                    &to_i64(after),
                    &limit,
                ],
            )
            .await?;
        if rows.is_empty() {
            return Err(not_found(task_id));
        }
        rows.iter()
            .filter_map(|row| Some((row.get::<_, Option<i64>>(0)?, row.get::<_, &[u8]>(1))))
            .map(|(seq, bytes)| {
                Ok(LogEntry {
                    sequence: to_u64(seq),
                    event: StreamResponse::decode(bytes)
                        .map_err(|e| unreadable(task_id, "log entry", &e))?,
                })
            })
            .collect()
    }

    async fn active_tasks(&self, after: &str, limit: usize) -> Result<Vec<(Owner, String)>, Error> {
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT tenant, user_id, id FROM {{s}}.tasks \
                     WHERE state IN ({}) AND id > $1 ORDER BY id LIMIT $2",
                    active_states()
                ),
                &[&after, &limit],
            )
            .await?;
        Ok(rows.iter().map(owned_id).collect())
    }

    fn leases(&self) -> Option<&dyn Leases> {
        Some(self)
    }
}

/// The terminal states, as stored, for the statements' `IN` lists.
fn terminal_states() -> String {
    [
        TaskState::Completed,
        TaskState::Failed,
        TaskState::Canceled,
        TaskState::Rejected,
    ]
    .map(|s| (s as i32).to_string())
    .join(", ")
}

/// The SUBMITTED and WORKING states, as stored, for the statements' `IN` lists.
fn active_states() -> String {
    format!(
        "{}, {}",
        TaskState::Submitted as i32,
        TaskState::Working as i32
    )
}

#[async_trait]
impl Leases for PostgresTaskStore {
    async fn acquire(
        &self,
        owner: &Owner,
        task_id: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Fence>, Error> {
        let rows = self
            .db
            .query(
                "UPDATE {s}.tasks SET lease_holder = $4, lease_epoch = lease_epoch + 1, \
                     lease_until = now() + $5::bigint * interval '1 ms' \
                 WHERE id = $1 AND tenant = $2 AND user_id = $3 AND (lease_holder IS NULL \
                     OR lease_holder = $4 OR lease_until IS NULL OR lease_until < now()) \
                 RETURNING lease_epoch",
                &[
                    &task_id,
                    &&*owner.tenant,
                    &&*owner.user,
                    &holder,
                    &millis(ttl),
                ],
            )
            .await?;
        self.taken(owner, task_id, holder, &rows).await
    }

    async fn hand_over(
        &self,
        owner: &Owner,
        task_id: &str,
        from: &Fence,
        to: &str,
        ttl: Duration,
    ) -> Result<Option<Fence>, Error> {
        let rows = self
            .db
            .query(
                "UPDATE {s}.tasks SET lease_holder = $6, lease_epoch = lease_epoch + 1, \
                     lease_until = now() + $7::bigint * interval '1 ms' \
                 WHERE id = $1 AND tenant = $2 AND user_id = $3 \
                     AND lease_holder = $4 AND lease_epoch = $5 \
                 RETURNING lease_epoch",
                &[
                    &task_id,
                    &&*owner.tenant,
                    &&*owner.user,
                    &&*from.holder,
                    &to_i64(from.epoch),
                    &to,
                    &millis(ttl),
                ],
            )
            .await?;
        self.taken(owner, task_id, to, &rows).await
    }

    async fn renew(&self, holder: &str, ttl: Duration) -> Result<u64, Error> {
        let rows = self
            .db
            .query(
                "WITH l AS (UPDATE {s}.tasks SET lease_until = now() + $2::bigint * interval '1 ms' \
                     WHERE lease_holder = $1 RETURNING 1), \
                 p AS (UPDATE {s}.push_cursors SET holder_until = now() + $2::bigint * interval '1 ms' \
                     WHERE holder = $1 RETURNING 1) \
                 SELECT (SELECT count(*) FROM l) + (SELECT count(*) FROM p)",
                &[&holder, &millis(ttl)],
            )
            .await?;
        Ok(to_u64(rows[0].get(0)))
    }

    async fn release(&self, task_id: &str, fence: &Fence) -> Result<(), Error> {
        self.db
            .query(
                "UPDATE {s}.tasks SET lease_holder = NULL, lease_until = NULL \
                 WHERE id = $1 AND lease_holder = $2 AND lease_epoch = $3",
                &[&task_id, &&*fence.holder, &to_i64(fence.epoch)],
            )
            .await
            .map(drop)
    }

    async fn append_fenced(
        &self,
        owner: &Owner,
        task: &Task,
        expected_version: u64,
        events: &[StreamResponse],
        fence: &Fence,
        ttl: Duration,
    ) -> Result<u64, Error> {
        self.write(owner, task, expected_version, events, Some((fence, ttl)))
            .await
    }

    async fn expired(&self, after: &str, limit: usize) -> Result<Vec<(Owner, String)>, Error> {
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT tenant, user_id, id FROM {{s}}.tasks \
                     WHERE state IN ({}) AND (lease_until IS NULL OR lease_until < now()) \
                     AND id > $1 ORDER BY id LIMIT $2",
                    active_states()
                ),
                &[&after, &limit],
            )
            .await?;
        Ok(rows.iter().map(owned_id).collect())
    }

    async fn hold_push(
        &self,
        task_id: &str,
        config_id: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<(), Error> {
        self.db
            .query(
                "UPDATE {s}.push_cursors SET holder = $3, \
                     holder_until = now() + $4::bigint * interval '1 ms' \
                 WHERE task_id = $1 AND config_id = $2",
                &[&task_id, &config_id, &holder, &millis(ttl)],
            )
            .await
            .map(drop)
    }

    async fn claim_pushes(
        &self,
        holder: &str,
        ttl: Duration,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error> {
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let rows = self
            .db
            .query(
                "UPDATE {s}.push_cursors k SET holder = $1, \
                     holder_until = now() + $2::bigint * interval '1 ms' \
                 WHERE (k.task_id, k.config_id) IN ( \
                     SELECT task_id, config_id FROM {s}.push_cursors \
                     WHERE holder IS NOT NULL AND holder_until < now() AND NOT dead \
                     ORDER BY task_id, config_id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING k.task_id, k.cursor",
                &[&holder, &millis(ttl), &limit],
            )
            .await?;
        rows.iter()
            .map(|row| decode_cursor(row.get(0), row.get(1)))
            .collect()
    }
}

/// The `(tenant, user_id, id)` of a row as an owner and a task id.
fn owned_id(row: &tokio_postgres::Row) -> (Owner, String) {
    let owner = Owner {
        tenant: row.get::<_, &str>(0).into(),
        user: row.get::<_, &str>(1).into(),
    };
    (owner, row.get::<_, String>(2))
}

/// A cursor as stored: JSON.
fn encode_cursor(cursor: &PushCursor) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(cursor).map_err(|e| Error::InvalidArgument(format!("push cursor: {e}")))
}

fn decode_cursor(task_id: &str, bytes: &[u8]) -> Result<PushCursor, Error> {
    serde_json::from_slice(bytes).map_err(|e| unreadable(task_id, "push cursor", &e))
}

impl PostgresTaskStore {
    /// The fence of `holder` from the `lease_epoch` a lease-taking statement returned; with
    /// no row, `None` if the task exists (the lease is someone else's), else TaskNotFound.
    async fn taken(
        &self,
        owner: &Owner,
        task_id: &str,
        holder: &str,
        rows: &[tokio_postgres::Row],
    ) -> Result<Option<Fence>, Error> {
        if let Some(row) = rows.first() {
            return Ok(Some(Fence {
                holder: holder.into(),
                epoch: to_u64(row.get(0)),
            }));
        }
        match self.db.version(owner, task_id).await? {
            Some(_) => Ok(None),
            None => Err(not_found(task_id)),
        }
    }

    /// Cursors after `after` in (task, config) order that pass `condition` (SQL over
    /// `k`, the cursor, and `t`, its task), at most `limit`.
    async fn cursors_where(
        &self,
        condition: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error> {
        let (task, config) = after.unwrap_or(("", ""));
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT k.task_id, k.cursor FROM {{s}}.push_cursors k \
                     JOIN {{s}}.tasks t ON t.id = k.task_id \
                     WHERE ({condition}) AND (k.task_id, k.config_id) > ($1, $2) \
                     ORDER BY k.task_id, k.config_id LIMIT $3"
                ),
                &[&task, &config, &limit],
            )
            .await?;
        rows.iter()
            .map(|row| decode_cursor(row.get(0), row.get(1)))
            .collect()
    }
}

#[async_trait]
impl PushOutbox for PostgresTaskStore {
    async fn track(
        &self,
        owner: &Owner,
        config: &TaskPushNotificationConfig,
        after: u64,
    ) -> Result<(), Error> {
        let cursor = PushCursor::new(owner.clone(), &config.task_id, &config.id, after);
        let rows = self
            .db
            .query(
                "WITH t AS (SELECT id FROM {s}.tasks WHERE id = $1 AND tenant = $2 AND user_id = $3), \
                 c AS (INSERT INTO {s}.push_configs (task_id, config_id, config) \
                       SELECT id, $4, $5 FROM t \
                       ON CONFLICT (task_id, config_id) DO UPDATE SET config = excluded.config \
                       RETURNING task_id), \
                 k AS (INSERT INTO {s}.push_cursors (task_id, config_id, dead, delivered, cursor) \
                       SELECT task_id, $4, false, $6, $7 FROM c \
                       ON CONFLICT (task_id, config_id) DO UPDATE \
                       SET dead = false, delivered = excluded.delivered, cursor = excluded.cursor) \
                 SELECT count(*) FROM t",
                &[
                    &config.task_id,
                    &&*owner.tenant,
                    &&*owner.user,
                    &config.id,
                    &config.encode_to_vec(),
                    &to_i64(after),
                    &encode_cursor(&cursor)?,
                ],
            )
            .await?;
        match rows[0].get::<_, i64>(0) {
            0 => Err(not_found(&config.task_id)),
            _ => Ok(()),
        }
    }

    async fn cursor(
        &self,
        owner: &Owner,
        task_id: &str,
        config_id: &str,
    ) -> Result<Option<PushCursor>, Error> {
        let rows = self
            .db
            .query(
                "SELECT k.cursor FROM {s}.tasks t \
                 LEFT JOIN {s}.push_cursors k ON k.task_id = t.id AND k.config_id = $4 \
                 WHERE t.id = $1 AND t.tenant = $2 AND t.user_id = $3",
                &[&task_id, &&*owner.tenant, &&*owner.user, &config_id],
            )
            .await?;
        let row = rows.first().ok_or_else(|| not_found(task_id))?;
        row.get::<_, Option<&[u8]>>(0)
            .map(|bytes| decode_cursor(task_id, bytes))
            .transpose()
    }

    async fn save(&self, cursor: &PushCursor) -> Result<(), Error> {
        // A cursor with nothing left to deliver (dead, or all of a finished task delivered)
        // ends its push hold (see `Leases::hold_push`), in the same statement.
        let rows = self
            .db
            .query(
                &format!(
                    "WITH t AS (SELECT id, version <= $6 AND state IN ({}) AS finished \
                           FROM {{s}}.tasks WHERE id = $1 AND tenant = $2 AND user_id = $3), \
                     c AS (SELECT task_id, config_id FROM {{s}}.push_configs \
                           WHERE task_id IN (SELECT id FROM t) AND config_id = $4), \
                     k AS (INSERT INTO {{s}}.push_cursors (task_id, config_id, dead, delivered, cursor) \
                           SELECT task_id, config_id, $5, $6, $7 FROM c \
                           ON CONFLICT (task_id, config_id) DO UPDATE \
                           SET dead = excluded.dead, delivered = excluded.delivered, cursor = excluded.cursor, \
                               holder = CASE WHEN $5 OR (SELECT finished FROM t) THEN NULL \
                                   ELSE {{s}}.push_cursors.holder END, \
                               holder_until = CASE WHEN $5 OR (SELECT finished FROM t) THEN NULL \
                                   ELSE {{s}}.push_cursors.holder_until END) \
                     SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM c)",
                    terminal_states()
                ),
                &[
                    &cursor.task_id,
                    &&*cursor.owner.tenant,
                    &&*cursor.owner.user,
                    &cursor.config_id,
                    &cursor.dead.is_some(),
                    &to_i64(cursor.delivered),
                    &encode_cursor(cursor)?,
                ],
            )
            .await?;
        match (rows[0].get::<_, i64>(0), rows[0].get::<_, i64>(1)) {
            (0, _) => Err(not_found(&cursor.task_id)),
            (_, 0) => Err(super::config_not_found(&cursor.task_id, &cursor.config_id)),
            _ => Ok(()),
        }
    }

    async fn live_cursors(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error> {
        let terminal = terminal_states();
        self.cursors_where(
            &format!("NOT k.dead AND (k.delivered < t.version OR t.state NOT IN ({terminal}))"),
            after,
            limit,
        )
        .await
    }

    async fn dead_letters(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error> {
        self.cursors_where("k.dead", after, limit).await
    }
}
