//! One config's delivery: the task's log entries after the cursor, POSTed in order, the
//! cursor saved after each batch. A failing entry is retried (backoff with full jitter,
//! `Retry-After` honoured) and later entries wait for it, so a receiver sees a config's
//! events in log order; a delivery that gives up becomes a dead letter.
//!
//! The worker keeps its cursor and config in memory, and the dispatcher hands it the
//! entries of each durable append, so a delivery in the steady state reads nothing from
//! the store; it reads the log only to fill a gap (entries appended before it existed, or
//! while it was stopped). The cursor is saved once per batch: a crash in the middle of one
//! re-sends its entries, with their sequence numbers, for the receiver to drop.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use harbor_a2a::TaskPushNotificationConfig;
use harbor_distributed::trace_context;
use harbor_distributed::{Error, LogEntry, Owner, PushCursor, PushFailure};
use tokio::sync::Notify;
use tracing::{Instrument, debug, warn};

use super::core::Core;
use super::retry::{self, Verdict};
use super::{ATTEMPT_HEADER, NOTIFICATION_TOKEN_HEADER, SEQUENCE_HEADER, target};
use crate::runtime::apply::is_shown;

/// Entries read from the log at a time to fill a gap.
const READ_BATCH: usize = 64;

/// Entries a worker holds in memory at most; past it, it reads them from the log instead.
const MAX_OFFERED: usize = 1024;

/// The delivery of one config of one task.
pub(super) struct Worker {
    pub(super) owner: Owner,
    pub(super) task_id: String,
    pub(super) config_id: String,
    /// What the runs work from; a run holds it for its whole pass.
    state: tokio::sync::Mutex<State>,
    /// Entries handed over since a run last took them.
    offered: Mutex<Offered>,
    /// A run is in progress.
    running: AtomicBool,
    /// Replaced by a newer worker of the same config (or the config was deleted): send
    /// nothing more.
    retired: AtomicBool,
    /// Something was offered or changed since the run last looked.
    dirty: AtomicBool,
    /// Wakes a run waiting out a backoff early, when the config changed.
    pub(super) wake: Notify,
    /// The trace of the last append offered (with tracing on): its POSTs continue it.
    origin: Mutex<Option<trace_context::Context>>,
}

/// A worker's memory of its delivery.
#[derive(Default)]
struct State {
    cursor: Option<PushCursor>,
    config: Option<TaskPushNotificationConfig>,
    /// A terminal event was delivered (or passed): the task makes no more.
    finished: bool,
}

#[derive(Default)]
struct Offered {
    entries: VecDeque<LogEntry>,
    /// Entries were dropped past [`MAX_OFFERED`]: read the log for them.
    overflowed: bool,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    /// The config is done for good (finished and delivered, dead, deleted, retired).
    Over,
    /// Caught up, stopped, or another run took over; a poke starts the next run.
    Paused,
}

/// How a pass ended.
enum Pass {
    /// Everything delivered; more may come.
    CaughtUp,
    /// The task is finished and everything is delivered, the config or task is gone, or
    /// the delivery is dead: nothing more to do.
    Over,
    /// The dispatcher stops.
    Stopped,
}

/// How one entry's delivery ended.
enum Sent {
    Delivered,
    Dead,
    Stopped,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Worker {
    /// A worker that knows its cursor and config (a config just tracked), or that will read
    /// them from the store (`None`s: resumed at start).
    pub(super) fn new(
        owner: Owner,
        task_id: &str,
        config_id: &str,
        known: Option<(PushCursor, TaskPushNotificationConfig)>,
    ) -> Self {
        let (cursor, config) = known.map_or((None, None), |(c, f)| (Some(c), Some(f)));
        Self {
            owner,
            task_id: task_id.to_owned(),
            config_id: config_id.to_owned(),
            state: tokio::sync::Mutex::new(State {
                cursor,
                config,
                finished: false,
            }),
            offered: Mutex::default(),
            running: AtomicBool::new(false),
            retired: AtomicBool::new(false),
            dirty: AtomicBool::new(false),
            wake: Notify::new(),
            origin: Mutex::default(),
        }
    }

    /// Stops this worker for good: a newer one delivers the config, or nobody does.
    pub(super) fn retire(&self) {
        self.retired.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Hands over durable entries of the task.
    pub(super) fn offer(&self, entries: &[LogEntry]) {
        if let Some(origin) = trace_context::current_context(&tracing::Span::current()) {
            *lock(&self.origin) = Some(origin);
        }
        let mut offered = lock(&self.offered);
        if offered.entries.len() + entries.len() > MAX_OFFERED {
            offered.entries.clear();
            offered.overflowed = true;
        } else {
            offered.entries.extend(entries.iter().cloned());
        }
    }

    /// Marks the worker as having something to look at; true when no run is going, so the
    /// caller must start one ([`run`](Self::run)), false when the running one will look.
    pub(super) fn claim_run(&self) -> bool {
        self.dirty.store(true, Ordering::SeqCst);
        !self.running.swap(true, Ordering::SeqCst)
    }

    /// Delivers until caught up (and no poke came meanwhile); [`Ended::Over`] when the
    /// config is done for good and the worker should leave the index.
    pub(super) async fn run(&self, d: &Core) -> Ended {
        loop {
            self.dirty.store(false, Ordering::SeqCst);
            let pass = {
                let mut state = self.state.lock().await;
                match self.pass(d, &mut state).await {
                    Ok(pass) => pass,
                    Err(Error::TaskNotFound { .. } | Error::PushConfigNotFound { .. }) => {
                        Pass::Over
                    }
                    Err(error) => {
                        warn!(task_id = %self.task_id, config_id = %self.config_id, %error, "push delivery could not use the store; it resumes with the next event");
                        // Read everything afresh next time.
                        *state = State::default();
                        Pass::CaughtUp
                    }
                }
            };
            self.running.store(false, Ordering::SeqCst);
            match pass {
                Pass::Over => return Ended::Over,
                Pass::Stopped => return Ended::Paused,
                Pass::CaughtUp => {}
            }
            // A poke between the pass and now found `running` set and only marked the
            // worker dirty: take that run here, unless a new run already started.
            if !self.dirty.load(Ordering::SeqCst) || self.running.swap(true, Ordering::SeqCst) {
                return Ended::Paused;
            }
        }
    }

    /// Delivers every entry after the cursor that is known: offered, or in the log.
    async fn pass(&self, d: &Core, state: &mut State) -> Result<Pass, Error> {
        let store = d.store();
        if state.cursor.is_none() {
            state.cursor = store
                .cursor(&self.owner, &self.task_id, &self.config_id)
                .await?;
        }
        if state.config.is_none() {
            state.config = Some(
                store
                    .get_push_config(&self.owner, &self.task_id, &self.config_id)
                    .await?,
            );
        }
        let (Some(cursor), Some(config)) = (state.cursor.as_mut(), state.config.as_ref()) else {
            return Ok(Pass::Over);
        };
        loop {
            if cursor.dead.is_some() {
                return Ok(Pass::Over);
            }
            let entries = self.next_entries(d, cursor.delivered).await?;
            if entries.is_empty() {
                if state.finished {
                    return Ok(Pass::Over);
                }
                // Nothing offered: a task that finished while no worker watched ends here.
                let stored = store.get(&self.owner, &self.task_id).await?;
                let finished =
                    stored.task.state().is_terminal() && stored.version <= cursor.delivered;
                return Ok(if finished { Pass::Over } else { Pass::CaughtUp });
            }
            let mut unsaved = false;
            for entry in &entries {
                if self.retired.load(Ordering::SeqCst) {
                    return Ok(Pass::Stopped);
                }
                if entry.sequence <= cursor.delivered {
                    continue;
                }
                if entry.event.state().is_some_and(|s| s.is_terminal()) {
                    state.finished = true;
                }
                if !is_shown(&entry.event) {
                    cursor.delivered = entry.sequence;
                    unsaved = true;
                    continue;
                }
                match self.send(d, config, entry, cursor).await? {
                    Sent::Delivered => unsaved = true,
                    Sent::Dead => return Ok(Pass::Over),
                    Sent::Stopped => {
                        if unsaved {
                            store.save(cursor).await?;
                        }
                        return Ok(Pass::Stopped);
                    }
                }
            }
            if unsaved {
                store.save(cursor).await?;
            }
        }
    }

    /// The entries after `delivered`: those offered when they continue it, else a page of
    /// the log.
    async fn next_entries(&self, d: &Core, delivered: u64) -> Result<Vec<LogEntry>, Error> {
        let offered: Vec<LogEntry> = {
            let mut offered = lock(&self.offered);
            let overflowed = std::mem::take(&mut offered.overflowed);
            let taken: Vec<LogEntry> = offered.entries.drain(..).collect();
            if overflowed { Vec::new() } else { taken }
        };
        let fresh: Vec<LogEntry> = offered
            .into_iter()
            .filter(|e| e.sequence > delivered)
            .collect();
        if fresh.first().is_some_and(|e| e.sequence == delivered + 1) {
            return Ok(fresh);
        }
        // A gap (or nothing offered): the log has it.
        let entries = d
            .store()
            .read_log(&self.owner, &self.task_id, delivered, READ_BATCH)
            .await?;
        if let Some(first) = entries.first()
            && first.sequence > delivered + 1
        {
            warn!(task_id = %self.task_id, config_id = %self.config_id, from = delivered + 1, to = first.sequence - 1, "log entries were compacted before push delivery; skipped");
        }
        Ok(entries)
    }

    /// POSTs one entry until it is delivered or dead; a failure is saved with the cursor.
    async fn send(
        &self,
        d: &Core,
        config: &TaskPushNotificationConfig,
        entry: &LogEntry,
        cursor: &mut PushCursor,
    ) -> Result<Sent, Error> {
        let body = harbor_a2a::to_json_string(&entry.event).map_err(Error::Protocol)?;
        loop {
            let attempt = cursor.attempts + 1;
            let (verdict, failure) =
                match self.post(d, config, entry.sequence, attempt, &body).await {
                    Ok(None) => (Verdict::Delivered, None),
                    Ok(Some((verdict, failure))) => (verdict, Some(failure)),
                    Err(failure) => {
                        return self
                            .bury(d, cursor, attempt, failure, "its target is not allowed")
                            .await;
                    }
                };
            match verdict {
                Verdict::Delivered => {
                    d.counters().delivered();
                    cursor.delivered = entry.sequence;
                    cursor.attempts = 0;
                    cursor.failing_since = None;
                    cursor.last_failure = None;
                    return Ok(Sent::Delivered);
                }
                Verdict::Permanent => {
                    let failure = failure.unwrap_or_else(|| PushFailure {
                        status: None,
                        error: "refused".into(),
                    });
                    return self
                        .bury(
                            d,
                            cursor,
                            attempt,
                            failure,
                            "the webhook refused it for good",
                        )
                        .await;
                }
                Verdict::Retry(at_least) => {
                    d.counters().failed();
                    let since = *cursor.failing_since.get_or_insert_with(SystemTime::now);
                    cursor.attempts = attempt;
                    let failure = failure.unwrap_or_else(|| PushFailure {
                        status: None,
                        error: "failed".into(),
                    });
                    if retry::exhausted(d.config(), attempt, since) {
                        return self
                            .bury(d, cursor, attempt, failure, "retries ran out")
                            .await;
                    }
                    debug!(task_id = %self.task_id, config_id = %self.config_id, sequence = entry.sequence, attempt, error = %failure.error, "webhook failed; retrying");
                    cursor.last_failure = Some(failure);
                    d.store().save(cursor).await?;
                    let wait = retry::backoff(d.config(), attempt, fastrand::f64())
                        .max(at_least.unwrap_or_default());
                    let stopped = {
                        // In the retry backlog gauge while it waits, even if dropped there.
                        let _waiting = crate::telemetry::RetryWait::start();
                        tokio::select! {
                            () = d.stopped() => true,
                            () = tokio::time::sleep(wait) => false,
                            () = self.wake.notified() => false,
                        }
                    };
                    if stopped {
                        return Ok(Sent::Stopped);
                    }
                    if self.retired.load(Ordering::SeqCst) {
                        return Ok(Sent::Stopped);
                    }
                }
            }
        }
    }

    /// Marks the delivery dead with why, durably.
    async fn bury(
        &self,
        d: &Core,
        cursor: &mut PushCursor,
        attempts: u32,
        failure: PushFailure,
        why: &str,
    ) -> Result<Sent, Error> {
        d.counters().dead();
        let status = failure
            .status
            .map_or("no answer".to_owned(), |s| format!("HTTP {s}"));
        warn!(task_id = %self.task_id, config_id = %self.config_id, attempts, last = %status, "push delivery gave up: {why}");
        cursor.attempts = attempts;
        cursor.dead = Some(format!(
            "{why} after {attempts} attempt(s); last: {status}: {}",
            failure.error
        ));
        cursor.last_failure = Some(failure);
        d.store().save(cursor).await?;
        Ok(Sent::Dead)
    }

    /// One POST: `None` when answered 2xx, else the verdict and what went wrong; `Err` when
    /// the target is refused before anything is sent.
    async fn post(
        &self,
        d: &Core,
        config: &TaskPushNotificationConfig,
        sequence: u64,
        attempt: u32,
        body: &str,
    ) -> Result<Option<(Verdict, PushFailure)>, PushFailure> {
        let url =
            target::check_url(&config.url, d.config().targets).map_err(|why| PushFailure {
                status: None,
                error: why,
            })?;
        let mut request = d
            .client()
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/a2a+json")
            .header(SEQUENCE_HEADER, sequence)
            .header(ATTEMPT_HEADER, attempt)
            .body(body.to_owned());
        if let Some(auth) = &config.authentication {
            let value = if auth.credentials.is_empty() {
                auth.scheme.clone()
            } else {
                format!("{} {}", auth.scheme, auth.credentials)
            };
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        if !config.token.is_empty() {
            request = request.header(NOTIFICATION_TOKEN_HEADER, &config.token);
        }
        // The POST is a span of the trace that appended the event, and the webhook gets
        // its context.
        let span = tracing::info_span!("push.post", attempt, sequence);
        trace_context::continue_context(&span, lock(&self.origin).clone());
        let mut traced = Vec::new();
        trace_context::inject_with(&span, |name, value| traced.push((name.to_owned(), value)));
        for (name, value) in traced {
            request = request.header(name, value);
        }
        let _slot = d.slot().await;
        match request.send().instrument(span).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                // Read (and bound) the body, so the connection can be reused.
                let _ = tokio::time::timeout(d.config().timeout, response.bytes()).await;
                match retry::judge(status, retry_after.as_deref()) {
                    Verdict::Delivered => Ok(None),
                    verdict => Ok(Some((
                        verdict,
                        PushFailure {
                            status: Some(status),
                            error: format!("the webhook answered HTTP {status}"),
                        },
                    ))),
                }
            }
            Err(error) => {
                let refused = std::error::Error::source(&error).is_some_and(is_refused_target);
                let failure = PushFailure {
                    status: None,
                    error: describe(&error),
                };
                if refused {
                    Err(failure)
                } else {
                    Ok(Some((Verdict::Retry(None), failure)))
                }
            }
        }
    }
}

/// Whether a request error came from the screening resolver refusing the target.
fn is_refused_target(mut error: &(dyn std::error::Error + 'static)) -> bool {
    loop {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::PermissionDenied
        {
            return true;
        }
        match error.source() {
            Some(next) => error = next,
            None => return false,
        }
    }
}

/// A request error for people, without the URL (it may carry secrets in its query).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        format!("the request {kind}")
    } else {
        format!("the request {kind}: {detail}")
    }
}
