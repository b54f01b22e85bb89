//! The server's metrics, through the [`metrics`] facade: every recording is a no-op until
//! a recorder is installed (`harbor serve --admin` installs the Prometheus one), so a
//! server without one pays an atomic load per call site.
//!
//! Labels are bounded: the RPC name, the binding, the A2A error name, the task state, the
//! push outcome; never a task, context or config id.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `harbor_a2a_requests_total` | counter | `rpc`, `binding`, `outcome` (`ok` or the A2A error reason, e.g. `TASK_NOT_FOUND`) |
//! | `harbor_a2a_request_duration_seconds` | histogram | `rpc`, `binding` |
//! | `harbor_a2a_open_streams` | gauge | `binding` |
//! | `harbor_a2a_refusals_total` | counter | `binding`, `reason` (the A2A error reason): requests refused before their RPC ran (authentication, unreadable bodies, unknown methods) |
//! | `harbor_http_connections_refused_total` | counter | (connections closed at once: the connection cap was reached) |
//! | `harbor_task_log_appends_total` | counter | (appends to task logs, any store) |
//! | `harbor_task_log_events_total` | counter | (events those appends carried) |
//! | `harbor_task_state_transitions_total` | counter | `state` (the state a task entered, e.g. `TASK_STATE_COMPLETED`) |
//! | `harbor_tasks` | gauge | `state`: tasks the store holds in each state, every owner's (read at scrape time; NaN when the store cannot say) |
//! | `harbor_push_attempts_total` | counter | `outcome` (`delivered`, `retry`, `dead`) |
//! | `harbor_push_retry_backlog` | gauge | (push deliveries waiting for their next attempt) |
//! | `harbor_task_executions_running` | gauge | (agent executions running here, i.e. tasks WORKING in this process) |
//! | `harbor_task_log_readers` | gauge | (streams, subscriptions and blocking sends following a task) |

use std::time::{Duration, Instant};

use futures::StreamExt;
use harbor_a2a::{A2aError, Method, TaskState};
use harbor_distributed::HandlerStream;
use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};

/// Requests by RPC, binding and outcome.
pub const REQUESTS_TOTAL: &str = "harbor_a2a_requests_total";
/// Request latency until the reply (for a stream: until its first event is ready).
pub const REQUEST_DURATION: &str = "harbor_a2a_request_duration_seconds";
/// Streams open now.
pub const OPEN_STREAMS: &str = "harbor_a2a_open_streams";
/// States tasks entered.
pub const TASK_TRANSITIONS_TOTAL: &str = "harbor_task_state_transitions_total";
/// Requests refused before their RPC ran, by binding and A2A error reason.
pub const REFUSALS_TOTAL: &str = "harbor_a2a_refusals_total";
/// Connections refused because the connection cap was reached.
pub const CONNECTIONS_REFUSED_TOTAL: &str = "harbor_http_connections_refused_total";
/// Tasks stored in each state (read at scrape time).
pub const TASKS: &str = "harbor_tasks";
/// Webhook POSTs by outcome.
pub const PUSH_ATTEMPTS_TOTAL: &str = "harbor_push_attempts_total";
/// Push deliveries waiting for their next attempt.
pub const PUSH_RETRY_BACKLOG: &str = "harbor_push_retry_backlog";
/// Appends to task logs, whatever the store.
pub const LOG_APPENDS_TOTAL: &str = "harbor_task_log_appends_total";
/// Events those appends carried.
pub const LOG_EVENTS_TOTAL: &str = "harbor_task_log_events_total";
/// Agent executions running in this process (read at scrape time).
pub const RUNNING_EXECUTIONS: &str = "harbor_task_executions_running";
/// Readers of task logs here: streams, subscriptions, blocking sends (read at scrape time).
pub const LOG_READERS: &str = "harbor_task_log_readers";

/// Which binding a call came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// JSON-RPC 2.0 over HTTP.
    JsonRpc,
    /// HTTP+JSON (REST).
    HttpJson,
    /// gRPC.
    Grpc,
}

impl Binding {
    /// The label value: `jsonrpc`, `http_json` or `grpc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JsonRpc => "jsonrpc",
            Self::HttpJson => "http_json",
            Self::Grpc => "grpc",
        }
    }
}

/// Registers the help text and units of the server's metrics with the installed recorder.
pub fn describe() {
    describe_counter!(
        REQUESTS_TOTAL,
        "A2A requests by RPC, binding and outcome (ok or the A2A error reason)."
    );
    describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "A2A request latency until the reply (a stream: until it is open)."
    );
    describe_gauge!(OPEN_STREAMS, "Streams (SSE or gRPC) open now.");
    describe_counter!(
        REFUSALS_TOTAL,
        "Requests refused before their RPC ran (authentication, unreadable body, unknown \
         method), by binding and A2A error reason."
    );
    describe_counter!(
        CONNECTIONS_REFUSED_TOTAL,
        "Connections closed at once because the connection cap was reached."
    );
    describe_counter!(
        TASK_TRANSITIONS_TOTAL,
        "Task states entered, by state (agent status updates)."
    );
    describe_gauge!(
        TASKS,
        "Tasks the store holds in each state, over every owner (NaN: the store did not answer)."
    );
    describe_counter!(
        PUSH_ATTEMPTS_TOTAL,
        "Push webhook POSTs by outcome: delivered, retry (failed, tried again), dead (gave up)."
    );
    describe_counter!(
        LOG_APPENDS_TOTAL,
        "Appends to task logs (each one durable write of a task and its new events)."
    );
    describe_counter!(LOG_EVENTS_TOTAL, "Events appended to task logs.");
    describe_gauge!(
        RUNNING_EXECUTIONS,
        "Agent executions running in this process."
    );
    describe_gauge!(
        LOG_READERS,
        "Streams, subscriptions and blocking sends following a task's log here."
    );
    describe_gauge!(
        PUSH_RETRY_BACKLOG,
        "Push deliveries waiting for their next attempt after a failure."
    );
}

/// Times one RPC; [`finish`](Self::finish) records it.
pub(crate) struct RpcTimer {
    method: Method,
    binding: Binding,
    started: Instant,
}

impl RpcTimer {
    pub(crate) fn start(method: Method, binding: Binding) -> Self {
        Self {
            method,
            binding,
            started: Instant::now(),
        }
    }

    /// Records the call's outcome and latency.
    pub(crate) fn finish(self, error: Option<&A2aError>) {
        record_rpc(self.method, self.binding, error, self.started.elapsed());
    }
}

/// Records one RPC.
pub(crate) fn record_rpc(
    method: Method,
    binding: Binding,
    error: Option<&A2aError>,
    elapsed: Duration,
) {
    let outcome = error.map_or("ok", A2aError::reason);
    counter!(REQUESTS_TOTAL, "rpc" => method.json_rpc_name(), "binding" => binding.as_str(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!(REQUEST_DURATION, "rpc" => method.json_rpc_name(), "binding" => binding.as_str())
        .record(elapsed.as_secs_f64());
}

/// Counts `events` as an open stream of `binding` for as long as it lives.
pub(crate) fn count_open(events: HandlerStream, binding: Binding) -> HandlerStream {
    let open = OpenStream::new(binding);
    events
        .map(move |item| {
            let _open = &open;
            item
        })
        .boxed()
}

/// One open stream in the gauge, until dropped.
struct OpenStream(Binding);

impl OpenStream {
    fn new(binding: Binding) -> Self {
        gauge!(OPEN_STREAMS, "binding" => binding.as_str()).increment(1.0);
        Self(binding)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        gauge!(OPEN_STREAMS, "binding" => self.0.as_str()).decrement(1.0);
    }
}

/// A durable append of `events` events to a task's log.
pub(crate) fn log_appended(events: usize) {
    counter!(LOG_APPENDS_TOTAL).increment(1);
    counter!(LOG_EVENTS_TOTAL).increment(events as u64);
}

/// A task entered `state`.
pub(crate) fn task_entered(state: TaskState) {
    counter!(TASK_TRANSITIONS_TOTAL, "state" => state.as_str_name()).increment(1);
}

/// One request refused before its RPC ran.
pub(crate) fn refused(binding: Binding, error: &A2aError) {
    counter!(REFUSALS_TOTAL, "binding" => binding.as_str(), "reason" => error.reason())
        .increment(1);
}

/// One connection refused at the connection cap.
pub(crate) fn connection_refused() {
    counter!(CONNECTIONS_REFUSED_TOTAL).increment(1);
}

/// One webhook POST's outcome: `delivered`, `retry` or `dead`.
pub(crate) fn push_attempt(outcome: &'static str) {
    counter!(PUSH_ATTEMPTS_TOTAL, "outcome" => outcome).increment(1);
}

/// A push delivery waiting for its next attempt, in the backlog gauge until dropped.
pub(crate) struct RetryWait(());

impl RetryWait {
    pub(crate) fn start() -> Self {
        gauge!(PUSH_RETRY_BACKLOG).increment(1.0);
        Self(())
    }
}

impl Drop for RetryWait {
    fn drop(&mut self) {
        gauge!(PUSH_RETRY_BACKLOG).decrement(1.0);
    }
}
