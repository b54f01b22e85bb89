//! The live view of task logs in this process.
//!
//! A [`TaskFeed`] holds one task as of its last durable log entry, the entries appended
//! recently, and a signal that wakes its readers. Only durable entries enter a feed: an
//! execution appends to the [`TaskLog`] first and hands the entries to the feed after the
//! append returned. A [`FeedReader`] reads entries by sequence from any position: from the
//! feed's recent window while it has them, from the store's log otherwise (a reader that
//! fell behind, or one resuming from an old `Last-Event-ID`).
//!
//! [`Feeds`] keeps one feed per task while anything holds it (a reader, an execution, a
//! caller waiting for the task's run lock) and forgets it with the last [`FeedHold`].

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use harbor_a2a::{A2aError, StreamResponse, Task};
use harbor_distributed::store::fanout::Notice;
use harbor_distributed::store::project;
use harbor_distributed::{LogEntry, Owner, StoredTask, TaskLog};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Entries a feed keeps for its readers; a reader further behind reads the store.
const RECENT: usize = 256;

/// Entries one read of the store's log fetches.
const READ_PAGE: usize = 128;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether a task is in a terminal state.
pub(crate) fn is_terminal(task: &Task) -> bool {
    task.state().is_terminal()
}

/// The feeds of this process, by task id.
pub(crate) struct Feeds {
    store: Arc<dyn TaskLog>,
    map: Mutex<HashMap<String, Arc<TaskFeed>>>,
    /// Live readers of every feed (a leak shows here).
    readers: AtomicUsize,
}

impl Feeds {
    pub(crate) fn new(store: Arc<dyn TaskLog>) -> Arc<Self> {
        Arc::new(Self {
            store,
            map: Mutex::default(),
            readers: AtomicUsize::new(0),
        })
    }

    pub(crate) fn store(&self) -> &Arc<dyn TaskLog> {
        &self.store
    }

    /// Live readers of all feeds.
    pub(crate) fn readers(&self) -> usize {
        self.readers.load(Ordering::Relaxed)
    }

    /// The feed of a stored task, created from it when nothing holds one yet, and caught up
    /// with it when it is newer (written by another process).
    pub(crate) fn hold(self: &Arc<Self>, stored: &StoredTask) -> FeedHold {
        let mut map = lock(&self.map);
        let feed = map
            .entry(stored.task.id.clone())
            .or_insert_with(|| TaskFeed::new(stored.owner.clone(), &stored.task, stored.version));
        feed.catch_up(stored);
        self.held(Arc::clone(feed))
    }

    /// The feed of `task_id` if this process follows the task.
    pub(crate) fn followed(&self, task_id: &str) -> Option<Arc<TaskFeed>> {
        lock(&self.map).get(task_id).cloned()
    }

    /// The feed of a task this process just created with `entries`.
    pub(crate) fn create(
        self: &Arc<Self>,
        owner: Owner,
        task: &Task,
        entries: Vec<LogEntry>,
    ) -> FeedHold {
        let version = entries.last().map_or(0, |e| e.sequence);
        let feed = TaskFeed::new(owner, task, version);
        lock(&feed.state).recent.extend(entries);
        lock(&self.map).insert(task.id.clone(), Arc::clone(&feed));
        self.held(feed)
    }

    /// Counts a new holder of `feed`; the map's lock is held or the feed is not shared yet.
    fn held(self: &Arc<Self>, feed: Arc<TaskFeed>) -> FeedHold {
        feed.holders.fetch_add(1, Ordering::Relaxed);
        FeedHold {
            feeds: Arc::clone(self),
            feed,
        }
    }
}

/// A claim on a feed: while one exists, the feed stays in [`Feeds`].
pub(crate) struct FeedHold {
    feeds: Arc<Feeds>,
    feed: Arc<TaskFeed>,
}

impl Clone for FeedHold {
    fn clone(&self) -> Self {
        let _map = lock(&self.feeds.map);
        self.feeds.held(Arc::clone(&self.feed))
    }
}

impl Drop for FeedHold {
    fn drop(&mut self) {
        let mut map = lock(&self.feeds.map);
        if self.feed.holders.fetch_sub(1, Ordering::Relaxed) == 1
            && map
                .get(&self.feed.task_id)
                .is_some_and(|f| Arc::ptr_eq(f, &self.feed))
        {
            map.remove(&self.feed.task_id);
        }
    }
}

impl std::ops::Deref for FeedHold {
    type Target = TaskFeed;

    fn deref(&self) -> &TaskFeed {
        &self.feed
    }
}

impl FeedHold {
    /// A reader of every entry after sequence `after`.
    pub(crate) fn reader(&self, after: u64) -> FeedReader {
        self.feeds.readers.fetch_add(1, Ordering::Relaxed);
        FeedReader {
            changed: self.feed.changed.subscribe(),
            hold: self.clone(),
            after,
            backlog: VecDeque::new(),
        }
    }

    /// The current task, its version, and a reader of every entry after it.
    pub(crate) fn subscribe(&self) -> (Task, u64, FeedReader) {
        let (task, version) = self.current();
        (task, version, self.reader(version))
    }
}

/// One task's live log in this process.
#[derive(Debug)]
pub(crate) struct TaskFeed {
    owner: Owner,
    task_id: String,
    state: Mutex<FeedState>,
    changed: watch::Sender<()>,
    /// Held by the execution writing the task: one execution per task at a time.
    pub(crate) run_lock: Arc<tokio::sync::Mutex<()>>,
    /// [`FeedHold`]s of this feed.
    holders: AtomicUsize,
}

#[derive(Debug)]
struct FeedState {
    /// The task as of its last durable entry.
    task: Task,
    /// The sequence of that entry.
    version: u64,
    /// The latest entries, ending at `version` when not empty.
    recent: VecDeque<LogEntry>,
    /// The cancel token of the execution writing the task, if one runs here: cancelled
    /// when another process ends the task (a CancelTask on another replica), so the
    /// execution stops wherever it runs.
    run: Option<CancellationToken>,
    /// Whether an execution in another process (a worker) was given the task by this one
    /// and has not settled it yet: readers wait for its entries rather than find the task
    /// idle.
    elsewhere: bool,
}

impl TaskFeed {
    fn new(owner: Owner, task: &Task, version: u64) -> Arc<Self> {
        Arc::new(Self {
            owner,
            task_id: task.id.clone(),
            state: Mutex::new(FeedState {
                task: task.clone(),
                version,
                recent: VecDeque::new(),
                run: None,
                elsewhere: false,
            }),
            changed: watch::channel(()).0,
            run_lock: Arc::default(),
            holders: AtomicUsize::new(0),
        })
    }

    /// The task and its version.
    pub(crate) fn current(&self) -> (Task, u64) {
        let state = lock(&self.state);
        (state.task.clone(), state.version)
    }

    /// Records a durable append: `task` is the projection after `entries`.
    pub(crate) fn appended(&self, task: Task, entries: Vec<LogEntry>) {
        {
            let mut state = lock(&self.state);
            if let Some(last) = entries.last() {
                // This process follows its own notices too, and the notice of these very
                // entries may have extended the feed first: take each entry once, or a
                // reader would read one twice (and never get past it).
                if last.sequence <= state.version {
                    return;
                }
                let version = state.version;
                state.version = last.sequence;
                state.task = task;
                state
                    .recent
                    .extend(entries.into_iter().filter(|e| e.sequence > version));
            } else {
                state.task = task;
            }
            let excess = state.recent.len().saturating_sub(RECENT);
            state.recent.drain(..excess);
        }
        self.changed.send_replace(());
    }

    /// Takes the entries of a notice from another process that continue this feed's;
    /// false when the notice leaves a gap (or has no events) and the feed must catch up
    /// from the store instead.
    pub(crate) fn extend(&self, notice: &Notice) -> bool {
        {
            let mut state = lock(&self.state);
            if notice.last <= state.version {
                return true;
            }
            if notice.entries.is_empty() || notice.first > state.version + 1 {
                return false;
            }
            for entry in &notice.entries {
                if entry.sequence == state.version + 1 {
                    project(&mut state.task, &entry.event);
                    state.version = entry.sequence;
                    state.recent.push_back(entry.clone());
                }
            }
            let excess = state.recent.len().saturating_sub(RECENT);
            state.recent.drain(..excess);
            state.stop_run_if_ended(&self.task_id);
            state.settle_elsewhere();
        }
        self.changed.send_replace(());
        true
    }

    /// Takes a newer stored version (written elsewhere): its entries are read from the
    /// store by whoever needs them.
    pub(crate) fn catch_up(&self, stored: &StoredTask) {
        let mut state = lock(&self.state);
        if stored.version > state.version {
            state.task.clone_from(&stored.task);
            state.version = stored.version;
            state.recent.clear();
            state.stop_run_if_ended(&self.task_id);
            state.settle_elsewhere();
            drop(state);
            self.changed.send_replace(());
        }
    }

    /// Marks that an execution here is writing the task; `cancel` stops it.
    pub(crate) fn run_started(&self, cancel: &CancellationToken) {
        lock(&self.state).run = Some(cancel.clone());
        self.changed.send_replace(());
    }

    /// Marks that an execution in another process (a worker) was given the task: readers
    /// wait for its entries until the task is interrupted or terminal.
    pub(crate) fn run_elsewhere(&self) {
        lock(&self.state).elsewhere = true;
        self.changed.send_replace(());
    }

    /// Marks that the execution here ended.
    pub(crate) fn run_ended(&self) {
        lock(&self.state).run = None;
        self.changed.send_replace(());
    }
}

impl FeedState {
    /// An execution elsewhere is done with the task once it is interrupted or terminal.
    fn settle_elsewhere(&mut self) {
        let state = self.task.state();
        if state.is_interrupted() || state.is_terminal() {
            self.elsewhere = false;
        }
    }

    /// Stops the execution here once the task ended by a write from elsewhere.
    fn stop_run_if_ended(&self, task_id: &str) {
        if let Some(run) = &self.run
            && !run.is_cancelled()
            && is_terminal(&self.task)
        {
            tracing::info!(
                task_id,
                "the task ended elsewhere; its execution here is stopped"
            );
            run.cancel();
        }
    }
}

/// What a reader gets next.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "returned and matched at once, never stored"
)]
pub(crate) enum Next {
    /// The next entry.
    Entry(LogEntry),
    /// The entries after the reader's position were compacted away: here is the task as
    /// of `version`, where the reader now stands.
    Compacted(Task, u64),
    /// The task is terminal and every entry was read.
    Closed,
    /// No execution is running and every entry was read (the task waits for input).
    Idle,
    /// The store's log could not be read.
    Failed(A2aError),
}

/// Reads a task's log, entry by entry, from a position on.
pub(crate) struct FeedReader {
    hold: FeedHold,
    /// The sequence of the last entry read.
    after: u64,
    /// Entries read from the store, not yet returned.
    backlog: VecDeque<LogEntry>,
    changed: watch::Receiver<()>,
}

impl Drop for FeedReader {
    fn drop(&mut self) {
        self.hold.feeds.readers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where the next entry comes from.
#[allow(
    clippy::large_enum_variant,
    reason = "made and matched at once, never stored"
)]
enum Source {
    Entry(LogEntry),
    Store,
    Wait,
}

impl FeedReader {
    /// The next entry whose event `wanted` accepts, or why there is none: the reader moves
    /// past the others without copying them out of the feed. With `wait_while_idle` an
    /// idle task is waited on (subscribers stay through INPUT_REQUIRED); otherwise
    /// [`Next::Idle`] is returned.
    pub(crate) async fn next(
        &mut self,
        wait_while_idle: bool,
        wanted: impl Fn(&StreamResponse) -> bool,
    ) -> Next {
        loop {
            while let Some(entry) = self.backlog.pop_front() {
                self.after = entry.sequence;
                if wanted(&entry.event) {
                    return Next::Entry(entry);
                }
            }
            self.changed.borrow_and_update();
            let source = {
                let state = lock(&self.hold.state);
                if self.after < state.version {
                    match state.recent.front().map(|e| e.sequence) {
                        Some(first) if first <= self.after + 1 => {
                            let index = usize::try_from(self.after + 1 - first).unwrap_or(0);
                            let mut passed = state.recent.iter().skip(index).peekable();
                            if passed.peek().is_none() {
                                Source::Store
                            } else {
                                match passed.find(|e| {
                                    self.after = e.sequence;
                                    wanted(&e.event)
                                }) {
                                    Some(entry) => Source::Entry(entry.clone()),
                                    // Every entry here was passed over: look again.
                                    None => continue,
                                }
                            }
                        }
                        _ => Source::Store,
                    }
                } else if is_terminal(&state.task) {
                    return Next::Closed;
                } else if state.run.is_none() && !state.elsewhere && !wait_while_idle {
                    return Next::Idle;
                } else {
                    Source::Wait
                }
            };
            match source {
                Source::Entry(entry) => {
                    self.after = entry.sequence;
                    return Next::Entry(entry);
                }
                Source::Store => {
                    // Boxed: a reader that fell behind is rare, and the store's read would
                    // otherwise grow every reader's future by its size.
                    if let Some(next) = Box::pin(self.read_store()).await {
                        return next;
                    }
                }
                Source::Wait => {
                    if self.changed.changed().await.is_err() {
                        return Next::Closed;
                    }
                }
            }
        }
    }

    /// Fills the backlog from the store's log; `Some` when the reader must be told
    /// something instead.
    async fn read_store(&mut self) -> Option<Next> {
        let (feeds, feed) = (&self.hold.feeds, &self.hold.feed);
        let read = feeds
            .store
            .read_log(&feed.owner, &feed.task_id, self.after, READ_PAGE)
            .await;
        match read {
            Ok(entries)
                if entries
                    .first()
                    .is_some_and(|e| e.sequence == self.after + 1) =>
            {
                self.backlog.extend(entries);
                None
            }
            // Nothing follows `after` although the task is further on: compacted.
            Ok(_) => {
                let (task, version) = feed.current();
                self.after = version;
                Some(Next::Compacted(task, version))
            }
            Err(error) => Some(Next::Failed(error.to_a2a())),
        }
    }

    /// The feed read.
    pub(crate) fn feed(&self) -> &FeedHold {
        &self.hold
    }
}

#[cfg(test)]
mod tests {
    use harbor_a2a::{TaskState, TaskStatus, TaskStatusUpdateEvent};
    use harbor_distributed::Identity;
    use harbor_distributed::MemoryTaskStore;

    use super::*;

    fn status(task: &Task, state: TaskState) -> StreamResponse {
        StreamResponse::from(TaskStatusUpdateEvent {
            task_id: task.id.clone(),
            context_id: task.context_id.clone(),
            status: Some(TaskStatus::now(state)),
            ..TaskStatusUpdateEvent::default()
        })
    }

    /// A completed task stored with four entries (snapshot, WORKING, INPUT_REQUIRED,
    /// COMPLETED), and its feed holding the last `recent` of them.
    async fn feed(recent: usize) -> (Arc<Feeds>, FeedHold) {
        let store = Arc::new(MemoryTaskStore::new());
        let owner = Identity::new("t", "u", "s").expect("identity").owner();
        let submitted = Task::new("t1", "c1", TaskStatus::now(TaskState::Submitted));
        let mut task = submitted.clone();
        let events = vec![
            StreamResponse::from(submitted),
            status(&task, TaskState::Working),
            status(&task, TaskState::InputRequired),
            status(&task, TaskState::Completed),
        ];
        for event in &events {
            project(&mut task, event);
        }
        store
            .append(&owner, &task, 0, &events)
            .await
            .expect("stored");
        let entries: Vec<LogEntry> = (1..)
            .zip(events)
            .map(|(sequence, event)| LogEntry { sequence, event })
            .collect();
        let feeds = Feeds::new(store);
        let kept = entries[entries.len() - recent..].to_vec();
        let hold = feeds.create(owner, &task, kept);
        (feeds, hold)
    }

    fn sequence(next: Next) -> Option<u64> {
        match next {
            Next::Entry(entry) => Some(entry.sequence),
            _ => None,
        }
    }

    #[tokio::test]
    async fn a_reader_passes_over_unwanted_entries_in_the_feed_and_from_the_store() {
        for recent in [4, 1] {
            let (_feeds, hold) = feed(recent).await;
            let interrupted = |e: &StreamResponse| e.state() == Some(TaskState::InputRequired);
            let mut reader = hold.reader(0);
            assert_eq!(sequence(reader.next(false, interrupted).await), Some(3));
            assert_eq!(sequence(reader.next(false, |_| true).await), Some(4));
            assert!(matches!(reader.next(false, |_| true).await, Next::Closed));

            let mut reader = hold.reader(0);
            assert_eq!(sequence(reader.next(false, |_| true).await), Some(1));
            assert!(matches!(reader.next(false, |_| false).await, Next::Closed));
            assert_eq!(reader.after, 4, "every entry was passed over");
        }
    }
}
