//! The TaskStore and TaskLog conformance suites.
//!
//! Every [`TaskStore`](harbor_distributed::TaskStore) runs these cases against a fresh store
//! (and every [`TaskLog`](harbor_distributed::TaskLog) the [`task_log_suite!`](crate::task_log_suite) cases too):
//!
//! ```text
//! harbor_conformance::task_store_suite!(|| async {
//!     std::sync::Arc::new(harbor_distributed::MemoryTaskStore::new())
//!         as std::sync::Arc<dyn harbor_distributed::TaskStore>
//! });
//! ```

mod content;
mod fixtures;
mod lease;
mod listing;
mod log;
mod outbox;
mod scoped;
mod tasks;

pub use content::{push_config_crud, task_content_round_trips_exactly};
pub use lease::{
    a_lease_is_handed_over_only_from_its_exact_fence, a_taken_over_lease_fences_its_old_holder,
    finished_tasks_hold_no_lease, leases_are_exclusive_while_alive,
    push_holds_pass_on_once_they_expire, renew_extends_every_lease_of_a_holder,
};
pub use listing::{
    list_filters, list_is_owner_only_newest_first, list_pages_stop_at_the_byte_budget,
    list_pages_walk_everything, list_refuses_bad_paging,
};
pub use log::{
    active_tasks_are_listed_across_owners, appends_are_numbered_and_replay_to_the_task,
    concurrent_appends_one_wins, logs_are_owner_scoped, malformed_appends_are_refused,
    reads_start_after_a_position, stale_appends_leave_nothing, store_writes_are_logged,
};
pub use outbox::{live_cursors_and_dead_letters, push_cursors_save_and_read_back};
pub use scoped::ScopedLog;
pub use tasks::{
    concurrent_updates_one_wins, create_then_get, create_twice_is_refused,
    other_owners_see_not_found, tasks_are_counted_by_state, undecodable_tasks_are_refused,
    update_is_versioned,
};

/// Expands to one `#[tokio::test]` per case; `$factory` is an expression of a closure
/// returning a future of `Arc<dyn TaskStore>` (a fresh, empty store each call).
///
/// A store backed by a server reads the server's URL from an environment variable; with
/// `env = "VAR"` every case prints why it skipped and passes when `VAR` is unset, and the
/// factory is a closure taking the URL (as [`bus_suite!`](crate::bus_suite)).
#[macro_export]
macro_rules! task_store_suite {
    (env = $var:literal, $factory:expr) => {
        $crate::task_store_suite!($crate::__store_from_env!($var, $factory));
    };
    ($factory:expr) => {
        $crate::task_store_suite!(@cases $factory;
            create_then_get, create_twice_is_refused, other_owners_see_not_found,
            update_is_versioned, concurrent_updates_one_wins, list_is_owner_only_newest_first,
            list_filters, list_pages_walk_everything, list_refuses_bad_paging,
            push_config_crud, task_content_round_trips_exactly,
            list_pages_stop_at_the_byte_budget, undecodable_tasks_are_refused,
            tasks_are_counted_by_state);
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $crate::task_store_suite!(@run $factory; $($case),*);
    };
    (@run $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = ($factory)().await;
                $crate::store::$case(store).await;
            }
        )*
    };
}

/// Expands to one `#[tokio::test]` per [`TaskLog`](harbor_distributed::TaskLog) case;
/// `$factory` returns a future of `Arc<dyn TaskLog>` (a fresh, empty store each call). A
/// task log is a task store too: run [`task_store_suite!`] on it as well.
#[macro_export]
macro_rules! task_log_suite {
    (env = $var:literal, $factory:expr) => {
        $crate::task_log_suite!($crate::__store_from_env!($var, $factory));
    };
    ($factory:expr) => {
        $crate::task_store_suite!(@run $factory;
            appends_are_numbered_and_replay_to_the_task, reads_start_after_a_position,
            stale_appends_leave_nothing, malformed_appends_are_refused, logs_are_owner_scoped,
            store_writes_are_logged, concurrent_appends_one_wins,
            active_tasks_are_listed_across_owners, push_cursors_save_and_read_back,
            live_cursors_and_dead_letters, leases_are_exclusive_while_alive,
            a_taken_over_lease_fences_its_old_holder, renew_extends_every_lease_of_a_holder,
            finished_tasks_hold_no_lease, push_holds_pass_on_once_they_expire,
            a_lease_is_handed_over_only_from_its_exact_fence);
    };
}

/// The factory of a suite case whose server URL is in `$var`: returns from the case (a
/// skip, said on stderr) when it is unset.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_from_env {
    ($var:literal, $factory:expr) => {{
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
    }};
}
