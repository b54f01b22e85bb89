//! Random messages survive ProtoJSON and protobuf round trips unchanged.

mod strategies;

use std::fmt::Debug;

use harbor_a2a::{from_json, from_json_value, to_json, to_json_string};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use strategies::*;

/// JSON (as a value and as text) and protobuf bytes both give back the same message.
fn round_trips<T>(message: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + prost::Message + Default + PartialEq + Debug,
{
    let json = to_json(message).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let from_value: T =
        from_json_value(json.clone()).map_err(|e| TestCaseError::fail(format!("{e}\n{json}")))?;
    prop_assert_eq!(&from_value, message, "JSON value: {}", json);

    let text = to_json_string(message).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(!text.contains('\n'), "one line, as SSE needs");
    let from_text: T = from_json(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
    prop_assert_eq!(&from_text, message);

    let bytes = message.encode_to_vec();
    let decoded = T::decode(bytes.as_slice()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&decoded, message);
    Ok(())
}

proptest! {
    #[test]
    fn parts(part in part()) {
        round_trips(&part)?;
    }

    #[test]
    fn messages(message in message()) {
        round_trips(&message)?;
    }

    #[test]
    fn tasks(task in task()) {
        round_trips(&task)?;
    }

    #[test]
    fn stream_responses(response in stream_response()) {
        round_trips(&response)?;
    }

    #[test]
    fn agent_cards(card in agent_card()) {
        round_trips(&card)?;
    }

    #[test]
    fn list_tasks_responses(response in list_tasks_response()) {
        round_trips(&response)?;
        // The REQUIRED members are always there.
        let json = to_json(&response).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for member in ["tasks", "nextPageToken", "pageSize", "totalSize"] {
            prop_assert!(json.get(member).is_some(), "{} missing", member);
        }
    }

    #[test]
    fn send_message_requests(request in send_message_request()) {
        round_trips(&request)?;
    }

    #[test]
    fn list_tasks_requests(request in list_tasks_request()) {
        round_trips(&request)?;
        let json = to_json(&request).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(json.get("pageSize").is_some(), request.page_size.is_some());
        prop_assert_eq!(json.get("includeArtifacts").is_some(), request.include_artifacts.is_some());
        if let Some(ts) = json.get("statusTimestampAfter").and_then(|t| t.as_str()) {
            prop_assert!(ts.ends_with('Z'), "{}", ts);
        }
    }

    #[test]
    fn timestamps_are_always_utc_with_z(ts in timestamp()) {
        let text = harbor_a2a::json::format_timestamp(&ts).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(text.ends_with('Z'));
        prop_assert!(!text.contains('+'));
        prop_assert_eq!(harbor_a2a::json::parse_timestamp(&text).ok(), Some(ts));
    }
}
