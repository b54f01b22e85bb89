//! The embedded [`TaskStore`] and [`TaskLog`]: tasks, their event logs and push configs in
//! redb tables of the data directory.
//!
//! Every write commits in a redb write transaction with [`redb::Durability::Immediate`]:
//! when the call returns, the task's new log entries, the task itself (their projection),
//! its index rows and its owner's count are on disk together. Writes go through one writer
//! thread that commits whatever writes are queued in one transaction (group commit: one
//! fsync for the appends of many tasks), running them in order, so the version check of an
//! append and its write are never interleaved with another write: of two writers holding
//! the same version, the second gets [`Error::VersionConflict`]. Appends are encoded on the
//! caller's thread, so the writer only copies bytes. Reads run on tokio's blocking pool in
//! read transactions (snapshots), never on a runtime worker.
//!
//! # Tables
//!
//! | table | key | value |
//! |---|---|---|
//! | `harbor_store_tasks` | task id | owner, version, index fields, prost-encoded task |
//! | `harbor_store_log` | (task id, sequence) | prost-encoded `StreamResponse` |
//! | `harbor_store_index` | (tenant, user, facet, status nanos, task id) | (state, has timestamp) |
//! | `harbor_store_counts` | (tenant, user) | number of tasks |
//! | `harbor_store_states` | task state | number of tasks in it, over every owner |
//! | `harbor_store_terminal` | (terminal since, task id) | — |
//! | `harbor_store_owner_terminal` | (tenant, user, terminal since, task id) | — |
//! | `harbor_store_log_kept` | (terminal since, task id) | — (finished tasks whose log is kept) |
//! | `harbor_store_active` | task id | (tenant, user) of tasks SUBMITTED or WORKING |
//! | `harbor_store_push` | (task id, config id) | prost-encoded push config |
//! | `harbor_store_push_state` | (task id, config id) | JSON `PushCursor`: how far delivery got |
//!
//! A task's version is the sequence of its last log entry, so a row and its log agree by
//! construction; a [`create`](TaskStore::create) or [`update`](TaskStore::update) appends
//! the task's snapshot as one entry.
//!
//! Task ids are unique across owners (the contract makes a second create of an id
//! `AlreadyExists` whoever asks), so the task and push tables are keyed by id, and the
//! owner check reads the task row: another owner's task is [`Error::TaskNotFound`].
//!
//! Each task has three index rows, one per facet: `all`, `context:<id>` and
//! `state:<n>`. A list reads one facet's range backwards (newest status first, then the
//! larger id, the order of the reference memory store), bounded below by `status_after`
//! and above by the page cursor; a context-and-state query filters the state from the
//! index value. `total_size` is the stored count when nothing filters, otherwise a
//! key-only count over the range.
//!
//! # Example
//!
//! ```
//! use harbor_a2a::{Task, TaskState, TaskStatus};
//! use harbor_distributed::{Owner, TaskQuery, TaskStore};
//! use harbor_embedded::{Embedded, EmbeddedConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), harbor_distributed::Error> {
//! # let dir = tempfile::tempdir().expect("tempdir");
//! let engine = Embedded::open(EmbeddedConfig::new(dir.path()))?;
//! let store = engine.task_store();
//! let owner = Owner { tenant: "acme".into(), user: "ada".into() };
//! let mut task = Task {
//!     id: "task-1".into(),
//!     context_id: "ctx-1".into(),
//!     status: Some(TaskStatus { state: TaskState::Submitted as i32, ..TaskStatus::default() }),
//!     ..Task::default()
//! };
//! let version = store.create(&owner, task.clone()).await?;
//! task.status = Some(TaskStatus { state: TaskState::Working as i32, ..TaskStatus::default() });
//! assert_eq!(store.update(&owner, task, version).await?, 2);
//! let page = store.list(&owner, &TaskQuery { page_size: 10, ..TaskQuery::default() }).await?;
//! assert_eq!((page.tasks.len(), page.total_size), (1, 1));
//! # Ok(())
//! # }
//! ```
//!
//! # Retention
//!
//! See [`StoreConfig`] and its [`Retention`]: terminal tasks can expire after
//! `retention.task` (counted on the store's clock from the write that made them terminal)
//! and an owner can be capped; expired tasks go with their index rows, logs and push
//! configs. The log of a finished task is compacted to its projection after
//! `retention.log` (5 minutes by default): the task stays, only the entries go. [`EmbeddedTaskStore::prune`] and [`EmbeddedTaskStore::compact_logs`] work
//! on demand; with either setting on, a background thread does both every
//! `prune_interval`.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use harbor_a2a::{StreamResponse, Task, TaskPushNotificationConfig, TaskState};
use harbor_distributed::store::check_append;
use harbor_distributed::{
    Error, LogEntry, Owner, PushCursor, PushOutbox, StoredTask, TaskLog, TaskPage, TaskQuery,
    TaskStore,
};
use redb::{Database, TableHandle};
use tracing::Span;

mod config;
#[cfg(test)]
mod consistency_tests;
mod cursor;
mod list;
mod push;
mod retention;
mod tables;
mod tasks;
#[cfg(test)]
mod unreadable_tests;
mod writer;

pub use config::{DEFAULT_LOG_RETENTION, StoreConfig};
pub use harbor_distributed::store::Retention;

#[cfg(feature = "fuzzing")]
pub(crate) use tables::decode_task as decode_task_row;

use crate::errors::backend;

/// A durable [`TaskStore`] in the data directory's redb file; see the [module docs](self).
///
/// Reads run on tokio's blocking pool, so calls must be made inside a tokio runtime.
/// Dropping the store waits for queued writes and a running prune to finish.
pub struct EmbeddedTaskStore {
    db: Arc<Database>,
    config: StoreConfig,
    writer: writer::Writer,
    _pruner: Option<retention::Pruner>,
}

impl fmt::Debug for EmbeddedTaskStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedTaskStore")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl EmbeddedTaskStore {
    /// Opens the task tables of `db`, creating them when missing, and starts the writer
    /// thread, and the pruning thread when `config.retention` sets either time.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the tables cannot be created or a thread cannot start.
    pub fn new(db: Arc<Database>, config: StoreConfig) -> Result<Self, Error> {
        // Create every table now, so read transactions never meet a missing one.
        let txn = tasks::begin_write(&db)?;
        let existing: Vec<String> = txn
            .list_tables()
            .map_err(backend)?
            .map(|t| t.name().to_owned())
            .collect();
        let lacks = |name: &str| !existing.iter().any(|t| t == name);
        let (no_active, no_states) = (lacks(tables::ACTIVE.name()), lacks(tables::STATES.name()));
        let mut opened = tables::Tables::open(&txn)?;
        // A file from before a derived table: fill it from the task rows, once.
        if no_active {
            opened.fill_active()?;
        }
        if no_states {
            opened.fill_states()?;
        }
        drop(opened);
        txn.commit().map_err(backend)?;
        let pruner = match config.prune_every() {
            Some(every) => Some(retention::Pruner::start(&db, config.clone(), every)?),
            None => None,
        };
        Ok(Self {
            writer: writer::Writer::start(Arc::clone(&db))?,
            db,
            config,
            _pruner: pruner,
        })
    }

    /// The settings this store was opened with.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Deletes what retention allows as of `now`: terminal tasks stored terminal longer ago
    /// than `retention.task`, and each owner's oldest terminal tasks beyond
    /// `max_tasks_per_owner`, each with its index rows and push configs. Returns how many
    /// tasks were deleted; with neither setting it deletes nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the database fails; batches committed before it stay done.
    pub async fn prune(&self, now: SystemTime) -> Result<u64, Error> {
        let config = self.config.clone();
        let span = tracing::debug_span!("store.prune");
        self.blocking(span, move |db| retention::prune(db, &config, now))
            .await
    }

    /// Compacts the event logs of tasks that finished more than `retention.log` before
    /// `now` to their projections (the tasks stay); returns how many logs were compacted.
    /// With `retention.log` unset it compacts nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the database fails; batches committed before it stay done.
    pub async fn compact_logs(&self, now: SystemTime) -> Result<u64, Error> {
        let config = self.config.clone();
        let span = tracing::debug_span!("store.compact_logs");
        self.blocking(span, move |db| retention::compact_logs(db, &config, now))
            .await
    }

    /// Runs `work` on the blocking pool inside `span`.
    async fn blocking<T: Send + 'static>(
        &self,
        span: Span,
        work: impl FnOnce(&Database) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let db = Arc::clone(&self.db);
        crate::blocking::blocking(move || span.in_scope(|| work(&db))).await
    }
}

#[async_trait]
impl TaskStore for EmbeddedTaskStore {
    async fn create(&self, owner: &Owner, task: Task) -> Result<u64, Error> {
        harbor_distributed::store::check_task(&task)?;
        let (owner, config) = (owner.clone(), self.config.clone());
        let span = tracing::debug_span!("store.create", task_id = %task.id);
        let task = tasks::Append::snapshot(&task);
        self.writer
            .write(span, move |tables| {
                tasks::create(tables, &config, &owner, &task)
            })
            .await
    }

    async fn get(&self, owner: &Owner, task_id: &str) -> Result<StoredTask, Error> {
        let (owner, task_id) = (owner.clone(), task_id.to_owned());
        let span = tracing::debug_span!("store.get", task_id = %task_id);
        self.blocking(span, move |db| tasks::get(db, &owner, &task_id))
            .await
    }

    async fn update(&self, owner: &Owner, task: Task, expected_version: u64) -> Result<u64, Error> {
        harbor_distributed::store::check_task(&task)?;
        let (owner, config) = (owner.clone(), self.config.clone());
        let span = tracing::debug_span!("store.update", task_id = %task.id, expected_version);
        let task = tasks::Append::snapshot(&task);
        self.writer
            .write(span, move |tables| {
                tasks::update(tables, &config, &owner, &task, expected_version)
            })
            .await
    }

    async fn list(&self, owner: &Owner, query: &TaskQuery) -> Result<TaskPage, Error> {
        let (owner, query) = (owner.clone(), query.clone());
        let span = tracing::debug_span!("store.list", page_size = query.page_size);
        self.blocking(span, move |db| list::list(db, &owner, &query))
            .await
    }

    async fn put_push_config(
        &self,
        owner: &Owner,
        config: TaskPushNotificationConfig,
    ) -> Result<(), Error> {
        let owner = owner.clone();
        let span = tracing::debug_span!("store.put_push_config", task_id = %config.task_id);
        self.writer
            .write(span, move |tables| push::put(tables, &owner, &config))
            .await
    }

    async fn get_push_config(
        &self,
        owner: &Owner,
        task_id: &str,
        id: &str,
    ) -> Result<TaskPushNotificationConfig, Error> {
        let (owner, task_id, id) = (owner.clone(), task_id.to_owned(), id.to_owned());
        let span = tracing::debug_span!("store.get_push_config", task_id = %task_id);
        self.blocking(span, move |db| push::get(db, &owner, &task_id, &id))
            .await
    }

    async fn list_push_configs(
        &self,
        owner: &Owner,
        task_id: &str,
    ) -> Result<Vec<TaskPushNotificationConfig>, Error> {
        let (owner, task_id) = (owner.clone(), task_id.to_owned());
        let span = tracing::debug_span!("store.list_push_configs", task_id = %task_id);
        self.blocking(span, move |db| push::list(db, &owner, &task_id))
            .await
    }

    async fn delete_push_config(
        &self,
        owner: &Owner,
        task_id: &str,
        id: &str,
    ) -> Result<(), Error> {
        let (owner, task_id, id) = (owner.clone(), task_id.to_owned(), id.to_owned());
        let span = tracing::debug_span!("store.delete_push_config", task_id = %task_id);
        self.writer
            .write(span, move |tables| {
                push::delete(tables, &owner, &task_id, &id)
            })
            .await
    }

    async fn count_by_state(&self) -> Result<Option<Vec<(TaskState, u64)>>, Error> {
        let span = tracing::debug_span!("store.count_by_state");
        self.blocking(span, tasks::count_by_state).await.map(Some)
    }
}

#[async_trait]
impl TaskLog for EmbeddedTaskStore {
    async fn append(
        &self,
        owner: &Owner,
        task: &Task,
        expected_version: u64,
        events: &[StreamResponse],
    ) -> Result<u64, Error> {
        check_append(task, expected_version, events)?;
        let (owner, config) = (owner.clone(), self.config.clone());
        let span = tracing::debug_span!(
            "store.append",
            task_id = %task.id,
            expected_version,
            events = events.len()
        );
        // Encoded here, on the caller's thread: the writer thread is the one serial step.
        let append = tasks::Append::new(task, events);
        self.writer
            .write(span, move |tables| {
                tasks::append(tables, &config, &owner, &append, expected_version)
            })
            .await
    }

    async fn read_log(
        &self,
        owner: &Owner,
        task_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, Error> {
        let (owner, task_id) = (owner.clone(), task_id.to_owned());
        let span = tracing::debug_span!("store.read_log", task_id = %task_id, after);
        self.blocking(span, move |db| {
            tasks::read_log(db, &owner, &task_id, after, limit)
        })
        .await
    }

    async fn active_tasks(&self, after: &str, limit: usize) -> Result<Vec<(Owner, String)>, Error> {
        let after = after.to_owned();
        let span = tracing::debug_span!("store.active_tasks");
        self.blocking(span, move |db| tasks::active(db, &after, limit))
            .await
    }
}

#[async_trait]
impl PushOutbox for EmbeddedTaskStore {
    async fn track(
        &self,
        owner: &Owner,
        config: &TaskPushNotificationConfig,
        after: u64,
    ) -> Result<(), Error> {
        let cursor = PushCursor::new(owner.clone(), &config.task_id, &config.id, after);
        let body = push::encoded(&cursor)?;
        let (owner, config) = (owner.clone(), config.clone());
        let span = tracing::debug_span!("store.track_push", task_id = %config.task_id);
        self.writer
            .write(span, move |tables| {
                push::put(tables, &owner, &config)?;
                push::save(tables, &cursor, &body)
            })
            .await
    }

    async fn cursor(
        &self,
        owner: &Owner,
        task_id: &str,
        config_id: &str,
    ) -> Result<Option<PushCursor>, Error> {
        let (owner, task_id, id) = (owner.clone(), task_id.to_owned(), config_id.to_owned());
        let span = tracing::debug_span!("store.push_cursor", task_id = %task_id);
        self.blocking(span, move |db| push::cursor(db, &owner, &task_id, &id))
            .await
    }

    async fn save(&self, cursor: &PushCursor) -> Result<(), Error> {
        let body = push::encoded(cursor)?;
        let cursor = cursor.clone();
        let span = tracing::debug_span!("store.save_push_cursor", task_id = %cursor.task_id);
        self.writer
            .write(span, move |tables| push::save(tables, &cursor, &body))
            .await
    }

    async fn live_cursors(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error> {
        let after = after.map(|(t, c)| (t.to_owned(), c.to_owned()));
        let span = tracing::debug_span!("store.live_push_cursors");
        self.blocking(span, move |db| {
            let after = after.as_ref().map(|(t, c)| (t.as_str(), c.as_str()));
            push::cursors(db, after, limit, |cursor, version, finished| {
                cursor.dead.is_none() && (cursor.delivered < version || !finished)
            })
        })
        .await
    }

    async fn dead_letters(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error> {
        let after = after.map(|(t, c)| (t.to_owned(), c.to_owned()));
        let span = tracing::debug_span!("store.push_dead_letters");
        self.blocking(span, move |db| {
            let after = after.as_ref().map(|(t, c)| (t.as_str(), c.as_str()));
            push::cursors(db, after, limit, |cursor, _, _| cursor.dead.is_some())
        })
        .await
    }
}
