//! How a memory-bus delivery settles: ack, nack, and the dead letter of a last nack.
//!
//! Below both the subscription that hands deliveries out and the
//! [`Delivery`](crate::Delivery) that carries the acker.

use std::sync::Arc;
use std::time::Duration;

use super::group::Group;
use super::leases::LeaseKey;
use super::settle::Nacked;
use crate::Error;

/// Settles one memory-bus delivery. [`Delivery`](crate::Delivery) calls it directly rather
/// than through a boxed [`Acknowledger`](crate::Acknowledger): an ack never waits, so it
/// needs no future.
pub(crate) struct MemoryAcker {
    pub(super) group: Arc<Group>,
    pub(super) key: LeaseKey,
}

impl MemoryAcker {
    pub(crate) fn ack(&self) -> Result<(), Error> {
        // As for publish: no span at all unless trace spans can be recorded.
        if !super::tracing_spans() {
            return self.group.ack(self.key);
        }
        tracing::trace_span!("bus.ack", group = %self.group.name)
            .in_scope(|| self.group.ack(self.key))
    }

    pub(crate) async fn nack(&self, delay: Duration, reason: Option<String>) -> Result<(), Error> {
        let span = tracing::trace_span!("bus.nack", group = %self.group.name, ?delay);
        let nacked = span.in_scope(|| self.group.nack(self.key, delay, reason))?;
        if let Nacked::Dead(dead) = nacked {
            // The nacking consumer carries the dead letter to its edge, so backpressure on
            // the dead-letter groups reaches the consumer that produced it. Boxed (by
            // `route_dead_letter`): a rare path that should not size every nack's future.
            if let Some(router) = self.group.router.upgrade() {
                router.route_dead_letter(&self.group.name, dead).await?;
            }
        }
        Ok(())
    }
}
