//! ProtoJSON, the JSON form of every A2A message (ADR-001), and helpers around it.
//!
//! Most messages use the serde impls pbjson generates from the proto. A few are written by
//! hand in this module because the generated form is not what A2A requires:
//!
//! | message | why |
//! |---|---|
//! | `ListTasksResponse` | all four fields are REQUIRED and must be written at their default (`tasks: []`, `nextPageToken: ""`) |
//! | `AgentCard` | REQUIRED fields are kept at their default (`skills: []`) |
//! | `AuthorizationCodeOAuthFlow`, `ClientCredentialsOAuthFlow`, `DeviceCodeOAuthFlow` | the REQUIRED `scopes` map is written even when empty |
//! | `TaskStatus`, `ListTasksRequest` | timestamps are written in UTC with a `Z` suffix (pbjson-types writes `+00:00`) |
//! | `Part` | `"data": null` is a data part holding null, not a part with no content |
//!
//! All of them, like the generated ones, write camelCase names, read camelCase and snake_case,
//! ignore unknown fields and treat a JSON `null` as the default value.

mod agent_card;
mod fields;
mod list_tasks;
mod oauth_flows;
mod part;
mod task_status;
mod timestamp;
mod value;

pub use timestamp::{check_timestamp, format_timestamp, parse_timestamp};
pub(crate) use value::{StructIn, StructJson};
pub use value::{json_to_struct, json_to_value, struct_to_json, value_to_json};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::{A2aError, ErrorKind};

/// Serializes a message to a JSON value.
///
/// # Errors
/// An `Internal` error when the message cannot be written as JSON: a number that is NaN or
/// infinite in a `google.protobuf.Value`, a timestamp out of range, an unknown enum number in
/// a generated message.
pub fn to_json<T: Serialize + ?Sized>(message: &T) -> Result<serde_json::Value, A2aError> {
    serde_json::to_value(message).map_err(|e| write_error::<T>(&e))
}

/// Serializes a message to a compact JSON string (one line, as SSE `data:` needs).
///
/// # Errors
/// As [`to_json`].
pub fn to_json_string<T: Serialize + ?Sized>(message: &T) -> Result<String, A2aError> {
    serde_json::to_string(message).map_err(|e| write_error::<T>(&e))
}

/// Parses a message from JSON text.
///
/// ```
/// use harbor_a2a::{ErrorKind, Message, json::from_json};
///
/// let message: Message = from_json(r#"{"message_id":"m1","role":2,"parts":[{"text":"hi"}]}"#)?;
/// assert_eq!(message.message_id, "m1");
///
/// let err = from_json::<Message>("{").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::JsonParse);
/// # Ok::<(), harbor_a2a::A2aError>(())
/// ```
///
/// # Errors
/// `JsonParse` when the text is not JSON; `InvalidParams` when it is JSON but not this message
/// (a wrong type, a oneof given twice, a bad enum name).
pub fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, A2aError> {
    serde_json::from_str(json).map_err(|e| read_error::<T>(&e))
}

/// Parses a message from JSON bytes, such as an HTTP body.
///
/// # Errors
/// As [`from_json`].
pub fn from_json_slice<T: DeserializeOwned>(json: &[u8]) -> Result<T, A2aError> {
    serde_json::from_slice(json).map_err(|e| read_error::<T>(&e))
}

/// Converts an already parsed JSON value (a JSON-RPC `params`, say) into a message.
///
/// # Errors
/// `InvalidParams` when the value is not this message.
pub fn from_json_value<T: DeserializeOwned>(json: serde_json::Value) -> Result<T, A2aError> {
    serde_json::from_value(json).map_err(|e| read_error::<T>(&e))
}

fn type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

fn read_error<T>(e: &serde_json::Error) -> A2aError {
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            A2aError::new(ErrorKind::JsonParse, format!("invalid JSON: {e}"))
        }
        Category::Data => A2aError::invalid_params(format!("invalid {}: {e}", type_name::<T>())),
    }
}

fn write_error<T: ?Sized>(e: &serde_json::Error) -> A2aError {
    A2aError::internal(format!("cannot write {} as JSON: {e}", type_name::<T>()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ListTasksResponse, Part, TaskStatus};

    #[test]
    fn wrong_types_name_the_field() {
        let err = from_json::<ListTasksResponse>(r#"{"tasks":"no"}"#).expect_err("wrong type");
        assert_eq!(err.kind(), ErrorKind::InvalidParams);
        assert!(
            err.message()
                .starts_with("invalid ListTasksResponse: ListTasksResponse.tasks: invalid type"),
            "{}",
            err.message()
        );
        assert!(
            err.message().ends_with("at line 1 column 14"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn a_field_given_under_both_names_is_refused() {
        let err = from_json::<ListTasksResponse>(r#"{"pageSize":1,"page_size":2}"#)
            .expect_err("duplicate");
        assert!(
            err.message()
                .contains("pageSize: field given more than once")
        );
    }

    #[test]
    fn a_part_with_two_members_is_refused() {
        let err = from_json::<Part>(r#"{"text":"a","url":"b"}"#).expect_err("two members");
        assert!(err.message().contains("only one of text, raw, url, data"));
    }

    #[test]
    fn non_objects_are_refused_clearly() {
        let err = from_json::<TaskStatus>("[]").expect_err("array");
        assert!(
            err.message()
                .contains("a JSON object for lf.a2a.v1.TaskStatus")
        );
    }

    #[test]
    fn doubles_parse_back_to_the_same_bits() {
        // Needs serde_json's `float_roundtrip`; the default parser is off by one ULP here.
        for n in [7.729_986_549_091_501e-246, 0.1 + 0.2, 1e300, -2.5e-308] {
            let part: Part =
                from_json(&to_json_string(&Part::data(serde_json::json!(n))).expect("w"))
                    .expect("parses");
            assert_eq!(part.data_json(), Some(serde_json::json!(n)));
        }
    }

    #[test]
    fn type_names_are_short() {
        assert_eq!(type_name::<ListTasksResponse>(), "ListTasksResponse");
        assert_eq!(type_name::<Vec<Part>>(), "Vec");
    }
}
