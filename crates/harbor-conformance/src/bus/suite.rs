//! The macro that turns the suite into one test per case.

/// Expands to one `#[test]` per bus case (see [`bus::cases`](crate::bus::cases)), each
/// running the case on a fresh two-worker tokio runtime with the factory `$factory`
/// evaluates to (evaluated once per test, inside the runtime).
///
/// ```text
/// harbor_conformance::bus_suite!(|| async {
///     std::sync::Arc::new(harbor_distributed::memory::MemoryBus::default())
///         as std::sync::Arc<dyn harbor_distributed::MessageBus>
/// });
/// ```
///
/// Optional cases print why they skipped (run the tests with `--nocapture` to see it) when
/// the driver does not declare their capability.
///
/// Some cases publish up to 100 envelopes before they consume any, so a driver configured
/// with a smaller per-group buffer waits there (backpressure) and fails them. To run a
/// chosen subset, name the cases after the factory:
///
/// ```text
/// harbor_conformance::bus_suite!(@cases my_factory; concurrent_subscribe, edge_isolation);
/// ```
///
/// A driver backed by a server reads the server's URL from an environment variable; with
/// `env = "VAR"` every test prints why it skipped and passes when `VAR` is unset, and the
/// factory is a closure taking the URL:
///
/// ```text
/// harbor_conformance::bus_suite!(env = "HARBOR_NATS_URL", |url: String| async move {
///     harbor_nats::NatsBus::connect(&url).await.expect("connect")
///         as std::sync::Arc<dyn harbor_distributed::MessageBus>
/// });
/// ```
#[macro_export]
macro_rules! bus_suite {
    (env = $var:literal, $factory:expr) => {
        $crate::bus_suite!(@cases {
            match ::std::env::var($var) {
                Ok(url) if !url.is_empty() => {
                    let make = $factory;
                    move || make(url.clone())
                }
                _ => {
                    eprintln!(
                        "skipped: set {} to the server's URL to run this case (.ci/run sets it)",
                        $var
                    );
                    return;
                }
            }
        });
    };
    ($factory:expr) => {
        $crate::bus_suite!(@cases $factory);
    };
    (@cases $factory:expr) => {
        $crate::bus_suite!(@cases $factory;
            delivers_to_subscribers,
            payload_and_headers_exact,
            round_trip_byte_exact,
            edge_isolation,
            multiple_edges_concurrently,
            identity_is_mandatory,
            identity_scope_isolation,
            invalid_envelopes_refused,
            invalid_subscribe_options_refused,
            publish_after_close_fails,
            close_leaks_no_tasks,
            publisher_close_delivers_all,
            close_drains_in_flight,
            concurrent_publishers_lose_nothing,
            concurrent_subscribe,
            consumer_groups_each_get_all,
            group_members_share_without_loss,
            in_flight_bound_holds,
            resend_on_nack,
            continue_after_errors,
            unacked_redelivers_after_visibility_timeout,
            nack_delay_is_respected,
            attempt_counter_increases,
            late_settle_is_refused,
            consumer_idempotency,
            dead_letter_with_reason_and_count,
            dead_letter_after_timeouts,
            publish_dedup,
            per_edge_order_single_subscriber,
            replay_from_earliest,
            backlog_counts_unsettled,
        );
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::bus::run(async {
                    let factory = $factory;
                    $crate::bus::cases::$case(&factory).await;
                });
            }
        )+
    };
}
