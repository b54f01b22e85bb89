//! Validation of A2A messages: REQUIRED fields present, exactly one member per oneof, and the
//! ranges the spec sets for paging and history.
//!
//! Every error is `InvalidParams` and its message starts with the path of the offending field
//! in JSON names, e.g. `message.parts[0]: exactly one of text, raw, url, data must be set`.
//! Request messages are validated from their own fields (`id`, `message.parts[0]`); the other
//! types name themselves first (`task.status.state`, `agentCard.skills[2].tags`). The path is
//! also put in the ErrorInfo metadata under `field`.
//!
//! The first problem found is reported.
//!
//! [`Validate`] holds the protocol's rules; [`CheckLimits`] the sizes a server accepts
//! ([`Limits`]), checked at its edge so that whatever it accepts can be stored and served
//! back; [`nesting`] measures how deep values and messages nest.

mod agent_card;
mod limits;
pub mod nesting;
mod push;
mod requests;
mod task;

pub use limits::{CheckLimits, Limits, MAX_DEPTH_CEILING};

use std::fmt;

use crate::A2aError;

/// Checks that a message follows the protocol's structural rules.
///
/// ```
/// use harbor_a2a::{GetTaskRequest, Validate};
///
/// let request = GetTaskRequest { history_length: Some(-1), id: "t1".into(), ..Default::default() };
/// let err = request.validate().unwrap_err();
/// assert_eq!(err.message(), "historyLength: must not be negative, got -1");
/// ```
pub trait Validate {
    /// Returns the first rule this message breaks, as an `InvalidParams` error naming the
    /// field.
    ///
    /// # Errors
    /// `InvalidParams` when a rule is broken.
    fn validate(&self) -> Result<(), A2aError>;
}

/// The path of a field being checked, built on the stack and rendered only for an error.
#[derive(Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    segment: Segment<'a>,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Root(&'static str),
    Field(&'static str),
    Index(usize),
    Key(&'a str),
}

impl<'a> Path<'a> {
    /// The root; `""` for a request, whose fields are named on their own.
    pub(crate) fn root(name: &'static str) -> Self {
        Self {
            parent: None,
            segment: Segment::Root(name),
        }
    }

    /// A field of this value, by JSON name.
    pub(crate) fn field(&'a self, name: &'static str) -> Path<'a> {
        self.child(Segment::Field(name))
    }

    /// An element of this repeated value.
    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        self.child(Segment::Index(index))
    }

    /// An entry of this map value.
    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        self.child(Segment::Key(key))
    }

    fn child(&'a self, segment: Segment<'a>) -> Path<'a> {
        Path {
            parent: Some(self),
            segment,
        }
    }

    fn write(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write(out);
        }
        match self.segment {
            Segment::Root(name) => out.push_str(name),
            Segment::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Segment::Index(index) => out.push_str(&format!("[{index}]")),
            Segment::Key(key) => out.push_str(&format!("[{key:?}]")),
        }
    }

    /// An `InvalidParams` error for this field.
    pub(crate) fn error(&self, problem: impl fmt::Display) -> A2aError {
        let mut path = String::new();
        self.write(&mut path);
        let message = if path.is_empty() {
            problem.to_string()
        } else {
            format!("{path}: {problem}")
        };
        A2aError::invalid_params(message).with_metadata("field", path)
    }

    /// A REQUIRED string field must not be empty.
    pub(crate) fn require_str(&self, name: &'static str, value: &str) -> Result<(), A2aError> {
        if value.is_empty() {
            return Err(self.field(name).error("is required and must not be empty"));
        }
        Ok(())
    }

    /// A REQUIRED message field must be present.
    pub(crate) fn require<'v, T>(
        &self,
        name: &'static str,
        value: &'v Option<T>,
    ) -> Result<&'v T, A2aError> {
        value
            .as_ref()
            .ok_or_else(|| self.field(name).error("is required"))
    }

    /// A REQUIRED repeated field must hold at least one element.
    pub(crate) fn require_items<T>(&self, name: &'static str, items: &[T]) -> Result<(), A2aError> {
        if items.is_empty() {
            return Err(self.field(name).error("must have at least one element"));
        }
        Ok(())
    }

    /// Checks every element of a repeated field.
    pub(crate) fn each<T: Check>(&self, name: &'static str, items: &[T]) -> Result<(), A2aError> {
        let field = self.field(name);
        items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| item.check(&field.index(i)))
    }

    /// Checks an optional message field when it is present.
    pub(crate) fn optional<T: Check>(
        &self,
        name: &'static str,
        value: &Option<T>,
    ) -> Result<(), A2aError> {
        value
            .as_ref()
            .map_or(Ok(()), |v| v.check(&self.field(name)))
    }

    /// An optional `int32` must not be negative.
    pub(crate) fn non_negative(
        &self,
        name: &'static str,
        value: Option<i32>,
    ) -> Result<(), A2aError> {
        match value {
            Some(n) if n < 0 => Err(self
                .field(name)
                .error(format!("must not be negative, got {n}"))),
            _ => Ok(()),
        }
    }
}

/// Checks a value found at `at`.
pub(crate) trait Check {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError>;
}

/// Implements [`Validate`] for types that implement [`Check`], rooted at the given name.
macro_rules! validate_from_check {
    ($($ty:ty => $root:literal),* $(,)?) => {
        $(
            impl Validate for $ty {
                fn validate(&self) -> Result<(), A2aError> {
                    self.check(&Path::root($root))
                }
            }
        )*
    };
}

validate_from_check! {
    crate::SendMessageRequest => "",
    crate::GetTaskRequest => "",
    crate::ListTasksRequest => "",
    crate::CancelTaskRequest => "",
    crate::SubscribeToTaskRequest => "",
    crate::TaskPushNotificationConfig => "",
    crate::GetTaskPushNotificationConfigRequest => "",
    crate::DeleteTaskPushNotificationConfigRequest => "",
    crate::ListTaskPushNotificationConfigsRequest => "",
    crate::GetExtendedAgentCardRequest => "",
    crate::SendMessageConfiguration => "configuration",
    crate::SendMessageResponse => "",
    crate::ListTasksResponse => "",
    crate::ListTaskPushNotificationConfigsResponse => "",
    crate::StreamResponse => "",
    crate::Message => "message",
    crate::Part => "part",
    crate::Artifact => "artifact",
    crate::Task => "task",
    crate::TaskStatus => "status",
    crate::TaskStatusUpdateEvent => "statusUpdate",
    crate::TaskArtifactUpdateEvent => "artifactUpdate",
    crate::AuthenticationInfo => "authentication",
    crate::AgentCard => "agentCard",
    crate::AgentInterface => "agentInterface",
    crate::AgentProvider => "provider",
    crate::AgentCapabilities => "capabilities",
    crate::AgentSkill => "skill",
    crate::AgentCardSignature => "signature",
    crate::SecurityScheme => "securityScheme",
    crate::OAuthFlows => "flows",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_with_json_names_indexes_and_keys() {
        let root = Path::root("");
        let message = root.field("message");
        let parts = message.field("parts");
        let part = parts.index(0);
        assert_eq!(part.error("bad").message(), "message.parts[0]: bad");

        let card = Path::root("agentCard");
        let schemes = card.field("securitySchemes");
        let scheme = schemes.key("oauth");
        let err = scheme.error("bad");
        assert_eq!(err.message(), "agentCard.securitySchemes[\"oauth\"]: bad");
        assert_eq!(
            err.metadata().get("field").map(String::as_str),
            Some("agentCard.securitySchemes[\"oauth\"]")
        );
        assert_eq!(root.error("bad").message(), "bad");
    }
}
