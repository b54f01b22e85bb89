//! The user's agent: what runs when a message arrives.

use async_trait::async_trait;
use harbor_a2a::{A2aError, Artifact, Message, Part, Role, Task, TaskState};
use harbor_distributed::CallContext;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// An agent. The server calls [`execute`](Self::execute) once per incoming message, with
/// an [`EventSink`] to report progress on; the events are stored before anyone sees them.
#[async_trait]
pub trait AgentExecutor: Send + Sync + 'static {
    /// Handles one user message: emit status updates and artifacts (a task) or one direct
    /// [`EventSink::reply`] (no task). Watch [`RequestContext::cancel`] to stop early.
    /// An error before any event fails the request; after, it fails the task.
    async fn execute(&self, ctx: RequestContext, events: EventSink) -> Result<(), A2aError>;

    /// Cancels the task. The default emits CANCELED; override to clean up first.
    async fn cancel(&self, ctx: RequestContext, events: EventSink) -> Result<(), A2aError> {
        let _ = ctx;
        events.status(TaskState::Canceled, None).await
    }

    /// Whether an execution lost with its process (a crash, a stop that outlasted the
    /// grace period) may simply run again for the same message. When true, the server
    /// re-runs such tasks when it starts, or on a store several servers share, another
    /// server re-runs them once their lease expired (the agent sees the task as it was
    /// left, events already stored stay); when false (the default), they are failed with a
    /// status message saying the execution was lost.
    fn retry_safe(&self) -> bool {
        false
    }
}

/// What an execution knows about its request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The user message (for a cancel, the last one).
    pub message: Message,
    /// The task before this message, if it already existed.
    pub task: Option<Task>,
    /// The task id (generated for a new task).
    pub task_id: String,
    /// The context id (the client's, the task's or generated).
    pub context_id: String,
    /// Who called, with the service parameters.
    pub call: CallContext,
    /// Fires when the task is canceled or the server shuts down.
    pub cancel: CancellationToken,
}

/// One thing an agent reports.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// A new status, with an optional agent message.
    Status {
        /// The new state.
        state: TaskState,
        /// The agent's message for it.
        message: Option<Message>,
    },
    /// An artifact, or a chunk of one.
    Artifact {
        /// The artifact (its parts are the chunk when `append`).
        artifact: Artifact,
        /// Append these parts to the artifact with the same id.
        append: bool,
        /// This is the artifact's last chunk.
        last_chunk: bool,
    },
    /// A direct reply instead of a task.
    Reply(Message),
}

/// Where an agent emits its events. Cloneable; every clone feeds the same task.
#[derive(Debug, Clone)]
pub struct EventSink {
    task_id: String,
    context_id: String,
    tx: mpsc::Sender<AgentEvent>,
}

impl EventSink {
    pub(crate) fn new(task_id: String, context_id: String, tx: mpsc::Sender<AgentEvent>) -> Self {
        Self {
            task_id,
            context_id,
            tx,
        }
    }

    /// Emits an event; fails with an internal error once the task no longer listens
    /// (it was canceled, or the server is stopping).
    pub async fn emit(&self, event: AgentEvent) -> Result<(), A2aError> {
        self.tx.send(event).await.map_err(|_| {
            A2aError::internal(format!("task {} no longer accepts events", self.task_id))
        })
    }

    /// Emits a status.
    pub async fn status(&self, state: TaskState, message: Option<Message>) -> Result<(), A2aError> {
        self.emit(AgentEvent::Status { state, message }).await
    }

    /// Emits WORKING.
    pub async fn working(&self) -> Result<(), A2aError> {
        self.status(TaskState::Working, None).await
    }

    /// Emits COMPLETED with an optional agent text.
    pub async fn complete(&self, text: Option<&str>) -> Result<(), A2aError> {
        let message = text.map(|t| self.agent_message(vec![text_part(t)]));
        self.status(TaskState::Completed, message).await
    }

    /// Emits an artifact (or a chunk of one).
    pub async fn artifact(
        &self,
        artifact: Artifact,
        append: bool,
        last_chunk: bool,
    ) -> Result<(), A2aError> {
        self.emit(AgentEvent::Artifact {
            artifact,
            append,
            last_chunk,
        })
        .await
    }

    /// Replies with a message instead of a task.
    pub async fn reply(&self, parts: Vec<Part>) -> Result<(), A2aError> {
        let mut message = self.agent_message(parts);
        message.task_id.clear();
        self.emit(AgentEvent::Reply(message)).await
    }

    /// An agent message in this task's context.
    pub fn agent_message(&self, parts: Vec<Part>) -> Message {
        Message {
            message_id: uuid::Uuid::new_v4().to_string(),
            context_id: self.context_id.clone(),
            task_id: self.task_id.clone(),
            role: Role::Agent as i32,
            parts,
            ..Message::default()
        }
    }

    /// The task id.
    pub fn task_id(&self) -> &str {
        &self.task_id
    }

    /// The context id.
    pub fn context_id(&self) -> &str {
        &self.context_id
    }
}

/// A text part.
pub fn text_part(text: &str) -> Part {
    Part {
        content: Some(harbor_a2a::part::Content::Text(text.to_owned())),
        ..Part::default()
    }
}
