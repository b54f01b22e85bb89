//! The bus configuration.

use std::time::Duration;

/// How an [`EmbeddedBus`](super::EmbeddedBus) behaves. Plain data: build it with struct
/// update syntax from [`Default`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedBusConfig {
    /// Largest payload accepted, in bytes. Default is 1 MiB.
    pub max_payload: usize,
    /// Most operations (publishes, acks, group updates) one durable transaction commits.
    /// Default is 4096; 0 is treated as 1.
    pub max_batch: usize,
    /// Committed envelopes kept in memory so subscribers that keep up never read the log
    /// back from disk. Default is 16384; 0 is treated as 1.
    pub tail_cache: usize,
    /// Envelopes a consumer group reads ahead into memory (from the cache or the file).
    /// Default is 512; 0 is treated as 1.
    pub read_ahead: usize,
    /// Settled log entries younger than this are kept, so a new group can replay them
    /// from [`StartPosition::Earliest`](harbor_distributed::StartPosition::Earliest).
    /// Default is 1 hour.
    pub retain_for: Duration,
    /// At most this many of the newest log entries are kept for replay once every group
    /// has settled them, whatever their age. Default is 1 000 000.
    pub retain_max: u64,
    /// How often the writer deletes what retention allows. Default is 1 s.
    pub prune_interval: Duration,
    /// How long `close` lets subscribers finish in-flight deliveries and what is waiting
    /// for them before it ends every subscription. Default is 5 s.
    pub drain_timeout: Duration,
}

impl Default for EmbeddedBusConfig {
    fn default() -> Self {
        Self {
            max_payload: 1024 * 1024,
            max_batch: 4096,
            tail_cache: 16 * 1024,
            read_ahead: 512,
            retain_for: Duration::from_secs(3600),
            retain_max: 1_000_000,
            prune_interval: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(5),
        }
    }
}

impl EmbeddedBusConfig {
    /// The configuration with zero sizes raised to their minimum of 1.
    pub(super) fn normalized(mut self) -> Self {
        self.max_batch = self.max_batch.max(1);
        self.tail_cache = self.tail_cache.max(1);
        self.read_ahead = self.read_ahead.max(1);
        if self.prune_interval.is_zero() {
            self.prune_interval = Duration::from_millis(1);
        }
        self
    }
}
