//! Push notifications that arrive: every event of a task's log that a push config covers
//! is POSTed to its webhook, in log order, until the webhook answers 2xx.
//!
//! Nothing is queued in memory: the events are in the task's durable log already, and each
//! config has a durable cursor ([`PushCursor`](harbor_distributed::PushCursor)) saying how
//! far delivery got. After every durable append the config's worker reads the log after
//! its cursor, POSTs each entry and saves the cursor after each answer, so a restart of the
//! server, a webhook down for hours or a full machine loses nothing: delivery resumes where
//! the cursor stands. The log of a task is kept (whatever its retention) while a live
//! cursor is behind it.
//!
//! # Retries
//!
//! A 5xx, 408, 429, a timeout or a connection failure is retried: exponential backoff
//! from [`PushConfig::first_retry`] up to [`PushConfig::max_backoff`], with full jitter
//! (a uniform draw below that), and never sooner than a 429's or 503's `Retry-After`.
//! Later events of the same config wait while one is retried, so a receiver sees them in
//! order. After [`PushConfig::max_attempts`] attempts or [`PushConfig::give_up_after`],
//! or at once for a 4xx other than 408 and 429, a redirect or a refused target, the
//! delivery becomes a **dead letter**: kept with its reason, attempts and last status,
//! listed and re-driven through [`DefaultHandler::push_dead_letters`] and
//! [`DefaultHandler::redrive_push`] (and `harbor push dead-letters|redrive` against the
//! admin listener of `harbor serve`).
//!
//! # The request
//!
//! `POST <url>` with the event as a `StreamResponse` in ProtoJSON, `Content-Type:
//! application/a2a+json`, `Authorization: <scheme> <credentials>` from the config's
//! `authentication`, `X-A2A-Notification-Token` when the config has a token, and two
//! headers a receiver can drop duplicates with: [`SEQUENCE_HEADER`] (the event's sequence
//! in the task's log: a re-send carries the same) and [`ATTEMPT_HEADER`] (1 for the first
//! try). Redirects are not followed.
//!
//! # Safe targets
//!
//! Unless [`TargetPolicy::AllowPrivate`], a webhook may only reach public addresses: the
//! client's DNS resolver screens every address it resolves, and reqwest connects to those
//! very addresses (no second lookup for a rebinding attack); an IP address in the URL is
//! screened before the request. See [`target`].
//!
//! [`DefaultHandler::push_dead_letters`]: crate::DefaultHandler::push_dead_letters
//! [`DefaultHandler::redrive_push`]: crate::DefaultHandler::redrive_push

mod client;
mod core;
pub(crate) mod dispatch;
mod retry;
pub mod target;
mod worker;

use std::time::Duration;

pub use self::core::Counters;
pub use target::{TargetPolicy, check_target};

/// The header carrying a config's `token`.
pub const NOTIFICATION_TOKEN_HEADER: &str = "X-A2A-Notification-Token";
/// The header carrying the event's sequence in its task's log (the same on every re-send).
pub const SEQUENCE_HEADER: &str = "X-Harbor-Event-Sequence";
/// The header carrying the delivery attempt, 1 for the first.
pub const ATTEMPT_HEADER: &str = "X-Harbor-Delivery-Attempt";

/// Settings of push delivery. Data only.
#[derive(Debug, Clone, PartialEq)]
pub struct PushConfig {
    /// Timeout of one webhook request. Default 10 s.
    pub timeout: Duration,
    /// Which webhook addresses are allowed. Default: public addresses only.
    pub targets: TargetPolicy,
    /// The wait before the first retry (the ceiling of its jitter); doubled for each
    /// further one. Default 1 s.
    pub first_retry: Duration,
    /// The longest wait between two attempts. Default 5 minutes.
    pub max_backoff: Duration,
    /// How long an event may keep failing before its delivery gives up. Default 24 hours.
    pub give_up_after: Duration,
    /// How many attempts an event gets before its delivery gives up. Default 50.
    pub max_attempts: u32,
    /// Webhook requests in flight at most, over all configs. Default 256.
    pub max_in_flight: usize,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            targets: TargetPolicy::PublicOnly,
            first_retry: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            give_up_after: Duration::from_secs(24 * 3600),
            max_attempts: 50,
            max_in_flight: 256,
        }
    }
}
