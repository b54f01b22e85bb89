//! Fault cases for drivers backed by a server: restarts, dead consumers, cut connections.
//!
//! These need a server the test owns (never a shared one): the driver's test starts its own
//! instance on a free port, implements [`ServiceControl`] over it, and calls each case with
//! a factory that opens buses on that instance. [`CutProxy`] sits between the driver and the
//! server to cut connections on demand.
//!
//! ```text
//! #[test]
//! fn restart_loses_nothing() {
//!     harbor_conformance::bus::run(async {
//!         let server = MyServer::start().await;            // the test's own instance
//!         let url = server.url();
//!         let factory = move || { let url = url.clone(); async move { open(&url).await } };
//!         faults::restart_loses_nothing(&factory, &server, 10_000).await;
//!     });
//! }
//! ```
//!
//! Every case works in its own random [`Namespace`](super::Namespace), waits on conditions
//! with deadlines ([`RECOVERY`]) and panics with a clear message when the driver loses an
//! envelope, duplicates beyond the in-flight window, or does not recover.

use std::time::Duration;

use async_trait::async_trait;

mod cut;
mod handover;
mod proxy;
mod publisher;
mod restart;
mod scenario;
mod tally;

pub use cut::connection_cut_recovers;
pub use handover::dead_consumer_hands_over;
pub use proxy::CutProxy;
pub use restart::restart_loses_nothing;

/// How long a driver may take to recover from a fault before a case fails.
pub const RECOVERY: Duration = Duration::from_secs(60);

/// How long the server stays down, or the connections refused, in a fault case.
pub const OUTAGE: Duration = Duration::from_secs(1);

/// A server instance the test owns and may stop and start.
#[async_trait]
pub trait ServiceControl: Send + Sync {
    /// Kills the server abruptly (SIGKILL or its equivalent), keeping its data.
    async fn stop(&self);
    /// Starts it again on the same port and data; returns once it accepts connections.
    async fn start(&self);
}
