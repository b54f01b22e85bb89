//! The memory bus configuration.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a [`MemoryBus`](super::MemoryBus) behaves. Plain data: build it with struct update
/// syntax from [`Default`], or deserialize it (missing fields take their defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryBusConfig {
    /// Envelopes one consumer group may hold at once (waiting, in flight or delayed after a
    /// nack) before `publish` waits for room: backpressure, never loss. Default is 4096; 0 is
    /// treated as 1.
    pub group_buffer: usize,
    /// Largest payload accepted, in bytes. Default is 1 MiB.
    pub max_payload: usize,
    /// How long `close` lets subscribers finish in-flight deliveries and the accepted backlog
    /// before it ends every subscription. Default is 5 s.
    pub drain_timeout: Duration,
    /// Most waiting envelopes a subscription leases from its group in one step; a larger
    /// batch takes the group lock less often, a smaller one spreads work more evenly between
    /// competing subscribers. Never more than the subscription's `max_in_flight`; a
    /// subscription starts at one and doubles while its consumer keeps up, and falls back to
    /// one when the consumer is slow (see the module docs). Default is 64; 0 is treated as 1.
    pub delivery_batch: usize,
}

impl Default for MemoryBusConfig {
    fn default() -> Self {
        Self {
            group_buffer: 4096,
            max_payload: 1024 * 1024,
            drain_timeout: Duration::from_secs(5),
            delivery_batch: 64,
        }
    }
}

impl MemoryBusConfig {
    /// The configuration with zero sizes raised to their minimum of 1.
    pub(super) fn normalized(mut self) -> Self {
        self.group_buffer = self.group_buffer.max(1);
        self.delivery_batch = self.delivery_batch.max(1);
        self
    }
}
