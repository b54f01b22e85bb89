//! The agent's tasks: owner, current snapshot, live subscribers and push configs.
//!
//! Every change happens under one lock and is sent to the subscribers in the same critical
//! section, so every subscriber sees the same events in the same order, and a new
//! subscriber's first event (the snapshot) is followed by exactly the changes after it.

use std::collections::HashMap;

use futures::channel::mpsc;
use harbor_a2a::stream_response::Payload;
use harbor_a2a::{
    A2aError, Artifact, Role, StreamResponse, Task, TaskArtifactUpdateEvent, TaskState, TaskStatus,
    TaskStatusUpdateEvent,
};
use harbor_distributed::Owner;
use tokio_util::sync::CancellationToken;

use crate::transport::model::{is_terminal, now, state_of, text_message, unique_id};

/// One task and what hangs off it.
pub(super) struct TaskRecord {
    pub(super) owner: Owner,
    pub(super) task: Task,
    /// When the status last changed, on the agent's logical clock (ListTasks sorts on it,
    /// newest first; unlike timestamps it never ties).
    pub(super) updated: u64,
    subscribers: Vec<mpsc::UnboundedSender<StreamResponse>>,
    pub(super) push_configs: Vec<harbor_a2a::TaskPushNotificationConfig>,
    /// Cancelled when the task is canceled, to wake work that is pausing.
    pub(super) canceled: CancellationToken,
}

impl TaskRecord {
    pub(super) fn state(&self) -> TaskState {
        state_of(&self.task)
    }
}

/// All tasks of one agent.
#[derive(Default)]
pub(super) struct Tasks {
    records: HashMap<String, TaskRecord>,
    clock: u64,
}

impl Tasks {
    /// Stores a new task for `owner`.
    pub(super) fn insert(&mut self, owner: Owner, task: Task) {
        self.clock += 1;
        let record = TaskRecord {
            owner,
            updated: self.clock,
            subscribers: Vec::new(),
            push_configs: Vec::new(),
            canceled: CancellationToken::new(),
            task,
        };
        self.records.insert(record.task.id.clone(), record);
    }

    /// `owner`'s task `id`; another owner's task is not found, exactly like a missing one.
    pub(super) fn get(&self, owner: &Owner, id: &str) -> Result<&TaskRecord, A2aError> {
        self.records
            .get(id)
            .filter(|r| &r.owner == owner)
            .ok_or_else(|| A2aError::task_not_found(id))
    }

    /// Like [`get`](Self::get), for changing the task's history or push configs.
    pub(super) fn get_mut(&mut self, owner: &Owner, id: &str) -> Result<&mut TaskRecord, A2aError> {
        self.records
            .get_mut(id)
            .filter(|r| &r.owner == owner)
            .ok_or_else(|| A2aError::task_not_found(id))
    }

    /// Every task of `owner`.
    pub(super) fn owned_by<'a>(&'a self, owner: &'a Owner) -> impl Iterator<Item = &'a TaskRecord> {
        self.records.values().filter(move |r| &r.owner == owner)
    }

    /// The task as it is now, whoever owns it (for work the agent already runs).
    pub(super) fn snapshot(&self, id: &str) -> Option<Task> {
        self.records.get(id).map(|r| r.task.clone())
    }

    /// A status update carrying the task's current status.
    pub(super) fn status_event(&self, id: &str) -> Option<StreamResponse> {
        let record = self.records.get(id)?;
        Some(status_event(&record.task))
    }

    /// Moves a task that is not terminal to `state`; sends and returns the event.
    pub(super) fn set_status(
        &mut self,
        id: &str,
        state: TaskState,
        text: Option<String>,
    ) -> Option<StreamResponse> {
        self.clock += 1;
        let clock = self.clock;
        let record = self.live(id)?;
        record.updated = clock;
        let task = &mut record.task;
        let message = text.map(|text| {
            let mut message = text_message(Role::Agent, unique_id("agent-msg"), text);
            message.task_id.clone_from(&task.id);
            message.context_id.clone_from(&task.context_id);
            message
        });
        task.status = Some(TaskStatus {
            state: state.into(),
            message,
            timestamp: Some(now()),
        });
        let event = status_event(task);
        if state == TaskState::Canceled {
            record.canceled.cancel();
        }
        Some(record.publish(event, is_terminal(state)))
    }

    /// Adds or extends an artifact of a task that is not terminal; sends and returns the event.
    pub(super) fn add_artifact(
        &mut self,
        id: &str,
        artifact: Artifact,
        append: bool,
        last_chunk: bool,
    ) -> Option<StreamResponse> {
        let record = self.live(id)?;
        let artifacts = &mut record.task.artifacts;
        match artifacts
            .iter_mut()
            .find(|a| a.artifact_id == artifact.artifact_id)
        {
            Some(existing) if append => existing.parts.extend(artifact.parts.iter().cloned()),
            Some(existing) => *existing = artifact.clone(),
            None => artifacts.push(artifact.clone()),
        }
        let event = StreamResponse {
            payload: Some(Payload::ArtifactUpdate(TaskArtifactUpdateEvent {
                task_id: record.task.id.clone(),
                context_id: record.task.context_id.clone(),
                artifact: Some(artifact),
                append,
                last_chunk,
                metadata: None,
            })),
        };
        Some(record.publish(event, false))
    }

    /// A live subscription to `owner`'s task `id`: its snapshot now, and every later event.
    /// A terminal task cannot be subscribed to.
    pub(super) fn subscribe(
        &mut self,
        owner: &Owner,
        id: &str,
    ) -> Result<(Task, mpsc::UnboundedReceiver<StreamResponse>), A2aError> {
        let record = self
            .records
            .get_mut(id)
            .filter(|r| &r.owner == owner)
            .ok_or_else(|| A2aError::task_not_found(id))?;
        if is_terminal(record.state()) {
            return Err(A2aError::unsupported(format!(
                "task {id} is {} and will not change; nothing to subscribe to",
                record.state().as_str_name()
            )));
        }
        let (tx, rx) = mpsc::unbounded();
        record.subscribers.push(tx);
        Ok((record.task.clone(), rx))
    }

    /// The record of a task that can still change.
    fn live(&mut self, id: &str) -> Option<&mut TaskRecord> {
        self.records.get_mut(id).filter(|r| !is_terminal(r.state()))
    }
}

impl TaskRecord {
    /// Sends `event` to every subscriber; after the final event their streams end.
    fn publish(&mut self, event: StreamResponse, last: bool) -> StreamResponse {
        self.subscribers
            .retain(|tx| tx.unbounded_send(event.clone()).is_ok());
        if last {
            self.subscribers.clear();
        }
        event
    }
}

fn status_event(task: &Task) -> StreamResponse {
    StreamResponse {
        payload: Some(Payload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: task.id.clone(),
            context_id: task.context_id.clone(),
            status: task.status.clone(),
            metadata: None,
        })),
    }
}
