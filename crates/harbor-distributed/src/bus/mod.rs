//! The at-least-once message bus contract.
//!
//! `publish` returns once the envelope is durable for the driver. Each consumer group gets
//! every matching envelope; within a group, subscribers compete for them. A [`Delivery`] must
//! be acknowledged after the work is done; one that is nacked, or neither acked nor nacked
//! within the visibility timeout, comes back with its attempt counter raised, and after
//! `max_attempts` it moves to the dead-letter edge (see [`dead_letter`]) with the reason.

use async_trait::async_trait;

use crate::{Envelope, Error};

mod delivery;
pub mod metered;
mod options;

pub use delivery::{Acknowledger, Delivery, Settle, Subscription};
pub use metered::MeteredBus;
pub use options::{IdentityScope, StartPosition, SubscribeOptions};

/// A message bus driver.
#[async_trait]
pub trait MessageBus: Send + Sync + 'static {
    /// What this driver can do; the conformance suite runs optional cases from this.
    fn capabilities(&self) -> Capabilities;

    /// Publishes one envelope; returns when it is durable for this driver.
    ///
    /// Fails with [`Error::IdentityRequired`] or another validation error before anything is
    /// stored, and with [`Error::Closed`] after [`close`](Self::close). A full buffer makes
    /// this wait (backpressure), never drop.
    async fn publish(&self, envelope: Envelope) -> Result<PublishReceipt, Error>;

    /// Opens a subscription.
    async fn subscribe(&self, options: SubscribeOptions) -> Result<Subscription, Error>;

    /// The consumer lag of `group` as the engine sees it: how many envelopes the group
    /// still owes, `Ok(None)` when this driver cannot tell (the default).
    ///
    /// An envelope counts from when it is stored for the group (its `publish` returned, and
    /// it matches the group's edges and scope) until a delivery of it is acknowledged or it
    /// is dead-lettered. That is every envelope the group has not settled: waiting to be
    /// delivered, **delivered and not yet acked or nacked (in flight)**, and nacked and
    /// waiting to be delivered again. So it falls on acks and dead letters only; a nack,
    /// a delivery dropped unsettled and a timed-out visibility leave it where it is.
    ///
    /// The count is summed over every scope the group name exists in (tenant `a`'s and
    /// tenant `b`'s `workers` are two groups of the engine under one name) and over every
    /// process consuming it, not only this one's subscriptions. A group the engine does not
    /// know has a backlog of 0. Engines that filter more coarsely than a group's edges or
    /// scope may also count, until a subscriber has read past them, envelopes the group
    /// skips; each driver's docs say where. The answer is a snapshot: concurrent
    /// publishes and settles may or may not be in it, and an ack a driver sends without
    /// waiting for the engine's confirmation may leave the count a moment later.
    ///
    /// It costs one or a few engine queries (more for a group far behind on some engines),
    /// so it is for metrics and tools, not for every delivery; callers bound it with a
    /// timeout.
    async fn backlog(&self, group: &str) -> Result<Option<u64>, Error> {
        let _ = group;
        Ok(None)
    }

    /// Stops intake, lets in-flight deliveries finish within a bounded time, and releases
    /// every task and connection. Idempotent.
    async fn close(&self) -> Result<(), Error>;
}

/// What `publish` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishReceipt {
    /// The driver's position for the envelope, where it has one (stream sequence, id).
    pub sequence: Option<u64>,
    /// True when publish dedup recognised the envelope as already stored.
    pub duplicate: bool,
}

/// What a driver declares it can do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Envelopes survive a restart of the process (and of the server, for server engines).
    pub persistent: bool,
    /// Order per edge is kept for a single subscriber of a group (redeliveries excepted).
    pub ordered_per_edge: bool,
    /// New groups can start at [`StartPosition::Earliest`] or a sequence.
    pub replay: bool,
    /// Envelopes over `max_attempts` go to the dead-letter edge.
    pub dead_letter: bool,
    /// The same `(task_id, edge, event_id)` published twice is stored once.
    pub publish_dedup: bool,
    /// Largest payload accepted, in bytes.
    pub max_payload: usize,
}

impl Default for Capabilities {
    /// Nothing optional; 1 MiB payloads.
    fn default() -> Self {
        Self {
            persistent: false,
            ordered_per_edge: false,
            replay: false,
            dead_letter: false,
            publish_dedup: false,
            max_payload: 1024 * 1024,
        }
    }
}

impl Capabilities {
    /// Sets `persistent`.
    #[must_use]
    pub fn persistent(mut self, yes: bool) -> Self {
        self.persistent = yes;
        self
    }
    /// Sets `ordered_per_edge`.
    #[must_use]
    pub fn ordered_per_edge(mut self, yes: bool) -> Self {
        self.ordered_per_edge = yes;
        self
    }
    /// Sets `replay`.
    #[must_use]
    pub fn replay(mut self, yes: bool) -> Self {
        self.replay = yes;
        self
    }
    /// Sets `dead_letter`.
    #[must_use]
    pub fn dead_letter(mut self, yes: bool) -> Self {
        self.dead_letter = yes;
        self
    }
    /// Sets `publish_dedup`.
    #[must_use]
    pub fn publish_dedup(mut self, yes: bool) -> Self {
        self.publish_dedup = yes;
        self
    }
    /// Sets `max_payload`.
    #[must_use]
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }
}

pub mod dead_letter {
    //! The dead-letter convention every driver follows.
    //!
    //! An envelope that exhausts `max_attempts` in group `g` is published, unchanged but for
    //! its edge and three headers, on the edge `dead-letter.<g>.<edge>`; subscribe to
    //! `dead-letter.<g>.>` to read a group's dead letters.

    /// First segment of every dead-letter edge.
    pub const PREFIX: &str = "dead-letter";
    /// Header: why the envelope was dead-lettered (the last nack reason, or the timeout).
    pub const REASON: &str = "harbor-dead-letter-reason";
    /// Header: how many deliveries were made.
    pub const ATTEMPTS: &str = "harbor-dead-letter-attempts";
    /// Header: the edge it was published on.
    pub const ORIGINAL_EDGE: &str = "harbor-dead-letter-edge";
    /// Header: the consumer group that gave up on it.
    pub const GROUP: &str = "harbor-dead-letter-group";

    /// The dead-letter edge for `edge` in `group`.
    pub fn edge(group: &str, edge: &str) -> String {
        format!("{PREFIX}.{group}.{edge}")
    }

    /// The envelope to publish for a dead letter.
    pub fn envelope(
        mut original: crate::Envelope,
        group: &str,
        attempts: u32,
        reason: &str,
    ) -> crate::Envelope {
        original
            .headers
            .insert(ORIGINAL_EDGE.to_owned(), original.edge.to_string());
        original
            .headers
            .insert(REASON.to_owned(), reason.to_owned());
        original
            .headers
            .insert(ATTEMPTS.to_owned(), attempts.to_string());
        original.headers.insert(GROUP.to_owned(), group.to_owned());
        original.edge = edge(group, &original.edge).into();
        original
    }
}
