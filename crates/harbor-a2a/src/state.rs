//! Task-state rules (A2A v1.0 §6.1): which states are terminal, interrupted or active, and
//! which transitions a task may make.
//!
//! The rules, as a table (`from` down, `to` across; `UNSPECIFIED` as `from` means "the task
//! has no status yet", i.e. creation):
//!
//! | from \ to | SUBMITTED | WORKING | INPUT_REQ / AUTH_REQ | COMPLETED / FAILED / CANCELED / REJECTED |
//! |---|---|---|---|---|
//! | (creation) | yes | yes | yes | yes |
//! | SUBMITTED | yes (same state) | yes | yes | yes |
//! | WORKING | no | yes | yes | yes |
//! | INPUT_REQUIRED / AUTH_REQUIRED | no | yes | yes | yes |
//! | any terminal state | no | no | no | no |
//!
//! `UNSPECIFIED` is never a target. A task never goes back to SUBMITTED once it has moved on
//! (states must not go backwards, TCK STREAM-ORDER-001), and nothing leaves a terminal state,
//! not even to the same state.

use crate::{A2aError, ErrorKind, TaskState};

impl TaskState {
    /// Every state, in proto order (UNSPECIFIED first).
    pub const ALL: [TaskState; 9] = [
        Self::Unspecified,
        Self::Submitted,
        Self::Working,
        Self::Completed,
        Self::Failed,
        Self::Canceled,
        Self::InputRequired,
        Self::Rejected,
        Self::AuthRequired,
    ];

    /// COMPLETED, FAILED, CANCELED or REJECTED: the task is over and never changes again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::Canceled | Self::Rejected
        )
    }

    /// INPUT_REQUIRED or AUTH_REQUIRED: the task waits for the client.
    pub fn is_interrupted(self) -> bool {
        matches!(self, Self::InputRequired | Self::AuthRequired)
    }

    /// SUBMITTED or WORKING: the agent has the task in hand.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Submitted | Self::Working)
    }

    /// Whether a task in this state may move to `next` (see the [module docs](crate::state)).
    pub fn can_transition_to(self, next: TaskState) -> bool {
        if next == Self::Unspecified || self.is_terminal() {
            return false;
        }
        match self {
            Self::Unspecified | Self::Submitted => true,
            _ => next != Self::Submitted,
        }
    }
}

/// Checks a status change from `from` to `to`.
///
/// ```
/// use harbor_a2a::{ErrorKind, TaskState, state::check_transition};
///
/// assert!(check_transition(TaskState::Working, TaskState::Completed).is_ok());
/// let err = check_transition(TaskState::Completed, TaskState::Working).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::UnsupportedOperation);
/// ```
///
/// # Errors
/// `UnsupportedOperation` when `from` is terminal (a terminal task never restarts; the spec
/// gives this error for a message to such a task); `InvalidAgentResponse` for any other illegal
/// move, since only the agent sets task states. Callers with a more specific error (such as
/// `TaskNotCancelable` for CancelTask) check for it first.
pub fn check_transition(from: TaskState, to: TaskState) -> Result<(), A2aError> {
    if from.can_transition_to(to) {
        return Ok(());
    }
    let (kind, why) = if from.is_terminal() {
        (
            ErrorKind::UnsupportedOperation,
            "a task in a terminal state never changes",
        )
    } else if to == TaskState::Unspecified {
        (
            ErrorKind::InvalidAgentResponse,
            "TASK_STATE_UNSPECIFIED is not a state a task can be in",
        )
    } else {
        (
            ErrorKind::InvalidAgentResponse,
            "a task cannot go back to TASK_STATE_SUBMITTED",
        )
    };
    Err(A2aError::new(
        kind,
        format!(
            "illegal task state transition {} -> {}: {why}",
            from.as_str_name(),
            to.as_str_name()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskState::*;

    #[test]
    fn classes_follow_the_spec() {
        for state in TaskState::ALL {
            let classes = [
                state.is_terminal(),
                state.is_interrupted(),
                state.is_active(),
            ];
            let expected = match state {
                Unspecified => [false, false, false],
                Submitted | Working => [false, false, true],
                InputRequired | AuthRequired => [false, true, false],
                Completed | Failed | Canceled | Rejected => [true, false, false],
            };
            assert_eq!(classes, expected, "{state:?}");
        }
    }

    /// Every one of the 81 pairs, written out so that a changed rule shows up as a diff here.
    #[test]
    fn all_81_transitions() {
        // Rows: from; columns: to, in `TaskState::ALL` order
        // (UNSPEC, SUBMITTED, WORKING, COMPLETED, FAILED, CANCELED, INPUT_REQ, REJECTED, AUTH_REQ).
        #[rustfmt::skip]
        let table: [(TaskState, [u8; 9]); 9] = [
            (Unspecified,   [0, 1, 1, 1, 1, 1, 1, 1, 1]),
            (Submitted,     [0, 1, 1, 1, 1, 1, 1, 1, 1]),
            (Working,       [0, 0, 1, 1, 1, 1, 1, 1, 1]),
            (Completed,     [0, 0, 0, 0, 0, 0, 0, 0, 0]),
            (Failed,        [0, 0, 0, 0, 0, 0, 0, 0, 0]),
            (Canceled,      [0, 0, 0, 0, 0, 0, 0, 0, 0]),
            (InputRequired, [0, 0, 1, 1, 1, 1, 1, 1, 1]),
            (Rejected,      [0, 0, 0, 0, 0, 0, 0, 0, 0]),
            (AuthRequired,  [0, 0, 1, 1, 1, 1, 1, 1, 1]),
        ];
        let mut checked = 0;
        for (row, (from, allowed)) in table.iter().enumerate() {
            assert_eq!(*from, TaskState::ALL[row]);
            for (to, allowed) in TaskState::ALL.iter().zip(allowed) {
                let expected = *allowed == 1;
                assert_eq!(from.can_transition_to(*to), expected, "{from:?} -> {to:?}");
                let checked_result = check_transition(*from, *to);
                assert_eq!(checked_result.is_ok(), expected, "{from:?} -> {to:?}");
                if let Err(err) = checked_result {
                    let kind = if from.is_terminal() {
                        ErrorKind::UnsupportedOperation
                    } else {
                        ErrorKind::InvalidAgentResponse
                    };
                    assert_eq!(err.kind(), kind, "{from:?} -> {to:?}");
                    assert!(err.message().contains(from.as_str_name()));
                    assert!(err.message().contains(to.as_str_name()));
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 81);
    }

    #[test]
    fn the_typical_lifecycle_is_legal() {
        let path = [
            Submitted,
            Working,
            InputRequired,
            Working,
            AuthRequired,
            Working,
            Completed,
        ];
        for pair in path.windows(2) {
            assert!(check_transition(pair[0], pair[1]).is_ok(), "{pair:?}");
        }
        for terminal in [Completed, Failed, Canceled, Rejected] {
            assert!(
                Unspecified.can_transition_to(terminal),
                "created as {terminal:?}"
            );
            assert!(InputRequired.can_transition_to(terminal));
        }
    }
}
