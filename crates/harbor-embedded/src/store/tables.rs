//! The redb tables of the task store and the rows one task owns in them.
//!
//! A task id is unique across owners (a second create of the same id by anyone is
//! `AlreadyExists`), so the task table is keyed by id alone and its row names the owner.
//! Every other table starts its key with what a lookup knows first: the owner for lists,
//! the store's clock for pruning, the task id for push configs (whose owner check reads the
//! task row anyway).

use harbor_a2a::{StreamResponse, Task, TaskState};
use harbor_distributed::{Error, LogEntry, Owner};
use prost::Message;
use redb::{ReadableTable, Table, TableDefinition, WriteTransaction};

use crate::errors::{backend, failure};

/// The task row: owner, version, the fields the indexes are keyed by, and the encoded task.
/// `(tenant, user, version, status nanos, has timestamp, context id, state, terminal since,
/// prost-encoded Task)`.
type Row<'a> = (
    &'a str,
    &'a str,
    u64,
    i128,
    bool,
    &'a str,
    i32,
    Option<u64>,
    &'a [u8],
);

/// Task id → [`Row`].
pub(super) const TASKS: TableDefinition<&str, Row<'static>> =
    TableDefinition::new("harbor_store_tasks");
/// `(tenant, user, facet, nanos, id)` → [`IndexValue`]: each task once per [`Facet`], so
/// every list is one range of this table, already in list order (read backwards).
pub(super) const INDEX: TableDefinition<(&str, &str, &str, i128, &str), IndexValue> =
    TableDefinition::new("harbor_store_index");
/// `(terminal since, id)` → `()`: terminal tasks, oldest first, for the TTL.
pub(super) const TERMINAL: TableDefinition<(u64, &str), ()> =
    TableDefinition::new("harbor_store_terminal");
/// `(tenant, user, terminal since, id)` → `()`: an owner's terminal tasks, for the cap.
pub(super) const OWNER_TERMINAL: TableDefinition<(&str, &str, u64, &str), ()> =
    TableDefinition::new("harbor_store_owner_terminal");
/// `(tenant, user)` → how many tasks the owner has (no row for zero).
pub(super) const COUNTS: TableDefinition<(&str, &str), u64> =
    TableDefinition::new("harbor_store_counts");
/// Task state (proto number) → how many tasks are in it, over every owner (no row for
/// zero): the operator's gauge, kept by every write that changes a task's state.
pub(super) const STATES: TableDefinition<i32, u64> = TableDefinition::new("harbor_store_states");
/// `(task id, config id)` → prost-encoded `TaskPushNotificationConfig`.
pub(super) const PUSH: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("harbor_store_push");
/// `(task id, config id)` → JSON `PushCursor`: where push delivery of each config stands.
pub(super) const PUSH_STATE: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("harbor_store_push_state");
/// `(task id, sequence)` → prost-encoded `StreamResponse`: each task's event log.
pub(super) const LOG: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("harbor_store_log");
/// Task id → `(tenant, user)`: tasks SUBMITTED or WORKING, which an execution holds, for
/// recovering executions lost with their process.
pub(super) const ACTIVE: TableDefinition<&str, (&str, &str)> =
    TableDefinition::new("harbor_store_active");
/// `(terminal since, task id)` → `()`: finished tasks whose log is still kept, oldest
/// first, for log compaction.
pub(super) const LOG_KEPT: TableDefinition<(u64, &str), ()> =
    TableDefinition::new("harbor_store_log_kept");

/// The index partition a list reads: all of an owner's tasks, those of one context, or
/// those in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Facet<'a> {
    All,
    Context(&'a str),
    State(i32),
}

impl Facet<'_> {
    /// The facet column of the index key.
    pub(super) fn key(&self) -> String {
        match self {
            Self::All => "all".to_owned(),
            Self::Context(context) => format!("context:{context}"),
            Self::State(state) => format!("state:{state}"),
        }
    }
}

/// What an index row carries so every filter is decided without reading the task:
/// `(state, has a status timestamp)`.
pub(super) type IndexValue = (i32, bool);

/// A task row without its encoded task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Meta {
    pub(super) tenant: String,
    pub(super) user: String,
    pub(super) version: u64,
    /// Status timestamp in nanoseconds since the epoch; 0 when there is none.
    pub(super) nanos: i128,
    pub(super) stamped: bool,
    pub(super) context: String,
    pub(super) state: i32,
    /// The store's clock (nanoseconds since the epoch) when the task was stored terminal.
    pub(super) terminal_since: Option<u64>,
}

/// A task encoded for its row, with the fields its index rows are keyed by. Built before a
/// write is queued, so the single writer thread only copies bytes.
#[derive(Debug)]
pub(super) struct Encoded {
    pub(super) id: String,
    body: Vec<u8>,
    nanos: Option<i128>,
    context: String,
    state: i32,
}

impl Encoded {
    pub(super) fn of(task: &Task) -> Self {
        Self {
            id: task.id.clone(),
            body: task.encode_to_vec(),
            nanos: super::cursor::status_nanos(task),
            context: task.context_id.clone(),
            state: task.status.as_ref().map_or(0, |s| s.state),
        }
    }

    /// The row fields of this task stored by `owner` at `version`; `now` is the store's
    /// clock.
    pub(super) fn meta(&self, owner: &Owner, version: u64, now: u64) -> Meta {
        let terminal = TaskState::try_from(self.state).is_ok_and(TaskState::is_terminal);
        Meta {
            tenant: owner.tenant.to_string(),
            user: owner.user.to_string(),
            version,
            nanos: self.nanos.unwrap_or(0),
            stamped: self.nanos.is_some(),
            context: self.context.clone(),
            state: self.state,
            terminal_since: terminal.then_some(now),
        }
    }
}

impl Meta {
    /// SUBMITTED or WORKING: an execution has the task in hand.
    pub(super) fn is_active(&self) -> bool {
        TaskState::try_from(self.state).is_ok_and(TaskState::is_active)
    }

    pub(super) fn owned_by(&self, owner: &Owner) -> bool {
        *self.tenant == *owner.tenant && *self.user == *owner.user
    }

    fn from_row(row: &Row<'_>) -> Self {
        let (tenant, user, version, nanos, stamped, context, state, terminal_since, _) = *row;
        Self {
            tenant: tenant.to_owned(),
            user: user.to_owned(),
            version,
            nanos,
            stamped,
            context: context.to_owned(),
            state,
            terminal_since,
        }
    }

    /// The facet keys the task is indexed under.
    fn facets(&self) -> [String; 3] {
        [
            Facet::All.key(),
            Facet::Context(&self.context).key(),
            Facet::State(self.state).key(),
        ]
    }

    fn index_value(&self) -> IndexValue {
        (self.state, self.stamped)
    }
}

/// Reads the row of `id`: its meta and, when `with_task`, the decoded task.
pub(super) fn read_row(
    table: &impl ReadableTable<&'static str, Row<'static>>,
    id: &str,
    with_task: bool,
) -> Result<Option<(Meta, Option<Task>)>, Error> {
    let Some(guard) = table.get(id).map_err(backend)? else {
        return Ok(None);
    };
    let row = guard.value();
    let task = if with_task {
        Some(decode_task(id, row.8)?)
    } else {
        None
    };
    Ok(Some((Meta::from_row(&row), task)))
}

/// The task stored as `body` under `id` (see [`harbor_distributed::store::decode_task`]).
pub(crate) use harbor_distributed::store::decode_task;

/// A task as a list reads it: its stored size, and the task or why it does not decode.
pub(super) type SizedTask = (usize, Result<Task, Error>);

/// The stored size of the task `id` and the task itself (or why it does not decode);
/// `None` when there is no such row.
pub(super) fn read_sized(
    table: &impl ReadableTable<&'static str, Row<'static>>,
    id: &str,
) -> Result<Option<SizedTask>, Error> {
    let Some(guard) = table.get(id).map_err(backend)? else {
        return Ok(None);
    };
    let row = guard.value();
    Ok(Some((row.8.len(), decode_task(id, row.8))))
}

/// A stored value that no longer decodes: the file was damaged or written by other code.
pub(super) fn corrupt(error: prost::DecodeError) -> Error {
    failure(error)
}

/// At most `limit` log entries of `id` after `after`, oldest first.
pub(super) fn read_log(
    table: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
    id: &str,
    after: u64,
    limit: usize,
) -> Result<Vec<LogEntry>, Error> {
    let Some(first) = after.checked_add(1) else {
        return Ok(Vec::new());
    };
    let mut entries = Vec::new();
    for row in table
        .range::<(&str, u64)>((id, first)..=(id, u64::MAX))
        .map_err(backend)?
        .take(limit)
    {
        let (key, value) = row.map_err(backend)?;
        entries.push(LogEntry {
            sequence: key.value().1,
            event: StreamResponse::decode(value.value()).map_err(corrupt)?,
        });
    }
    Ok(entries)
}

/// Every table of the store, open in one write transaction.
pub(super) struct Tables<'txn> {
    pub(super) tasks: Table<'txn, &'static str, Row<'static>>,
    index: Table<'txn, (&'static str, &'static str, &'static str, i128, &'static str), IndexValue>,
    pub(super) terminal: Table<'txn, (u64, &'static str), ()>,
    pub(super) owner_terminal: Table<'txn, (&'static str, &'static str, u64, &'static str), ()>,
    pub(super) counts: Table<'txn, (&'static str, &'static str), u64>,
    states: Table<'txn, i32, u64>,
    pub(super) push: Table<'txn, (&'static str, &'static str), &'static [u8]>,
    pub(super) push_state: Table<'txn, (&'static str, &'static str), &'static [u8]>,
    pub(super) log: Table<'txn, (&'static str, u64), &'static [u8]>,
    pub(super) log_kept: Table<'txn, (u64, &'static str), ()>,
    active: Table<'txn, &'static str, (&'static str, &'static str)>,
}

impl<'txn> Tables<'txn> {
    /// Opens (creating when missing) every table.
    pub(super) fn open(txn: &'txn WriteTransaction) -> Result<Self, Error> {
        Ok(Self {
            tasks: txn.open_table(TASKS).map_err(backend)?,
            index: txn.open_table(INDEX).map_err(backend)?,
            terminal: txn.open_table(TERMINAL).map_err(backend)?,
            owner_terminal: txn.open_table(OWNER_TERMINAL).map_err(backend)?,
            counts: txn.open_table(COUNTS).map_err(backend)?,
            states: txn.open_table(STATES).map_err(backend)?,
            push: txn.open_table(PUSH).map_err(backend)?,
            push_state: txn.open_table(PUSH_STATE).map_err(backend)?,
            log: txn.open_table(LOG).map_err(backend)?,
            log_kept: txn.open_table(LOG_KEPT).map_err(backend)?,
            active: txn.open_table(ACTIVE).map_err(backend)?,
        })
    }

    /// Fills the active table from the task rows (for a file written before it existed).
    pub(super) fn fill_active(&mut self) -> Result<(), Error> {
        let mut active = Vec::new();
        for row in self.tasks.iter().map_err(backend)? {
            let (id, row) = row.map_err(backend)?;
            let meta = Meta::from_row(&row.value());
            if meta.is_active() {
                active.push((id.value().to_owned(), meta));
            }
        }
        for (id, meta) in &active {
            self.active
                .insert(id.as_str(), (meta.tenant.as_str(), meta.user.as_str()))
                .map_err(backend)?;
        }
        Ok(())
    }

    /// Fills the state counts from the task rows (for a file written before they were
    /// kept).
    pub(super) fn fill_states(&mut self) -> Result<(), Error> {
        let mut counts = std::collections::BTreeMap::<i32, u64>::new();
        for row in self.tasks.iter().map_err(backend)? {
            let (_, row) = row.map_err(backend)?;
            *counts
                .entry(Meta::from_row(&row.value()).state)
                .or_default() += 1;
        }
        for (state, count) in counts {
            self.states.insert(state, count).map_err(backend)?;
        }
        Ok(())
    }

    /// Moves one task's count from state `from` (`None`: a new task) to state `to`
    /// (`None`: a deleted task).
    pub(super) fn count_state(&mut self, from: Option<i32>, to: Option<i32>) -> Result<(), Error> {
        if from == to {
            return Ok(());
        }
        if let Some(state) = from {
            match self.in_state(state)? {
                0 | 1 => self.states.remove(state).map(drop),
                n => self.states.insert(state, n - 1).map(drop),
            }
            .map_err(backend)?;
        }
        if let Some(state) = to {
            let n = self.in_state(state)?;
            self.states.insert(state, n + 1).map_err(backend)?;
        }
        Ok(())
    }

    /// How many tasks are in `state`.
    fn in_state(&self, state: i32) -> Result<u64, Error> {
        Ok(self
            .states
            .get(state)
            .map_err(backend)?
            .map_or(0, |g| g.value()))
    }

    /// The row of `id`, without decoding the task.
    pub(super) fn meta(&self, id: &str) -> Result<Option<Meta>, Error> {
        Ok(read_row(&self.tasks, id, false)?.map(|(meta, _)| meta))
    }

    /// Writes the task row and its index rows. The caller has removed the old index rows.
    pub(super) fn put(&mut self, meta: &Meta, task: &Encoded) -> Result<(), Error> {
        let id = task.id.as_str();
        let row: Row<'_> = (
            &meta.tenant,
            &meta.user,
            meta.version,
            meta.nanos,
            meta.stamped,
            &meta.context,
            meta.state,
            meta.terminal_since,
            &task.body,
        );
        self.tasks.insert(id, row).map_err(backend)?;
        let (t, u, n, v) = (
            meta.tenant.as_str(),
            meta.user.as_str(),
            meta.nanos,
            meta.index_value(),
        );
        for facet in meta.facets() {
            self.index
                .insert((t, u, facet.as_str(), n, id), v)
                .map_err(backend)?;
        }
        if let Some(since) = meta.terminal_since {
            self.terminal.insert((since, id), ()).map_err(backend)?;
            self.owner_terminal
                .insert((t, u, since, id), ())
                .map_err(backend)?;
            // Kept across updates: `unindex` leaves it, compaction and `delete` take it.
            self.log_kept.insert((since, id), ()).map_err(backend)?;
        }
        if meta.is_active() {
            self.active.insert(id, (t, u)).map_err(backend)?;
        }
        Ok(())
    }

    /// Writes `events` (encoded) as the log entries of `id` from sequence `first` on.
    pub(super) fn append_log(
        &mut self,
        id: &str,
        first: u64,
        events: &[Vec<u8>],
    ) -> Result<(), Error> {
        for (sequence, event) in (first..).zip(events) {
            self.log
                .insert((id, sequence), event.as_slice())
                .map_err(backend)?;
        }
        Ok(())
    }

    /// Removes every log entry of `id`.
    pub(super) fn drop_log(&mut self, id: &str) -> Result<(), Error> {
        self.log
            .retain_in::<(&str, u64), _>((id, 0)..=(id, u64::MAX), |_, _| false)
            .map_err(backend)
    }

    /// Removes the index rows of the task `id` stored as `meta` (not the task row).
    pub(super) fn unindex(&mut self, id: &str, meta: &Meta) -> Result<(), Error> {
        let (t, u, n) = (meta.tenant.as_str(), meta.user.as_str(), meta.nanos);
        for facet in meta.facets() {
            self.index
                .remove((t, u, facet.as_str(), n, id))
                .map_err(backend)?;
        }
        if let Some(since) = meta.terminal_since {
            self.terminal.remove((since, id)).map_err(backend)?;
            self.owner_terminal
                .remove((t, u, since, id))
                .map_err(backend)?;
        }
        if meta.is_active() {
            self.active.remove(id).map_err(backend)?;
        }
        Ok(())
    }

    /// Deletes the task `id` with its index rows, log and push configs; false when it is
    /// absent.
    pub(super) fn delete(&mut self, id: &str) -> Result<bool, Error> {
        let Some(meta) = self.meta(id)? else {
            return Ok(false);
        };
        self.unindex(id, &meta)?;
        self.tasks.remove(id).map_err(backend)?;
        self.drop_log(id)?;
        if let Some(since) = meta.terminal_since {
            self.log_kept.remove((since, id)).map_err(backend)?;
        }
        // Push config ids are any strings, "" the smallest: (id, "").. up to the next task id.
        let next = format!("{id}\0");
        self.push
            .retain_in::<(&str, &str), _>((id, "")..(next.as_str(), ""), |_, _| false)
            .map_err(backend)?;
        self.push_state
            .retain_in::<(&str, &str), _>((id, "")..(next.as_str(), ""), |_, _| false)
            .map_err(backend)?;
        self.add_count(&meta.tenant, &meta.user, -1)?;
        self.count_state(Some(meta.state), None)?;
        Ok(true)
    }

    /// How many tasks the owner has.
    pub(super) fn count(&self, tenant: &str, user: &str) -> Result<u64, Error> {
        Ok(self
            .counts
            .get((tenant, user))
            .map_err(backend)?
            .map_or(0, |g| g.value()))
    }

    /// Adds `delta` (±1) to the owner's task count.
    pub(super) fn add_count(&mut self, tenant: &str, user: &str, delta: i64) -> Result<(), Error> {
        let count = self.count(tenant, user)?.saturating_add_signed(delta);
        if count == 0 {
            self.counts.remove((tenant, user)).map_err(backend)?;
        } else {
            self.counts.insert((tenant, user), count).map_err(backend)?;
        }
        Ok(())
    }
}
