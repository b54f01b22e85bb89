//! Settling one delivery: ack and nack, in memory at once (the group's lease table), then
//! durably through the writer; a nack of the last attempt dead-letters the envelope.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use harbor_distributed::{Acknowledger, Error};
use tracing::Instrument;

use super::core::Shared;
use super::group::Group;

/// Settles one delivery: in memory at once, then durably through the writer.
pub(super) struct Acker {
    pub(super) shared: Arc<Shared>,
    pub(super) group: Arc<Group>,
    pub(super) lease: u64,
}

#[async_trait]
impl Acknowledger for Acker {
    async fn ack(&self) -> Result<(), Error> {
        let span = tracing::debug_span!("bus.ack", group = %self.group.name);
        async {
            self.group.ack(self.lease)?;
            self.shared.poke_drain();
            self.shared.sync(&self.group).await
        }
        .instrument(span)
        .await
    }

    async fn nack(&self, delay: Duration, reason: Option<String>) -> Result<(), Error> {
        let span = tracing::debug_span!("bus.nack", group = %self.group.name, ?delay);
        async {
            let dead = self
                .group
                .nack(self.lease, delay, reason, &self.shared.timer)?;
            self.shared.poke_drain();
            if dead {
                // The dead letter is on its edge when the nack returns.
                self.shared.sync(&self.group).await?;
            }
            Ok(())
        }
        .instrument(span)
        .await
    }
}
