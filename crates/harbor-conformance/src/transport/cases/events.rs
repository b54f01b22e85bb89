//! Reading stream events and checking the order of a task's lifecycle.

use std::collections::BTreeMap;

use harbor_a2a::stream_response::Payload;
use harbor_a2a::{StreamResponse, TaskState};

use crate::transport::model::{is_interrupted, is_terminal, state_of, text_of};

/// Where a stream may end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// Only on a terminal state (subscriptions).
    Terminal,
    /// On a terminal or an interrupted state (sends).
    TerminalOrInterrupted,
}

/// The task state an event carries, if it carries one.
pub(super) fn state_in(event: &StreamResponse) -> Option<TaskState> {
    match &event.payload {
        Some(Payload::Task(task)) => Some(state_of(task)),
        Some(Payload::StatusUpdate(update)) => Some(
            update
                .status
                .as_ref()
                .map_or(TaskState::Unspecified, |s| s.state()),
        ),
        _ => None,
    }
}

/// The task and context ids an event is about.
fn ids_of(event: &StreamResponse) -> Option<(&str, &str)> {
    match &event.payload {
        Some(Payload::Task(t)) => Some((&t.id, &t.context_id)),
        Some(Payload::StatusUpdate(u)) => Some((&u.task_id, &u.context_id)),
        Some(Payload::ArtifactUpdate(u)) => Some((&u.task_id, &u.context_id)),
        Some(Payload::Message(_)) | None => None,
    }
}

/// Whether a task may move from `from` to `to` (repeating a state is allowed; leaving a
/// terminal state or going back to SUBMITTED is not).
pub(super) fn legal(from: TaskState, to: TaskState) -> bool {
    to != TaskState::Unspecified
        && !is_terminal(from)
        && (to != TaskState::Submitted || from == TaskState::Submitted)
}

/// Checks one task's stream: first a task, every event about that task, states only moving
/// forward, and the last event in a state `end` allows. Returns the states seen, in order.
pub(super) fn check_lifecycle(events: &[StreamResponse], what: &str, end: End) -> Vec<TaskState> {
    let Some(Payload::Task(first)) = events.first().and_then(|e| e.payload.as_ref()) else {
        panic!(
            "{what}: the first event must be the task, got {:?}",
            events.first()
        );
    };
    let mut states = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let (task_id, context_id) = ids_of(event)
            .unwrap_or_else(|| panic!("{what}: event {i} is not about a task: {event:?}"));
        assert_eq!(task_id, first.id, "{what}: event {i} names another task");
        assert_eq!(
            context_id, first.context_id,
            "{what}: event {i} names another context"
        );
        if let Some(state) = state_in(event) {
            if let Some(&previous) = states.last() {
                assert!(
                    legal(previous, state),
                    "{what}: event {i} moves the task back from {previous:?} to {state:?}; states so far {states:?}"
                );
            }
            states.push(state);
        }
    }
    let last = events.last().and_then(state_in);
    let ends_well = last.is_some_and(|s| match end {
        End::Terminal => is_terminal(s),
        End::TerminalOrInterrupted => is_terminal(s) || is_interrupted(s),
    });
    assert!(
        ends_well,
        "{what}: the last event must carry a {end:?} state, got {:?} (states {states:?})",
        events.last()
    );
    states
}

/// The text of every artifact in `events`, by artifact id, honouring `append`.
pub(super) fn artifact_texts(events: &[StreamResponse]) -> BTreeMap<String, String> {
    let mut texts = BTreeMap::new();
    for event in events {
        if let Some(Payload::ArtifactUpdate(update)) = &event.payload {
            let Some(artifact) = &update.artifact else {
                continue;
            };
            let text: &mut String = texts.entry(artifact.artifact_id.clone()).or_default();
            if !update.append {
                text.clear();
            }
            text.push_str(&text_of(&artifact.parts));
        }
    }
    texts
}
