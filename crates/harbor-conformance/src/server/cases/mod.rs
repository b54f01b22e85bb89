//! The cases, one `pub async fn` each.
//!
//! Cases that apply to both bindings take the [`Binding`](super::Binding) to run on;
//! binding-specific cases (and the card's) take only the target. Each returns
//! `Err(CaseFailure::Failed { .. })` naming the binding, the RPC and what differed, or
//! `Err(CaseFailure::Skipped { .. })` when the target does not declare what it needs.
//! Cases assume the agent behaves per the conformance kit's message-id prefix table (as
//! `harbor serve`'s built-in agent does), and every case uses fresh ids and context ids,
//! so cases can share one server.

mod cancel;
mod card;
mod context;
mod history;
mod jsonrpc;
mod list;
mod names;
mod push;
mod rest;
mod resume;
mod send;
mod service;
mod stream;
mod subscribe;
mod support;

pub use cancel::{cancel_completed, cancel_input_required, cancel_unknown, rest_cancel_bodies};
pub use card::{card_http_caching, card_shape, extended_card};
pub use context::{
    context_client_id_accepted, context_inferred_from_task, context_mismatch_rejected,
    multi_turn_history, send_to_completed_task, send_unknown_task,
};
pub use history::{get_task_not_found, history_length_limits, history_length_negative};
pub use jsonrpc::{
    jsonrpc_content_type, jsonrpc_invalid_params, jsonrpc_invalid_request,
    jsonrpc_method_not_found, jsonrpc_parse_error, jsonrpc_trailing_slash,
};
pub use list::{
    list_tasks_artifacts, list_tasks_empty_context, list_tasks_page_size_bounds, list_tasks_paging,
    list_tasks_status_filter,
};
pub use names::{rest_query_name_styles, snake_case_params};
pub use push::{push_config_crud, push_delivery};
pub use rest::{rest_empty_body_send, rest_text_plain_body};
pub use resume::{
    stream_event_ids_increase, subscribe_resume_follows_live, subscribe_resumes_after_last_event_id,
};
pub use send::{
    send_artifacts, send_blocking_completes, send_direct_message, send_return_immediately,
};
pub use service::{
    serialization_rules, unknown_extensions, unknown_fields_ignored, version_empty,
    version_not_supported,
};
pub use stream::{stream_chunked_artifact, stream_direct_message, stream_lifecycle};
pub use subscribe::{
    rest_subscribe_verbs, subscribe_terminal_rejected, subscribe_two_subscribers, subscribe_unknown,
};
