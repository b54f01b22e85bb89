//! One place that turns a method name and its ProtoJSON params into a handler call, for
//! both JSON bindings.

use harbor_a2a::stream_response::Payload;
use harbor_a2a::{A2aError, Method, StreamResponse, from_json, from_json_value, to_json_string};
use harbor_distributed::{A2aHandler, CallContext, HandlerStream};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use tracing::Instrument;

use crate::telemetry::{self, Binding, RpcTimer};

/// What a call produced.
pub(crate) enum Reply {
    /// One response message, as ProtoJSON text (written once, straight from the message,
    /// by serde_json: valid JSON, not checked again).
    Unary(String),
    /// A stream of events.
    Stream(HandlerStream),
}

/// A call's request as it arrived: a JSON-RPC `params` is still text (parsed once, into the
/// request message), and so is an HTTP+JSON body with no path field to merge into it; other
/// HTTP+JSON fields are gathered from the path, query and body first.
pub(crate) enum Params<'a> {
    /// The JSON text of an object.
    Text(&'a RawValue),
    /// The JSON text of a whole HTTP+JSON body, known to read as a `serde_json::Value`
    /// object: parsed straight into the request; a request it is not is refused with the
    /// error of the [`Params::Value`] way (which names no line and column), so the refusal
    /// is the same whichever way the body went.
    Body(&'a str),
    /// An object built from several parts of a request.
    Value(Value),
}

/// A request message read from `params`.
pub(super) fn params<T: DeserializeOwned>(params: Params<'_>) -> Result<T, A2aError> {
    match params {
        Params::Text(text) => from_json(text.get()),
        Params::Body(text) => from_json(text).or_else(|error| {
            let value = serde_json::from_str::<Value>(text).map_err(|_| error)?;
            from_json_value(value)
        }),
        Params::Value(value) => from_json_value(value),
    }
}

fn unary<T: serde::Serialize>(message: &T) -> Result<Reply, A2aError> {
    to_json_string(message).map(Reply::Unary)
}

/// The ProtoJSON of an empty response message.
fn empty() -> Reply {
    Reply::Unary("{}".to_owned())
}

/// Calls `method` on `handler` with `value` as its request, in a span named for the RPC,
/// and records it in the metrics of `binding`. A stream's events are capped at
/// `max_event_bytes` of JSON (see [`cap_events`]).
pub(crate) async fn dispatch(
    handler: &dyn A2aHandler,
    method: Method,
    binding: Binding,
    ctx: &CallContext,
    value: Params<'_>,
    max_event_bytes: usize,
) -> Result<Reply, A2aError> {
    let span = tracing::info_span!(
        "a2a.rpc",
        method = method.json_rpc_name(),
        binding = binding.as_str()
    );
    harbor_distributed::trace_context::continue_from(&span, &ctx.headers);
    let timer = RpcTimer::start(method, binding);
    let reply = call(handler, method, ctx, value).instrument(span).await;
    timer.finish(reply.as_ref().err());
    match reply? {
        Reply::Stream(events) => Ok(Reply::Stream(telemetry::count_open(
            cap_events(events, max_event_bytes),
            binding,
        ))),
        unary => Ok(unary),
    }
}

/// Caps each event of a stream at `max_bytes` of JSON: a task snapshot loses its oldest
/// history until it fits; any other event that does not fit becomes an error event (which
/// ends the stream) telling the client to read the task instead.
fn cap_events(events: HandlerStream, max_bytes: usize) -> HandlerStream {
    use futures::StreamExt;
    events
        .map(move |item| {
            item.and_then(|mut logged| {
                logged.event = cap_event(logged.event, max_bytes)?;
                Ok(logged)
            })
        })
        .boxed()
}

/// The bytes a `{"task": …}` event adds around its task.
const TASK_EVENT_WRAPPER: usize = r#"{"task":}"#.len();

fn cap_event(mut event: StreamResponse, max_bytes: usize) -> Result<StreamResponse, A2aError> {
    if json_fits(&event, max_bytes) {
        return Ok(event);
    }
    if let Some(Payload::Task(task)) = &mut event.payload {
        while !task.history.is_empty() {
            // Halve the history until it fits: a few serializations, whatever its length.
            let keep = task.history.len() / 2;
            task.history.drain(..task.history.len() - keep);
            if json_fits(&*task, max_bytes.saturating_sub(TASK_EVENT_WRAPPER)) {
                return Ok(event);
            }
        }
    }
    let task_id = match &event.payload {
        Some(Payload::Task(t)) => t.id.as_str(),
        Some(Payload::StatusUpdate(u)) => u.task_id.as_str(),
        Some(Payload::ArtifactUpdate(u)) => u.task_id.as_str(),
        Some(Payload::Message(m)) => m.task_id.as_str(),
        None => "",
    };
    tracing::warn!(task_id = %harbor_a2a::error::clip(task_id), max_bytes, "stream event over the event size cap");
    Err(A2aError::internal(format!(
        "the next event of this stream is larger than the server's limit of {max_bytes} bytes (max_event_bytes); read the task with GetTask"
    ))
    .with_metadata("taskId", harbor_a2a::error::clip(task_id)))
}

/// Whether `value` serializes to at most `max_bytes` of JSON; stops counting past it.
fn json_fits(value: &impl serde::Serialize, max_bytes: usize) -> bool {
    struct Counter {
        left: usize,
    }
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.left = self
                .left
                .checked_sub(buf.len())
                .ok_or_else(|| std::io::Error::other("over the cap"))?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    serde_json::to_writer(&mut Counter { left: max_bytes }, value).is_ok()
}

/// The [`Reply`] of a handler call of each kind of the RPC list.
macro_rules! reply {
    (unary $call:expr) => {
        unary(&$call)
    };
    (stream $call:expr) => {
        Ok(Reply::Stream($call))
    };
    (empty $call:expr) => {{
        let () = $call;
        Ok(empty())
    }};
}

/// [`call`]: each method's params parsed as its request, then its handler method.
macro_rules! call {
    ($($(#[$doc:meta])* $variant:ident $fn:ident: $kind:ident($req:ident -> $resp:ident)
        [$($route:tt)*];)*) => {
        async fn call(
            handler: &dyn A2aHandler,
            method: Method,
            ctx: &CallContext,
            value: Params<'_>,
        ) -> Result<Reply, A2aError> {
            match method {
                $(Method::$variant => reply!($kind handler.$fn(ctx, params(value)?).await?),)*
            }
        }
    };
}

harbor_a2a::for_each_rpc!(call);

#[cfg(test)]
mod tests {
    use harbor_a2a::{Artifact, Message, Part, Role, Task, TaskArtifactUpdateEvent};

    use super::*;

    fn message(i: usize) -> Message {
        Message {
            message_id: format!("m{i}"),
            role: Role::User as i32,
            parts: vec![Part::text("x".repeat(100))],
            ..Message::default()
        }
    }

    #[test]
    fn a_snapshot_loses_its_oldest_history_to_fit() {
        let task = Task {
            id: "t".into(),
            history: (0..64).map(message).collect(),
            ..Task::default()
        };
        let event = StreamResponse {
            payload: Some(Payload::Task(task)),
        };
        let capped = cap_event(event, 2000).expect("fits once trimmed");
        assert!(json_fits(&capped, 2000));
        let Some(Payload::Task(task)) = capped.payload else {
            panic!("a task");
        };
        assert!(!task.history.is_empty() && task.history.len() < 64);
        assert_eq!(
            task.history.last().map(|m| m.message_id.as_str()),
            Some("m63")
        );
    }

    #[test]
    fn other_events_over_the_cap_become_an_error() {
        let event = StreamResponse {
            payload: Some(Payload::ArtifactUpdate(TaskArtifactUpdateEvent {
                task_id: "t".into(),
                context_id: "c".into(),
                artifact: Some(Artifact {
                    artifact_id: "a".into(),
                    parts: vec![Part::text("y".repeat(5000))],
                    ..Artifact::default()
                }),
                ..TaskArtifactUpdateEvent::default()
            })),
        };
        let error = cap_event(event.clone(), 1000).expect_err("too large");
        assert!(
            error.message().contains("max_event_bytes"),
            "{}",
            error.message()
        );
        assert_eq!(cap_event(event.clone(), 10_000), Ok(event));
    }
}
