//! The `memory` bus: at-least-once delivery inside one process.
//!
//! [`MemoryBus`] implements [`MessageBus`](crate::MessageBus) with the full contract except
//! persistence, replay and publish dedup:
//!
//! - **Groups.** A consumer group is created by its first subscription and lives as long as
//!   the bus. It receives every envelope published after its creation whose edge matches its
//!   patterns and whose tenant its [`IdentityScope`](crate::IdentityScope) admits; its
//!   subscriptions compete for them. Groups are named per scope (tenant `a`'s `workers` and
//!   tenant `b`'s `workers` are two groups), and every member of a group must subscribe to
//!   the same edges. Only [`StartPosition::New`](crate::StartPosition::New) can create a group,
//!   so an envelope that no existing group admits is not kept: no group could ever read it.
//! - **Settling.** Ack forgets the envelope for the group. Nack redelivers it after the delay
//!   (attempt + 1). A delivery neither acked nor nacked within the subscription's visibility
//!   timeout is redelivered by the group's timer. Settling a delivery whose lease already
//!   ended fails with [`Error::DeliveryExpired`](crate::Error::DeliveryExpired).
//! - **Dead letters.** The delivery that reaches `max_attempts` and is nacked or times out is
//!   removed from the group and published on
//!   [`dead_letter::edge`](crate::bus::dead_letter::edge) with the reason and attempt count.
//! - **Bounds.** Each group holds at most [`MemoryBusConfig::group_buffer`] envelopes; a full
//!   group makes `publish` wait (a publish cancelled while waiting may have reached some of
//!   the matching groups). Each subscription holds at most `max_in_flight` unsettled
//!   deliveries. Dead letters wait for room like any publish.
//! - **Backlog.** [`backlog`](crate::MessageBus::backlog) is exact: the envelopes the
//!   group's buffers hold (waiting, leased, nacked with a delay), summed over its scopes.
//! - **Order.** One subscriber of a group gets one publisher's envelopes in publish order,
//!   redeliveries excepted.
//! - **Close.** [`close`](crate::MessageBus::close) refuses new envelopes and subscriptions,
//!   lets subscribers finish what they hold and what the groups had accepted (up to
//!   [`MemoryBusConfig::drain_timeout`]), then ends every subscription and joins the timer
//!   tasks. Nothing keeps running after it returns.
//!
//! Performance shape: an envelope is stored once behind an `Arc` and shared by every group;
//! publishing reads the group list without a lock (it only grows), takes each matching
//! group's lock once, and in the common case completes in the first poll of a future of two
//! words; a subscription leases a batch of envelopes per lock; a delivery is settled
//! directly, without a boxed acknowledger or future; a timer task per group handles every
//! deadline of that group. Publishing and receiving spend tokio's cooperative budget, as
//! its channels do, so a publisher and its consumers on one thread take turns. A leased
//! envelope's visibility timeout runs while it waits in its subscription's batch, so the
//! batch adapts to the consumer: it starts at one, doubles up to
//! [`MemoryBusConfig::delivery_batch`] while each batch is worked through within a quarter
//! of the visibility timeout, and falls back to one when it is not; the group's timer tells
//! the subscription when its batch is that old, so handing out a delivery reads a flag
//! rather than the clock.
//!
//! ```
//! use harbor_distributed::memory::{MemoryBus, MemoryBusConfig};
//! use harbor_distributed::{Envelope, Identity, IdentityScope, MessageBus, SubscribeOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), harbor_distributed::Error> {
//! let bus = MemoryBus::new(MemoryBusConfig::default());
//! let scope = IdentityScope::Tenant("acme".into());
//! let mut sub = bus
//!     .subscribe(SubscribeOptions::new(["planner.*"], "planners", scope))
//!     .await?;
//! let who = Identity::new("acme", "ada", "s-1")?;
//! bus.publish(Envelope::new("planner.next", who, "01J0000000000000000000000A", "hi"))
//!     .await?;
//! let delivery = sub.next().await.expect("a delivery")?;
//! assert_eq!(delivery.envelope().payload.as_ref(), b"hi");
//! delivery.ack().await?;
//! bus.close().await?;
//! # Ok(())
//! # }
//! ```

mod acker;
mod bus;
mod config;
mod core;
mod driver;
mod group;
mod groups;
mod leases;
mod membership;
mod publish;
mod settle;
mod state;
mod subscription;
mod timer;

#[cfg(test)]
mod tests;

/// Whether a trace-level span can be recorded now (the compiled-in maximum and the current
/// subscribers' maximum admit it). The hot paths build their spans only then.
#[inline]
fn tracing_spans() -> bool {
    tracing::level_enabled!(tracing::Level::TRACE)
}

pub(crate) use acker::MemoryAcker;
pub use bus::MemoryBus;
pub use config::MemoryBusConfig;
pub use driver::MemoryBusDriver;
