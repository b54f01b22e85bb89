//! The at-least-once message bus contract.
//!
//! `publish` returns once the envelope is durable for the driver. Each consumer group gets
//! every matching envelope; within a group, subscribers compete for them. A [`Delivery`] must
//! be acknowledged after the work is done; one that is nacked, or neither acked nor nacked
//! within the visibility timeout, comes back with its attempt counter raised, and after
//! `max_attempts` it moves to the dead-letter edge (see [`dead_letter`]) with the reason.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use futures::Stream;
use futures::stream::BoxStream;

use crate::{Envelope, Error};

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

/// Which envelopes a subscription may see, by identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdentityScope {
    /// Only envelopes whose identity has this tenant.
    Tenant(String),
    /// Every tenant: for operators and system workers, stated explicitly.
    Admin,
}

impl IdentityScope {
    /// Whether an envelope of `tenant` is in scope.
    pub fn admits(&self, tenant: &str) -> bool {
        match self {
            Self::Tenant(t) => t == tenant,
            Self::Admin => true,
        }
    }
}

/// Where a new consumer group starts. An existing group resumes where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartPosition {
    /// Only envelopes published after the group is created (the default).
    #[default]
    New,
    /// Everything the driver still retains (needs `replay`).
    Earliest,
    /// From this driver sequence on (needs `replay`).
    Sequence(u64),
}

/// What to subscribe to and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeOptions {
    /// Edges or patterns (`a.*`, `a.>`); at least one.
    pub edges: Vec<String>,
    /// Consumer group: subscribers of one group share the work, each group gets everything.
    pub group: String,
    /// Identity scope.
    pub scope: IdentityScope,
    /// Where a new group starts. Default: [`StartPosition::New`].
    pub start: StartPosition,
    /// Deliveries this subscription may hold unacknowledged. Default 256.
    pub max_in_flight: usize,
    /// How long a delivery may stay unacknowledged before it is redelivered. Default 30 s.
    pub visibility_timeout: Duration,
    /// Deliveries of one envelope before it is dead-lettered. Default 5.
    pub max_attempts: u32,
}

impl SubscribeOptions {
    /// Options for `edges` in `group` limited to `scope`, other fields at their defaults.
    pub fn new<I, S>(edges: I, group: impl Into<String>, scope: IdentityScope) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            edges: edges.into_iter().map(Into::into).collect(),
            group: group.into(),
            scope,
            start: StartPosition::New,
            max_in_flight: 256,
            visibility_timeout: Duration::from_secs(30),
            max_attempts: 5,
        }
    }

    /// Sets the start position.
    #[must_use]
    pub fn start(mut self, start: StartPosition) -> Self {
        self.start = start;
        self
    }

    /// Sets the in-flight limit.
    #[must_use]
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n;
        self
    }

    /// Sets the visibility timeout.
    #[must_use]
    pub fn visibility_timeout(mut self, d: Duration) -> Self {
        self.visibility_timeout = d;
        self
    }

    /// Sets the attempt limit.
    #[must_use]
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// Checks the options every driver requires.
    pub fn validate(&self) -> Result<(), Error> {
        if self.edges.is_empty() {
            return Err(Error::InvalidArgument(
                "subscribe needs at least one edge".into(),
            ));
        }
        for edge in &self.edges {
            crate::edge::validate_pattern(edge)?;
        }
        if self.group.is_empty()
            || self.group.contains('.')
            || crate::edge::validate_edge(&self.group).is_err()
        {
            return Err(Error::InvalidArgument(format!(
                "consumer group {:?} must be one non-empty edge segment (no dots, wildcards or spaces)",
                self.group
            )));
        }
        if let IdentityScope::Tenant(t) = &self.scope
            && t.is_empty()
        {
            return Err(Error::IdentityRequired { missing: "tenant" });
        }
        if self.max_in_flight == 0 {
            return Err(Error::InvalidArgument(
                "max_in_flight must be at least 1".into(),
            ));
        }
        if self.max_attempts == 0 {
            return Err(Error::InvalidArgument(
                "max_attempts must be at least 1".into(),
            ));
        }
        if self.visibility_timeout.is_zero() {
            return Err(Error::InvalidArgument(
                "visibility_timeout must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// Settles one delivery with its driver. Drivers implement this; users call the methods of
/// [`Delivery`].
#[async_trait]
pub trait Acknowledger: Send + Sync {
    /// The work is done: forget the envelope for this group.
    async fn ack(&self) -> Result<(), Error>;
    /// The work failed: deliver again after `delay` (or dead-letter it, counting attempts).
    async fn nack(&self, delay: Duration, reason: Option<String>) -> Result<(), Error>;
}

/// How a delivery is settled: through its driver's [`Acknowledger`], or directly for the
/// in-process memory bus, whose settling never waits: that spares the hot path an
/// allocation for the acknowledger of every delivery and another for every ack's future.
enum Acker {
    Driver(Box<dyn Acknowledger>),
    Memory(crate::memory::MemoryAcker),
}

impl Acker {
    async fn ack(&self) -> Result<(), Error> {
        match self {
            Self::Driver(acker) => acker.ack().await,
            Self::Memory(acker) => acker.ack(),
        }
    }

    async fn nack(&self, delay: Duration, reason: Option<String>) -> Result<(), Error> {
        match self {
            Self::Driver(acker) => acker.nack(delay, reason).await,
            Self::Memory(acker) => acker.nack(delay, reason).await,
        }
    }
}

/// One envelope handed to one subscriber.
///
/// Dropping a delivery without settling it leaves it to the visibility timeout.
pub struct Delivery {
    // Shared so a driver can hand one stored envelope to several groups and keep it for
    // redelivery without copying it per delivery.
    envelope: Arc<Envelope>,
    attempt: u32,
    acker: Acker,
}

impl Delivery {
    /// A delivery of `envelope`, its `attempt`-th (1 for the first), settled through `acker`.
    pub fn new(envelope: Envelope, attempt: u32, acker: Box<dyn Acknowledger>) -> Self {
        Self::from_shared(Arc::new(envelope), attempt, acker)
    }

    /// Like [`new`](Self::new) for an envelope the driver already shares (fan-out to several
    /// groups, a copy kept for redelivery): no copy is made.
    pub fn from_shared(
        envelope: Arc<Envelope>,
        attempt: u32,
        acker: Box<dyn Acknowledger>,
    ) -> Self {
        Self {
            envelope,
            attempt,
            acker: Acker::Driver(acker),
        }
    }

    /// A memory-bus delivery, settled without going through [`Acknowledger`].
    pub(crate) fn from_memory(
        envelope: Arc<Envelope>,
        attempt: u32,
        acker: crate::memory::MemoryAcker,
    ) -> Self {
        Self {
            envelope,
            attempt,
            acker: Acker::Memory(acker),
        }
    }

    /// The envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The envelope as the driver shares it; cloning the `Arc` is cheap.
    pub fn shared_envelope(&self) -> &Arc<Envelope> {
        &self.envelope
    }

    /// Takes the envelope out, keeping the means to settle it. The envelope is copied when
    /// the driver still holds it (for redelivery); [`into_shared_parts`](Self::into_shared_parts)
    /// avoids that copy.
    pub fn into_parts(self) -> (Envelope, Settle) {
        let (envelope, settle) = self.into_shared_parts();
        (Arc::unwrap_or_clone(envelope), settle)
    }

    /// Takes the shared envelope out, keeping the means to settle it.
    pub fn into_shared_parts(self) -> (Arc<Envelope>, Settle) {
        (
            self.envelope,
            Settle {
                attempt: self.attempt,
                acker: self.acker,
            },
        )
    }

    /// Which delivery of this envelope this is: 1 the first time, 2 the first redelivery...
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Acknowledges the delivery.
    pub async fn ack(self) -> Result<(), Error> {
        self.acker.ack().await
    }

    /// Asks for redelivery after `delay`.
    pub async fn nack(self, delay: Duration) -> Result<(), Error> {
        self.acker.nack(delay, None).await
    }

    /// Asks for redelivery after `delay`, recording why (the reason travels to the dead-letter
    /// edge if this was the last attempt).
    pub async fn nack_with_reason(
        self,
        delay: Duration,
        reason: impl Into<String>,
    ) -> Result<(), Error> {
        self.acker.nack(delay, Some(reason.into())).await
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("envelope", &self.envelope)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// The settling half of a [`Delivery`] whose envelope was taken out.
pub struct Settle {
    attempt: u32,
    acker: Acker,
}

impl Settle {
    /// See [`Delivery::attempt`].
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
    /// See [`Delivery::ack`].
    pub async fn ack(self) -> Result<(), Error> {
        self.acker.ack().await
    }
    /// See [`Delivery::nack_with_reason`].
    pub async fn nack(self, delay: Duration, reason: Option<String>) -> Result<(), Error> {
        self.acker.nack(delay, reason).await
    }
}

impl fmt::Debug for Settle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settle")
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// A stream of deliveries. It ends when the subscription or the bus is closed; dropping it
/// leaves its unsettled deliveries to the visibility timeout.
pub struct Subscription {
    inner: BoxStream<'static, Result<Delivery, Error>>,
}

impl Subscription {
    /// Wraps a driver's stream.
    pub fn new(inner: BoxStream<'static, Result<Delivery, Error>>) -> Self {
        Self { inner }
    }

    /// The next delivery; `None` once the subscription has ended.
    pub async fn next(&mut self) -> Option<Result<Delivery, Error>> {
        futures::StreamExt::next(&mut self.inner).await
    }
}

impl Stream for Subscription {
    type Item = Result<Delivery, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
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
