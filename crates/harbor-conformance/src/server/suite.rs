//! The case list, and the macros built from it: one test per case and binding, and the
//! table [`run_all`](super::run_all) walks. The list lives in one macro so the two cannot
//! drift.

/// Calls `$callback` with the case list: cases on the target only, cases on both
/// bindings, JSON-RPC-only cases and HTTP+JSON-only cases.
#[doc(hidden)]
#[macro_export]
macro_rules! __harbor_server_cases {
    ($callback:ident { $($args:tt)* }) => {
        $crate::$callback! {
            { $($args)* }
            target: [card_http_caching, card_shape],
            both: [
                send_blocking_completes,
                send_return_immediately,
                send_direct_message,
                send_artifacts,
                history_length_limits,
                history_length_negative,
                get_task_not_found,
                context_client_id_accepted,
                context_inferred_from_task,
                context_mismatch_rejected,
                send_to_completed_task,
                send_unknown_task,
                multi_turn_history,
                list_tasks_empty_context,
                list_tasks_paging,
                list_tasks_artifacts,
                list_tasks_status_filter,
                list_tasks_page_size_bounds,
                cancel_input_required,
                cancel_completed,
                cancel_unknown,
                stream_lifecycle,
                stream_chunked_artifact,
                stream_direct_message,
                subscribe_two_subscribers,
                subscribe_terminal_rejected,
                subscribe_unknown,
                stream_event_ids_increase,
                subscribe_resumes_after_last_event_id,
                subscribe_resume_follows_live,
                push_config_crud,
                push_delivery,
                extended_card,
                version_not_supported,
                version_empty,
                unknown_extensions,
                unknown_fields_ignored,
                serialization_rules,
            ],
            json_rpc: [
                snake_case_params,
                jsonrpc_method_not_found,
                jsonrpc_parse_error,
                jsonrpc_invalid_request,
                jsonrpc_content_type,
                jsonrpc_invalid_params,
                jsonrpc_trailing_slash,
            ],
            http_json: [
                rest_query_name_styles,
                rest_cancel_bodies,
                rest_subscribe_verbs,
                rest_empty_body_send,
                rest_text_plain_body,
            ],
        }
    };
}

/// Expands to one `#[tokio::test]` per case and binding, each running the case against
/// the [`ServerTarget`](crate::server::ServerTarget) that `$factory()` resolves to
/// (called once per test, inside the test's runtime, so it may start a server there).
///
/// Tests land in modules `general` (the card), `json_rpc` and `http_json`, named after
/// the case. A skipped case prints why and passes; a failing one panics naming the case,
/// the binding, the RPC and what differed. The calling crate needs `tokio` with the
/// `macros` and `rt-multi-thread` features.
///
/// ```text
/// async fn target() -> harbor_conformance::server::ServerTarget {
///     harbor_conformance::server::ServerTarget::connect("http://127.0.0.1:8080").await.expect("card")
/// }
/// harbor_conformance::server_suite!(target);
/// ```
#[macro_export]
macro_rules! server_suite {
    ($factory:expr) => {
        $crate::__harbor_server_cases!(__harbor_server_tests { $factory });
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __harbor_server_tests {
    (
        { $factory:expr }
        target: [$($t:ident),* $(,)?],
        both: [$($b:ident),* $(,)?],
        json_rpc: [$($j:ident),* $(,)?],
        http_json: [$($h:ident),* $(,)?] $(,)?
    ) => {
        async fn __harbor_server_target() -> $crate::server::ServerTarget {
            ($factory)().await
        }

        mod general {
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $t() {
                    let target = super::__harbor_server_target().await;
                    let outcome = $crate::server::cases::$t(&target).await;
                    $crate::server::conclude(stringify!($t), None, outcome);
                }
            )*
        }

        mod json_rpc {
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $b() {
                    let target = super::__harbor_server_target().await;
                    let binding = $crate::server::Binding::JsonRpc;
                    let outcome = $crate::server::cases::$b(&target, binding).await;
                    $crate::server::conclude(stringify!($b), Some(binding), outcome);
                }
            )*
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $j() {
                    let target = super::__harbor_server_target().await;
                    let outcome = $crate::server::cases::$j(&target).await;
                    $crate::server::conclude(stringify!($j), Some($crate::server::Binding::JsonRpc), outcome);
                }
            )*
        }

        mod http_json {
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $b() {
                    let target = super::__harbor_server_target().await;
                    let binding = $crate::server::Binding::HttpJson;
                    let outcome = $crate::server::cases::$b(&target, binding).await;
                    $crate::server::conclude(stringify!($b), Some(binding), outcome);
                }
            )*
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $h() {
                    let target = super::__harbor_server_target().await;
                    let outcome = $crate::server::cases::$h(&target).await;
                    $crate::server::conclude(stringify!($h), Some($crate::server::Binding::HttpJson), outcome);
                }
            )*
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __harbor_server_table {
    (
        {}
        target: [$($t:ident),* $(,)?],
        both: [$($b:ident),* $(,)?],
        json_rpc: [$($j:ident),* $(,)?],
        http_json: [$($h:ident),* $(,)?] $(,)?
    ) => {
        &[
            $(
                $crate::server::CaseEntry {
                    name: stringify!($t),
                    binding: None,
                    run: |t| Box::pin($crate::server::cases::$t(t)),
                },
            )*
            $(
                $crate::server::CaseEntry {
                    name: stringify!($b),
                    binding: Some($crate::server::Binding::JsonRpc),
                    run: |t| Box::pin($crate::server::cases::$b(t, $crate::server::Binding::JsonRpc)),
                },
                $crate::server::CaseEntry {
                    name: stringify!($b),
                    binding: Some($crate::server::Binding::HttpJson),
                    run: |t| Box::pin($crate::server::cases::$b(t, $crate::server::Binding::HttpJson)),
                },
            )*
            $(
                $crate::server::CaseEntry {
                    name: stringify!($j),
                    binding: Some($crate::server::Binding::JsonRpc),
                    run: |t| Box::pin($crate::server::cases::$j(t)),
                },
            )*
            $(
                $crate::server::CaseEntry {
                    name: stringify!($h),
                    binding: Some($crate::server::Binding::HttpJson),
                    run: |t| Box::pin($crate::server::cases::$h(t)),
                },
            )*
        ]
    };
}
