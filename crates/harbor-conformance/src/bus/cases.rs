//! The cases, one `pub async fn` each; see [`bus_suite!`](crate::bus_suite) for the list.
//!
//! Universal cases run for every driver; the optional ones return early (printing why)
//! unless the driver declares their capability. Groups of cases:
//!
//! - delivery: [`delivers_to_subscribers`], [`payload_and_headers_exact`],
//!   [`round_trip_byte_exact`], [`edge_isolation`], [`multiple_edges_concurrently`];
//! - identity: [`identity_is_mandatory`], [`identity_scope_isolation`],
//!   [`invalid_envelopes_refused`], [`invalid_subscribe_options_refused`];
//! - life cycle: [`publish_after_close_fails`], [`close_leaks_no_tasks`],
//!   [`publisher_close_delivers_all`], [`close_drains_in_flight`];
//! - concurrency and groups: [`concurrent_publishers_lose_nothing`], [`concurrent_subscribe`],
//!   [`consumer_groups_each_get_all`], [`group_members_share_without_loss`],
//!   [`in_flight_bound_holds`];
//! - redelivery: [`resend_on_nack`], [`continue_after_errors`],
//!   [`unacked_redelivers_after_visibility_timeout`], [`nack_delay_is_respected`],
//!   [`attempt_counter_increases`], [`late_settle_is_refused`], [`consumer_idempotency`];
//! - optional: [`dead_letter_with_reason_and_count`] and [`dead_letter_after_timeouts`]
//!   (`dead_letter`), [`publish_dedup`] (`publish_dedup`),
//!   [`per_edge_order_single_subscriber`] (`ordered_per_edge`), [`replay_from_earliest`]
//!   (`replay`), [`backlog_counts_unsettled`] (where `backlog` answers `Some`).

use std::time::Duration;

mod backlog;
mod delivery;
mod groups;
mod identity;
mod lifecycle;
mod optional;
mod redelivery;

pub use backlog::backlog_counts_unsettled;
pub use delivery::{
    delivers_to_subscribers, edge_isolation, multiple_edges_concurrently,
    payload_and_headers_exact, round_trip_byte_exact,
};
pub use groups::{
    concurrent_publishers_lose_nothing, concurrent_subscribe, consumer_groups_each_get_all,
    group_members_share_without_loss, in_flight_bound_holds,
};
pub use identity::{
    identity_is_mandatory, identity_scope_isolation, invalid_envelopes_refused,
    invalid_subscribe_options_refused,
};
pub use lifecycle::{
    close_drains_in_flight, close_leaks_no_tasks, publish_after_close_fails,
    publisher_close_delivers_all,
};
pub use optional::{
    dead_letter_after_timeouts, dead_letter_with_reason_and_count,
    per_edge_order_single_subscriber, publish_dedup, replay_from_earliest,
};
pub use redelivery::{
    attempt_counter_increases, consumer_idempotency, continue_after_errors, late_settle_is_refused,
    nack_delay_is_respected, resend_on_nack, unacked_redelivers_after_visibility_timeout,
};

/// How long a case waits for any one expected event before it fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// The visibility timeout of cases that exercise redelivery.
pub const SHORT_VISIBILITY: Duration = Duration::from_millis(200);
