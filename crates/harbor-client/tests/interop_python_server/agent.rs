//! What the checks share: the client forced onto one binding, unique ids, and helpers that
//! turn results into a reason to fail.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use harbor_a2a::stream_response::Payload as Event;
use harbor_a2a::{
    ErrorKind, GetTaskRequest, Message, Part, SendMessageRequest, SendMessageResponse,
    StreamResponse, SubscribeToTaskRequest, Task, TaskState, send_message_response,
};
use harbor_client::{A2aTransport, Binding};
use harbor_distributed::{CallContext, Error, EventStream, Identity, Peer, RemoteTransport};

/// What a check returns: `Err` says what is wrong.
pub(crate) type Checked<T = ()> = Result<T, String>;

/// A fresh id with the behaviour `prefix`.
pub(crate) fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{prefix}-{nanos:x}-{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub(crate) fn shown(error: &Error) -> String {
    match error {
        Error::Protocol(e) => format!("protocol error {}: {}", e.reason(), e.message()),
        other => {
            let source = std::error::Error::source(other).map(ToString::to_string);
            format!("{other} ({})", source.unwrap_or_default())
        }
    }
}

/// A call that must succeed; `what` names it in the failure.
pub(crate) fn call<T>(what: &str, result: Result<T, Error>) -> Checked<T> {
    result.map_err(|e| format!("{what}: {}", shown(&e)))
}

/// A call that must fail with the protocol error `kind`.
pub(crate) fn refused<T>(what: &str, result: Result<T, Error>, kind: ErrorKind) -> Checked {
    match result {
        Err(Error::Protocol(e)) if e.kind() == kind => Ok(()),
        Err(other) => Err(format!("{what}: expected {kind:?}, got {}", shown(&other))),
        Ok(_) => Err(format!("{what}: expected {kind:?}, the call succeeded")),
    }
}

/// The client forced onto one binding, the peer and a caller identity.
pub(crate) struct Agent {
    pub(crate) transport: A2aTransport,
    pub(crate) peer: Peer,
    pub(crate) ctx: CallContext,
    pub(crate) binding: Binding,
}

impl Agent {
    pub(crate) fn new(base_url: &str, binding: Binding) -> Self {
        let transport = A2aTransport::builder()
            .bindings([binding])
            .build()
            .expect("a transport");
        let identity = Identity::new("interop", "harbor", unique("session")).expect("an identity");
        Self {
            transport,
            peer: Peer::new(base_url),
            ctx: CallContext::new(identity),
            binding,
        }
    }

    pub(crate) fn request(
        prefix: &str,
        task_id: Option<&str>,
        context_id: Option<&str>,
    ) -> SendMessageRequest {
        let mut message = Message::user(unique(prefix), [Part::text("hello from harbor")]);
        if let Some(task) = task_id {
            message = message.with_task_id(task);
        }
        if let Some(context) = context_id {
            message = message.with_context_id(context);
        }
        SendMessageRequest {
            message: Some(message),
            ..SendMessageRequest::default()
        }
    }

    pub(crate) async fn send(&self, req: SendMessageRequest) -> Result<SendMessageResponse, Error> {
        self.transport
            .send_message(&self.peer, &self.ctx, req)
            .await
    }

    /// SendMessage with `prefix`, expecting a task back.
    pub(crate) async fn task(&self, prefix: &str, context_id: Option<&str>) -> Checked<Task> {
        let reply = call(
            "SendMessage",
            self.send(Self::request(prefix, None, context_id)).await,
        )?;
        match reply.payload {
            Some(send_message_response::Payload::Task(task)) => Ok(task),
            other => Err(format!(
                "SendMessage {prefix}: expected a task, got {other:?}"
            )),
        }
    }

    pub(crate) async fn get(&self, id: &str, history_length: Option<i32>) -> Result<Task, Error> {
        let req = GetTaskRequest {
            id: id.to_owned(),
            history_length,
            ..GetTaskRequest::default()
        };
        self.transport.get_task(&self.peer, &self.ctx, req).await
    }

    pub(crate) async fn subscribe(&self, task_id: &str) -> Result<EventStream, Error> {
        let req = SubscribeToTaskRequest {
            id: task_id.to_owned(),
            ..SubscribeToTaskRequest::default()
        };
        self.transport
            .subscribe_to_task(&self.peer, &self.ctx, req)
            .await
    }
}

/// Every event left on a stream.
pub(crate) async fn drain(stream: &mut EventStream) -> Checked<Vec<StreamResponse>> {
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        let event = event.map_err(|e| format!("after {} event(s): {}", events.len(), shown(&e)))?;
        events.push(event);
    }
    Ok(events)
}

/// The first event is a task, states never go back, and the last event is `terminal`.
pub(crate) fn check_lifecycle(events: &[StreamResponse], terminal: TaskState) -> Checked {
    let first = events.first().and_then(|e| e.payload.as_ref());
    ensure!(
        matches!(first, Some(Event::Task(_))),
        "the first event is not a task: {events:?}"
    );
    let states: Vec<TaskState> = events.iter().filter_map(StreamResponse::state).collect();
    for pair in states.windows(2) {
        ensure!(
            pair[0] == pair[1] || pair[0].can_transition_to(pair[1]),
            "the state went from {:?} to {:?}: {states:?}",
            pair[0],
            pair[1]
        );
    }
    ensure!(
        events.last().and_then(StreamResponse::state) == Some(terminal),
        "the last event does not carry {terminal:?}: {states:?}"
    );
    Ok(())
}

/// The text of every artifact update, in order.
pub(crate) fn artifact_texts(events: &[StreamResponse]) -> Vec<String> {
    let text = |a: &harbor_a2a::Artifact| a.parts.iter().filter_map(Part::as_text).collect();
    events
        .iter()
        .filter_map(|e| match &e.payload {
            Some(Event::ArtifactUpdate(u)) => u.artifact.as_ref().map(text),
            _ => None,
        })
        .collect()
}
