//! The task event log: every task is a durable, sequenced log of events, and the stored
//! [`Task`] is the projection of that log.
//!
//! Entry 1 of a log is the task's first snapshot (a [`StreamResponse`] holding a `task`);
//! every later entry is a status update, an artifact update or a message (an agent's, or a
//! user's follow-up). Sequence numbers run 1, 2, 3, ... with no gap, and a task's
//! [`StoredTask::version`](crate::StoredTask) is the sequence of its last entry. Folding
//! [`project`] over the entries, from an empty task, gives back the stored task exactly.
//!
//! A [`TaskLog`] writes the new entries and the new projection in **one durable write**
//! ([`TaskLog::append`]): when it returns, both are on disk (or wherever the store keeps
//! them), and a reader that sees one sees the other. A writer names the version it built
//! on, so of two writers holding the same version the second gets
//! [`Error::VersionConflict`] and nothing of its append is kept.
//!
//! Stores may compact the log of a finished task to its projection after a retention
//! period (every store takes a [`Retention`](super::Retention) and documents when it
//! sweeps); [`TaskLog::read_log`] then starts after the removed range, which a reader
//! notices as a gap between the position it asked for and the first entry returned.

use async_trait::async_trait;
use harbor_a2a::{StreamResponse, Task, stream_response::Payload};

use super::{Leases, PushOutbox, TaskStore};
use crate::{Error, Owner};

/// One entry of a task's log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// Its position: 1 for the first entry, then one more per entry.
    pub sequence: u64,
    /// The event.
    pub event: StreamResponse,
}

/// A [`TaskStore`] that keeps each task as a sequenced event log with the task as its
/// projection, the entries and the projection written together in one durable write.
///
/// On such a store [`TaskStore::create`] writes entry 1 (the task's snapshot) and
/// [`TaskStore::update`] appends the new snapshot as one entry, so plain store writes keep
/// the log and the projection in step too.
///
/// It is the [`PushOutbox`] of its tasks' push configs too: their delivery cursors live
/// beside the logs they read.
#[async_trait]
pub trait TaskLog: TaskStore + PushOutbox {
    /// Appends `events` to the log of `owner`'s task `task.id` as the entries after
    /// `expected_version`, and stores `task`, the projection after them, in the same
    /// durable write. Returns the new version (the sequence of the last event).
    ///
    /// `expected_version` 0 creates the task; its first event must then be the task's
    /// snapshot.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for no events or a creation that does not start with a
    /// snapshot; [`Error::AlreadyExists`] when creating a taken id; [`Error::TaskNotFound`]
    /// for a task that is missing or another owner's; [`Error::VersionConflict`] when the
    /// task is no longer at `expected_version`. Nothing is written on any error.
    async fn append(
        &self,
        owner: &Owner,
        task: &Task,
        expected_version: u64,
        events: &[StreamResponse],
    ) -> Result<u64, Error>;

    /// At most `limit` (at least 1) entries of `owner`'s task `task_id` after sequence
    /// `after`, oldest first. Entries compacted away are skipped: the first entry returned
    /// may then be later than `after + 1`.
    ///
    /// # Errors
    ///
    /// [`Error::TaskNotFound`] for a task that is missing or another owner's.
    async fn read_log(
        &self,
        owner: &Owner,
        task_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, Error>;

    /// At most `limit` (at least 1) tasks in SUBMITTED or WORKING state whose id sorts after
    /// `after` ("" for the first), every owner's, in id order, with their owners: the tasks
    /// an execution holds. A server that is its store's only writer resolves them when it
    /// starts, since any execution it ran died with its last process.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the store fails.
    async fn active_tasks(&self, after: &str, limit: usize) -> Result<Vec<(Owner, String)>, Error>;

    /// The execution leases of this store, when several processes can share it (see
    /// [`Leases`]); `None` (the default) for a store one process owns, whose executions
    /// all die with it.
    fn leases(&self) -> Option<&dyn Leases> {
        None
    }
}

/// The one log entry holding the whole task: what plain store writes
/// ([`TaskStore::create`], [`TaskStore::update`]) append to a task log.
pub fn snapshot(task: &Task) -> [StreamResponse; 1] {
    [StreamResponse {
        payload: Some(Payload::Task(task.clone())),
    }]
}

/// Checks what every log requires of an append before anything is written: a storable
/// task, at least one event, and a snapshot first when creating.
///
/// # Errors
///
/// [`Error::InvalidArgument`] saying what is wrong.
pub fn check_append(
    task: &Task,
    expected_version: u64,
    events: &[StreamResponse],
) -> Result<(), Error> {
    super::check_task(task)?;
    let Some(first) = events.first() else {
        return Err(Error::InvalidArgument(format!(
            "an append to task {} carries no event",
            task.id
        )));
    };
    if expected_version == 0 && !matches!(first.payload, Some(Payload::Task(_))) {
        return Err(Error::InvalidArgument(format!(
            "the log of task {} must start with the task's snapshot",
            task.id
        )));
    }
    Ok(())
}

/// Applies one log event to the task it follows: the one rule by which a task is rebuilt
/// from its log, wherever that happens.
///
/// - a `task` replaces the whole task;
/// - a status update sets the status, and the previous status message joins the history;
/// - an artifact update adds the artifact, replaces the one with its id, or (with
///   `append`) adds its parts to that one;
/// - a message joins the history.
pub fn project(task: &mut Task, event: &StreamResponse) {
    match &event.payload {
        Some(Payload::Task(snapshot)) => snapshot.clone_into(task),
        Some(Payload::StatusUpdate(update)) => {
            if let Some(previous) = task.status.take().and_then(|s| s.message) {
                task.history.push(previous);
            }
            task.status.clone_from(&update.status);
        }
        Some(Payload::ArtifactUpdate(update)) => {
            let Some(artifact) = &update.artifact else {
                return;
            };
            let existing = task
                .artifacts
                .iter_mut()
                .find(|a| a.artifact_id == artifact.artifact_id);
            match existing {
                Some(existing) if update.append => {
                    existing.parts.extend(artifact.parts.iter().cloned());
                }
                Some(existing) => artifact.clone_into(existing),
                None => task.artifacts.push(artifact.clone()),
            }
        }
        Some(Payload::Message(message)) => task.history.push(message.clone()),
        None => {}
    }
}

/// The task a whole log projects to: [`project`] folded over `events` from an empty task.
pub fn replay<'a>(events: impl IntoIterator<Item = &'a StreamResponse>) -> Task {
    let mut task = Task::default();
    for event in events {
        project(&mut task, event);
    }
    task
}

#[cfg(test)]
mod tests {
    use harbor_a2a::{
        Artifact, Message, Role, TaskArtifactUpdateEvent, TaskState, TaskStatus,
        TaskStatusUpdateEvent,
    };

    use super::*;

    fn text(t: &str) -> harbor_a2a::Part {
        harbor_a2a::Part {
            content: Some(harbor_a2a::part::Content::Text(t.into())),
            ..harbor_a2a::Part::default()
        }
    }

    fn status(state: TaskState, message: Option<&str>) -> StreamResponse {
        StreamResponse {
            payload: Some(Payload::StatusUpdate(TaskStatusUpdateEvent {
                task_id: "t".into(),
                status: Some(TaskStatus {
                    state: state as i32,
                    message: message.map(|m| Message {
                        message_id: m.into(),
                        role: Role::Agent as i32,
                        parts: vec![text(m)],
                        ..Message::default()
                    }),
                    timestamp: None,
                }),
                ..TaskStatusUpdateEvent::default()
            })),
        }
    }

    fn chunk(id: &str, part: &str, append: bool) -> StreamResponse {
        StreamResponse {
            payload: Some(Payload::ArtifactUpdate(TaskArtifactUpdateEvent {
                task_id: "t".into(),
                artifact: Some(Artifact {
                    artifact_id: id.into(),
                    parts: vec![text(part)],
                    ..Artifact::default()
                }),
                append,
                ..TaskArtifactUpdateEvent::default()
            })),
        }
    }

    #[test]
    fn a_log_replays_to_its_projection() {
        let created = Task {
            id: "t".into(),
            status: Some(TaskStatus {
                state: TaskState::Submitted as i32,
                ..TaskStatus::default()
            }),
            ..Task::default()
        };
        let log = [
            StreamResponse {
                payload: Some(Payload::Task(created)),
            },
            status(TaskState::Working, Some("thinking")),
            chunk("a", "one ", false),
            chunk("a", "two", true),
            chunk("b", "old", false),
            chunk("b", "new", false),
            status(TaskState::Completed, Some("done")),
        ];
        let task = replay(&log);
        assert_eq!(task.id, "t");
        assert_eq!(
            task.status.as_ref().map(|s| s.state),
            Some(TaskState::Completed as i32)
        );
        // The WORKING message moved to the history when COMPLETED replaced it.
        let history: Vec<_> = task.history.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(history, ["thinking"]);
        let parts: Vec<Vec<_>> = task
            .artifacts
            .iter()
            .map(|a| a.parts.iter().map(|p| p.content.clone()).collect())
            .collect();
        assert_eq!(
            parts,
            [
                vec![text("one ").content, text("two").content],
                vec![text("new").content]
            ]
        );
    }

    #[test]
    fn appends_are_checked_before_anything_is_written() {
        let task = Task {
            id: "t".into(),
            status: Some(TaskStatus::default()),
            ..Task::default()
        };
        let no_events = check_append(&task, 3, &[]);
        assert!(matches!(no_events, Err(Error::InvalidArgument(m)) if m.contains("no event")));
        let no_snapshot = check_append(&task, 0, &[status(TaskState::Working, None)]);
        assert!(matches!(no_snapshot, Err(Error::InvalidArgument(m)) if m.contains("snapshot")));
        assert!(check_append(&task, 3, &[status(TaskState::Working, None)]).is_ok());
    }
}
