//! The areas of the protocol the cases cover, for reports grouped by area.

/// Every case by area, in report order. A unit test keeps it in step with the case list.
pub const AREAS: &[(&str, &[&str])] = &[
    (
        "card",
        &[
            "card_http_caching",
            "card_shape",
            "extended_card",
            "grpc_extended_card",
        ],
    ),
    (
        "send",
        &[
            "send_blocking_completes",
            "send_return_immediately",
            "send_direct_message",
            "send_artifacts",
            "grpc_send_blocking_completes",
            "grpc_send_direct_message",
        ],
    ),
    (
        "multi-turn",
        &[
            "context_client_id_accepted",
            "context_inferred_from_task",
            "context_mismatch_rejected",
            "send_to_completed_task",
            "send_unknown_task",
            "multi_turn_history",
            "grpc_multi_turn",
        ],
    ),
    (
        "get",
        &[
            "history_length_limits",
            "history_length_negative",
            "get_task_not_found",
            "grpc_get_task_not_found",
        ],
    ),
    (
        "list",
        &[
            "list_tasks_empty_context",
            "list_tasks_paging",
            "list_tasks_artifacts",
            "list_tasks_status_filter",
            "list_tasks_page_size_bounds",
            "grpc_list_tasks_empty_context",
        ],
    ),
    (
        "cancel",
        &[
            "cancel_input_required",
            "cancel_completed",
            "cancel_unknown",
            "rest_cancel_bodies",
            "grpc_cancel_input_required",
            "grpc_cancel_refused",
        ],
    ),
    (
        "streaming",
        &[
            "stream_lifecycle",
            "stream_chunked_artifact",
            "stream_direct_message",
            "subscribe_two_subscribers",
            "subscribe_terminal_rejected",
            "subscribe_unknown",
            "rest_subscribe_verbs",
            "stream_event_ids_increase",
            "subscribe_resumes_after_last_event_id",
            "subscribe_resume_follows_live",
            "grpc_stream_lifecycle",
            "grpc_subscribe_refused",
        ],
    ),
    (
        "push",
        &["push_config_crud", "push_delivery", "grpc_push_config_crud"],
    ),
    (
        "service",
        &[
            "version_not_supported",
            "version_empty",
            "unknown_extensions",
            "unknown_fields_ignored",
            "grpc_version_not_supported",
        ],
    ),
    (
        "wire",
        &[
            "serialization_rules",
            "snake_case_params",
            "rest_query_name_styles",
            "jsonrpc_method_not_found",
            "jsonrpc_parse_error",
            "jsonrpc_invalid_request",
            "jsonrpc_content_type",
            "jsonrpc_invalid_params",
            "jsonrpc_trailing_slash",
            "rest_empty_body_send",
            "rest_text_plain_body",
            "rest_json_media_type",
            "rest_a2a_json_media_type",
        ],
    ),
];

/// The area of the case `name` (`other` for a name no area lists).
pub(crate) fn area_of(name: &str) -> &'static str {
    AREAS
        .iter()
        .find(|(_, cases)| cases.contains(&name))
        .map_or("other", |(area, _)| area)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::server::CASES;

    #[test]
    fn every_case_has_one_area_and_every_listed_case_exists() {
        let cases: BTreeSet<&str> = CASES.iter().map(|c| c.name).collect();
        let listed: Vec<&str> = AREAS
            .iter()
            .flat_map(|(_, names)| names.iter().copied())
            .collect();
        let unique: BTreeSet<&str> = listed.iter().copied().collect();
        assert_eq!(listed.len(), unique.len(), "a case is listed in two areas");
        let missing: Vec<_> = cases.difference(&unique).collect();
        assert!(missing.is_empty(), "cases without an area: {missing:?}");
        let stale: Vec<_> = unique.difference(&cases).collect();
        assert!(stale.is_empty(), "listed but not cases: {stale:?}");
        assert_eq!(area_of("grpc_multi_turn"), "multi-turn");
        assert_eq!(area_of("no_such_case"), "other");
    }
}
