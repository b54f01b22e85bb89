//! Starting work on a message, and running it one step at a time.

use std::collections::VecDeque;

use harbor_a2a::{
    A2aError, Message, Role, SendMessageRequest, StreamResponse, Task, TaskState, TaskStatus,
};
use harbor_distributed::Owner;
use tokio_util::sync::CancellationToken;

use super::behaviour::{self, Behaviour, Step};
use super::state::TaskRecord;
use super::{ConformanceAgent, Gauge, push};
use crate::transport::model::{is_interrupted, is_terminal, now, text_message, unique_id};

/// What a message started.
pub(super) enum Started {
    /// A direct reply; no work, no task change.
    Reply(Message),
    /// Work on a task: its snapshot once the user message is recorded, and the work to run.
    Task {
        snapshot: Box<Task>,
        execution: Execution,
    },
}

impl ConformanceAgent {
    /// Records the user message of `req` (on a new task, or on the interrupted task it
    /// names) and returns the work its behaviour asks for.
    pub(super) fn start(
        &self,
        owner: &Owner,
        req: SendMessageRequest,
    ) -> Result<Started, A2aError> {
        let mut message = req
            .message
            .ok_or_else(|| A2aError::invalid_params("message is required"))?;
        validate(&message)?;
        let inline_push = req
            .configuration
            .and_then(|c| c.task_push_notification_config);
        if inline_push.as_ref().is_some_and(|c| c.url.is_empty()) {
            return Err(A2aError::invalid_params("a push config needs a url"));
        }
        let behaviour = behaviour::for_message(&message.message_id);

        let mut tasks = self.tasks();
        let follow_up = !message.task_id.is_empty();
        if follow_up {
            let record = tasks.get_mut(owner, &message.task_id)?;
            check_follow_up(record, &message)?;
            message.context_id.clone_from(&record.task.context_id);
            record.task.history.push(message.clone());
        } else if message.context_id.is_empty() {
            message.context_id = unique_id("ctx");
        }
        let steps = match behaviour {
            Behaviour::Reply(text) => {
                let mut reply = text_message(Role::Agent, unique_id("agent-msg"), text);
                reply.context_id = message.context_id;
                reply.task_id = message.task_id;
                return Ok(Started::Reply(reply));
            }
            Behaviour::Steps(steps) => steps,
        };
        if !follow_up {
            message.task_id = unique_id("task");
            let task = Task {
                id: message.task_id.clone(),
                context_id: message.context_id.clone(),
                status: Some(TaskStatus {
                    state: TaskState::Submitted.into(),
                    message: None,
                    timestamp: Some(now()),
                }),
                history: vec![message.clone()],
                ..Task::default()
            };
            tasks.insert(owner.clone(), task);
        }
        if let Some(mut config) = inline_push {
            config.task_id.clone_from(&message.task_id);
            push::create(&mut tasks, owner, config)?;
        }
        let record = tasks.get(owner, &message.task_id)?;
        let snapshot = Box::new(record.task.clone());
        let canceled = record.canceled.clone();
        drop(tasks);
        Ok(Started::Task {
            snapshot,
            execution: Execution {
                agent: self.clone(),
                task_id: message.task_id,
                steps: steps.into(),
                canceled,
                finished: false,
                _work: Gauge::new(&self.shared.active_work),
            },
        })
    }
}

fn validate(message: &Message) -> Result<(), A2aError> {
    if message.message_id.is_empty() {
        return Err(A2aError::invalid_params("message.messageId is required"));
    }
    if message.role() != Role::User {
        return Err(A2aError::invalid_params("message.role must be ROLE_USER"));
    }
    if message.parts.is_empty() {
        return Err(A2aError::invalid_params(
            "message.parts needs at least one part",
        ));
    }
    Ok(())
}

/// A follow-up must go to an interrupted task and agree with its context.
fn check_follow_up(record: &TaskRecord, message: &Message) -> Result<(), A2aError> {
    let state = record.state();
    let id = &record.task.id;
    if is_terminal(state) {
        return Err(A2aError::unsupported(format!(
            "task {id} is {} and takes no more messages; start a new task",
            state.as_str_name()
        )));
    }
    if !is_interrupted(state) {
        return Err(A2aError::unsupported(format!(
            "task {id} is still {}; wait until it asks for input",
            state.as_str_name()
        )));
    }
    if !message.context_id.is_empty() && message.context_id != record.task.context_id {
        return Err(A2aError::invalid_params(format!(
            "contextId {} does not match task {id}'s context",
            message.context_id
        )));
    }
    Ok(())
}

/// Work on one task. Dropping it before it finished cancels the task, so work never
/// outlives whoever was waiting for it.
pub(super) struct Execution {
    agent: ConformanceAgent,
    task_id: String,
    steps: VecDeque<Step>,
    canceled: CancellationToken,
    finished: bool,
    _work: Gauge,
}

impl Execution {
    /// Runs the next step and returns its event; `None` once the work is over. If the task
    /// was canceled meanwhile, the last event is its CANCELED status.
    pub(super) async fn next_event(&mut self) -> Option<StreamResponse> {
        if self.finished {
            return None;
        }
        while let Some(step) = self.steps.pop_front() {
            if let Step::Pause(pause) = step {
                tokio::select! {
                    () = tokio::time::sleep(pause) => continue,
                    () = self.canceled.cancelled() => break,
                }
            }
            // Let other calls interleave between steps, as a real agent's would.
            tokio::task::yield_now().await;
            let mut tasks = self.agent.tasks();
            let event = match step {
                Step::Status(state, text) => tasks.set_status(&self.task_id, state, text),
                Step::Artifact {
                    artifact,
                    append,
                    last_chunk,
                } => tasks.add_artifact(&self.task_id, artifact, append, last_chunk),
                Step::Pause(_) => None,
            };
            drop(tasks);
            if let Some(event) = event {
                self.finished = self.steps.is_empty();
                return Some(event);
            }
            break;
        }
        // Ended early: the task was canceled by someone else.
        self.finished = true;
        self.steps.clear();
        self.agent.tasks().status_event(&self.task_id)
    }

    /// Runs every remaining step.
    pub(super) async fn run(mut self) {
        while self.next_event().await.is_some() {}
    }
}

impl Drop for Execution {
    fn drop(&mut self) {
        if !self.finished {
            let text = "the work was abandoned: nobody was waiting for it any more";
            let mut tasks = self.agent.tasks();
            tasks.set_status(&self.task_id, TaskState::Canceled, Some(text.to_owned()));
        }
    }
}
