//! The macro that turns the suite into one test per case.

/// Expands to one `#[tokio::test]` per transport case, each calling the case with the
/// factory that `$factory` evaluates to (evaluated once per test).
///
/// ```text
/// harbor_conformance::transport_suite!(harbor_conformance::transport::LoopbackFactory);
/// ```
///
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread` features.
#[macro_export]
macro_rules! transport_suite {
    ($factory:expr) => {
        $crate::transport_suite!(@cases $factory;
            send_round_trip,
            send_artifact_parts,
            send_configuration,
            identity_reaches_agent,
            stream_ordered_terminal,
            stream_close,
            get_task,
            get_task_not_found,
            list_tasks_filter,
            cancel_task,
            subscribe_updates,
            subscribe_close,
            push_config_crud,
            extended_card,
            concurrent_sends,
            no_leak_after_close,
            routes_to_named_peer,
            identity_required,
        );
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let factory = $factory;
                $crate::transport::cases::$case(&factory).await;
            }
        )+
    };
}
