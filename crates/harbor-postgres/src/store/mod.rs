//! `PostgresTaskStore`: tasks, their event logs and push delivery cursors in PostgreSQL, so
//! any number of `harbor serve` replicas share them.
//!
//! Every write is one statement (so one round trip and one transaction): an append updates
//! the task's row only if it is still at the expected version, and inserts the log entries
//! in the same statement, so the projection and its log never disagree and two writers of
//! one task cannot both win. Reads check the owner in the same statement as the data:
//! another owner's task is [`Error::TaskNotFound`], never a different answer.
//!
//! Tasks are stored as protobuf (what every store keeps); the columns beside them
//! (owner, context, state, status timestamp) serve ListTasks from its indexes, newest
//! status first, with cursors that stay valid while tasks are written. See
//! [`schema`](self::schema) for the tables.
//!
//! Retention runs in the background when configured ([`StoreOptions::retention`]):
//! finished tasks' logs are compacted to the projection after `retention.log` (not while a
//! live push cursor still reads them), finished tasks are deleted after `retention.task`. The
//! clock is the database's, so replicas agree on it, and several replicas pruning at once
//! skip each other's rows.

mod db;
mod log;
mod options;
mod retention;
mod schema;

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use async_trait::async_trait;
use harbor_a2a::{Task, TaskPushNotificationConfig, TaskState};
use harbor_distributed::store::{
    PageCursor, check_page_size, decode_task, fits_page, snapshot, sort_key, unreadable,
};
use harbor_distributed::{Error, Owner, StoredTask, TaskLog, TaskPage, TaskQuery, TaskStore};
use prost::Message as _;
use tokio_postgres::types::ToSql;
use tokio_util::sync::CancellationToken;

use crate::PostgresBusConfig;
use db::Db;
use db::{to_i64, to_u64};
pub use harbor_distributed::store::Retention;
pub use options::{DEFAULT_LOG_RETENTION, StoreOptions};

/// The tasks, logs and push cursors of every replica, in a PostgreSQL schema.
pub struct PostgresTaskStore {
    db: Arc<Db>,
    /// Stops the retention task when the store is dropped.
    stop: CancellationToken,
}

impl std::fmt::Debug for PostgresTaskStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresTaskStore")
            .field("config", &self.db.config)
            .field("options", &self.db.options)
            .finish_non_exhaustive()
    }
}

impl Drop for PostgresTaskStore {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl PostgresTaskStore {
    /// Opens the store at `url` (the bus's URL syntax: `schema`, `pool_size` and
    /// `connect_timeout` apply; see the crate docs).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a bad URL or a schema written by a newer version;
    /// [`Error::Backend`] when the server cannot be reached.
    pub async fn connect(url: &str, options: StoreOptions) -> Result<Self, Error> {
        Self::with_config(PostgresBusConfig::from_url(url)?, options).await
    }

    /// Opens the store with `config`: creates or migrates its tables, and starts retention
    /// when `options` ask for any.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect).
    pub async fn with_config(
        config: PostgresBusConfig,
        options: StoreOptions,
    ) -> Result<Self, Error> {
        config.validate()?;
        let pool = crate::core::build_pool(&config, config.server_config()?)?;
        schema::migrate(&pool, &config.schema).await?;
        let db = Arc::new(Db {
            pool,
            schema: config.schema.clone(),
            options,
            config,
        });
        let stop = CancellationToken::new();
        if let Some(every) = db.options.prune_every() {
            tokio::spawn(retention::run(Arc::clone(&db), every, stop.clone()));
        }
        Ok(Self { db, stop })
    }

    /// Deletes finished tasks past `retention.task` now; returns how many.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the database fails.
    pub async fn prune(&self) -> Result<u64, Error> {
        retention::prune(&self.db).await
    }

    /// Compacts the logs of finished tasks past `retention.log` now; returns how many.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the database fails.
    pub async fn compact_logs(&self) -> Result<u64, Error> {
        retention::compact_logs(&self.db).await
    }
}

/// The parameters of a statement built piece by piece.
#[derive(Default)]
struct Params(Vec<Box<dyn ToSql + Sync + Send>>);

impl Params {
    /// Adds `value`; returns its placeholder.
    fn bind(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.0.push(Box::new(value));
        format!("${}", self.0.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// The columns a task's row keeps beside its bytes.
struct Columns {
    context_id: String,
    state: i32,
    stamped: bool,
    secs: i64,
    nanos: i32,
    terminal: bool,
    bytes: Vec<u8>,
}

impl Columns {
    fn of(task: &Task) -> Self {
        let stamped = task.status.as_ref().is_some_and(|s| s.timestamp.is_some());
        let (secs, nanos) = split_nanos(sort_key(task).0);
        Self {
            context_id: task.context_id.clone(),
            state: task.state() as i32,
            stamped,
            secs,
            nanos,
            terminal: task.state().is_terminal(),
            bytes: task.encode_to_vec(),
        }
    }
}

/// Nanoseconds since the epoch as whole seconds and the nanoseconds past them (0..1e9),
/// which sort as the total does.
fn split_nanos(total: i128) -> (i64, i32) {
    let secs = total.div_euclid(1_000_000_000);
    let nanos = total.rem_euclid(1_000_000_000);
    let secs = i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX });
    (secs, i32::try_from(nanos).unwrap_or(0))
}

fn join_nanos(secs: i64, nanos: i32) -> i128 {
    i128::from(secs) * 1_000_000_000 + i128::from(nanos)
}

fn not_found(task_id: &str) -> Error {
    Error::TaskNotFound {
        task_id: task_id.to_owned(),
    }
}

fn config_not_found(task_id: &str, id: &str) -> Error {
    Error::PushConfigNotFound {
        task_id: task_id.to_owned(),
        id: id.to_owned(),
    }
}

#[async_trait]
impl TaskStore for PostgresTaskStore {
    async fn create(&self, owner: &Owner, task: Task) -> Result<u64, Error> {
        self.append(owner, &task, 0, &snapshot(&task)).await
    }

    async fn get(&self, owner: &Owner, task_id: &str) -> Result<StoredTask, Error> {
        let rows = self
            .db
            .query(
                "SELECT version, task FROM {s}.tasks WHERE id = $1 AND tenant = $2 AND user_id = $3",
                &[&task_id, &&*owner.tenant, &&*owner.user],
            )
            .await?;
        let row = rows.first().ok_or_else(|| not_found(task_id))?;
        Ok(StoredTask {
            task: decode_task(task_id, row.get(1))?,
            owner: owner.clone(),
            version: to_u64(row.get(0)),
        })
    }

    async fn update(&self, owner: &Owner, task: Task, expected_version: u64) -> Result<u64, Error> {
        if expected_version == 0 {
            // Version 0 never exists: an update naming it is stale, never a create.
            let actual = self
                .db
                .version(owner, &task.id)
                .await?
                .ok_or_else(|| not_found(&task.id))?;
            return Err(Error::VersionConflict {
                task_id: task.id,
                expected: 0,
                actual,
            });
        }
        self.append(owner, &task, expected_version, &snapshot(&task))
            .await
    }

    async fn list(&self, owner: &Owner, query: &TaskQuery) -> Result<TaskPage, Error> {
        let page_size = check_page_size(query.page_size)?;
        let after = PageCursor::parse(&query.page_token)?;
        let mut params = Params::default();
        let mut filter = format!(
            "tenant = {} AND user_id = {}",
            params.bind(owner.tenant.to_string()),
            params.bind(owner.user.to_string())
        );
        if let Some(context) = &query.context_id {
            filter += &format!(" AND context_id = {}", params.bind(context.clone()));
        }
        if let Some(state) = query.status {
            filter += &format!(" AND state = {}", params.bind(state as i32));
        }
        if let Some(since) = query.status_after {
            let nanos = match since.duration_since(UNIX_EPOCH) {
                Ok(d) => d.as_nanos() as i128,
                Err(e) => -(e.duration().as_nanos() as i128),
            };
            let (secs, nanos) = split_nanos(nanos);
            let (s, n) = (params.bind(secs), params.bind(nanos));
            filter += &format!(" AND stamped AND (stamp_secs, stamp_nanos) >= ({s}, {n})");
        }
        let count_params = params.0.len();
        let mut page_filter = filter.clone();
        if let Some(cursor) = &after {
            let (secs, nanos) = split_nanos(cursor.nanos);
            let (s, n) = (params.bind(secs), params.bind(nanos));
            let i = params.bind(cursor.id.clone());
            page_filter += &format!(" AND (stamp_secs, stamp_nanos, id) < ({s}, {n}, {i})");
        }
        let limit = params.bind(i64::try_from(page_size + 1).unwrap_or(i64::MAX));
        let refs = params.refs();
        let total = self
            .db
            .query(
                &format!("SELECT count(*) FROM {{s}}.tasks WHERE {filter}"),
                &refs[..count_params],
            )
            .await?;
        let rows = self
            .db
            .query(
                &format!(
                    "SELECT id, stamp_secs, stamp_nanos, task FROM {{s}}.tasks WHERE {page_filter} \
                     ORDER BY stamp_secs DESC, stamp_nanos DESC, id DESC LIMIT {limit}"
                ),
                &refs,
            )
            .await?;
        let mut tasks = Vec::new();
        let (mut taken, mut seen) = (0, 0);
        let mut last: Option<PageCursor> = None;
        for row in rows.iter().take(page_size) {
            let bytes: &[u8] = row.get(3);
            if !fits_page(query.max_bytes, tasks.len(), taken, bytes.len()) {
                break;
            }
            let id: &str = row.get(0);
            seen += 1;
            last = Some(PageCursor {
                nanos: join_nanos(row.get(1), row.get(2)),
                id: id.to_owned(),
            });
            // A row that does not decode is reported (logged) and left out of the page: it
            // never fails the listing for the others.
            if let Ok(task) = decode_task(id, bytes) {
                taken += bytes.len();
                tasks.push(task);
            }
        }
        let next_page_token = match last {
            Some(last) if seen < rows.len() => last.encode(),
            _ => String::new(),
        };
        Ok(TaskPage {
            tasks,
            next_page_token,
            total_size: to_u64(total[0].get(0)),
        })
    }

    async fn put_push_config(
        &self,
        owner: &Owner,
        config: TaskPushNotificationConfig,
    ) -> Result<(), Error> {
        let rows = self
            .db
            .query(
                "WITH t AS (SELECT id FROM {s}.tasks WHERE id = $1 AND tenant = $2 AND user_id = $3), \
                 c AS (INSERT INTO {s}.push_configs (task_id, config_id, config) \
                       SELECT id, $4, $5 FROM t \
                       ON CONFLICT (task_id, config_id) DO UPDATE SET config = excluded.config) \
                 SELECT count(*) FROM t",
                &[
                    &config.task_id,
                    &&*owner.tenant,
                    &&*owner.user,
                    &config.id,
                    &config.encode_to_vec(),
                ],
            )
            .await?;
        match rows[0].get::<_, i64>(0) {
            0 => Err(not_found(&config.task_id)),
            _ => Ok(()),
        }
    }

    async fn get_push_config(
        &self,
        owner: &Owner,
        task_id: &str,
        id: &str,
    ) -> Result<TaskPushNotificationConfig, Error> {
        let rows = self
            .db
            .query(
                "SELECT c.config FROM {s}.tasks t \
                 LEFT JOIN {s}.push_configs c ON c.task_id = t.id AND c.config_id = $4 \
                 WHERE t.id = $1 AND t.tenant = $2 AND t.user_id = $3",
                &[&task_id, &&*owner.tenant, &&*owner.user, &id],
            )
            .await?;
        let row = rows.first().ok_or_else(|| not_found(task_id))?;
        let bytes: Option<&[u8]> = row.get(0);
        let bytes = bytes.ok_or_else(|| config_not_found(task_id, id))?;
        TaskPushNotificationConfig::decode(bytes)
            .map_err(|e| unreadable(task_id, "push config", &e))
    }

    async fn list_push_configs(
        &self,
        owner: &Owner,
        task_id: &str,
    ) -> Result<Vec<TaskPushNotificationConfig>, Error> {
        let rows = self
            .db
            .query(
                "SELECT c.config FROM {s}.tasks t \
                 LEFT JOIN {s}.push_configs c ON c.task_id = t.id \
                 WHERE t.id = $1 AND t.tenant = $2 AND t.user_id = $3 ORDER BY c.config_id",
                &[&task_id, &&*owner.tenant, &&*owner.user],
            )
            .await?;
        if rows.is_empty() {
            return Err(not_found(task_id));
        }
        rows.iter()
            .filter_map(|row| row.get::<_, Option<&[u8]>>(0))
            .map(|bytes| {
                TaskPushNotificationConfig::decode(bytes)
                    .map_err(|e| unreadable(task_id, "push config", &e))
            })
            .collect()
    }

    async fn delete_push_config(
        &self,
        owner: &Owner,
        task_id: &str,
        id: &str,
    ) -> Result<(), Error> {
        let rows = self
            .db
            .query(
                "WITH t AS (SELECT id FROM {s}.tasks WHERE id = $1 AND tenant = $2 AND user_id = $3), \
                 d AS (DELETE FROM {s}.push_configs WHERE task_id IN (SELECT id FROM t) AND config_id = $4) \
                 SELECT count(*) FROM t",
                &[&task_id, &&*owner.tenant, &&*owner.user, &id],
            )
            .await?;
        match rows[0].get::<_, i64>(0) {
            0 => Err(not_found(task_id)),
            _ => Ok(()),
        }
    }

    /// One `GROUP BY` over every task: it reads the whole table, so scrape it no more often
    /// than an operator's gauge needs.
    async fn count_by_state(&self) -> Result<Option<Vec<(TaskState, u64)>>, Error> {
        let rows = self
            .db
            .query("SELECT state, count(*) FROM {s}.tasks GROUP BY state", &[])
            .await?;
        Ok(Some(harbor_distributed::state_counts(rows.iter().map(
            |row| {
                let state = TaskState::try_from(row.get::<_, i32>(0)).unwrap_or_default();
                (state, u64::try_from(row.get::<_, i64>(1)).unwrap_or(0))
            },
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_nanos_sorts_as_the_total() {
        let totals = [
            -1_500_000_001_i128,
            -1,
            0,
            1,
            999_999_999,
            1_000_000_000,
            1_700_000_000_123_456_789,
        ];
        for pair in totals.windows(2) {
            assert!(split_nanos(pair[0]) < split_nanos(pair[1]), "{pair:?}");
        }
        for total in totals {
            let (s, n) = split_nanos(total);
            assert_eq!(join_nanos(s, n), total);
            assert!((0..1_000_000_000).contains(&n));
        }
    }
}
