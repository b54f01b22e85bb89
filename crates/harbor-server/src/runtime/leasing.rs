//! [`Leasing`]: this process's side of the execution leases (its holder name, the time to
//! live, the stop of its heartbeat and sweeper). What the leases do is in `lease.rs`.

use std::sync::Arc;
use std::time::Duration;

use harbor_distributed::Fence;
use tokio_util::sync::CancellationToken;

/// This process's side of the leases.
pub(crate) struct Leasing {
    /// This process run's name as a lease holder: the replica name and a random suffix,
    /// so a restarted replica never mistakes its predecessor's leases for its own.
    pub(super) holder: Arc<str>,
    /// How long a lease lives without renewal.
    pub(super) ttl: Duration,
    /// Stops the heartbeat and the sweeper.
    stop: CancellationToken,
}

impl Leasing {
    pub(super) fn new(replica: &str, ttl: Duration) -> Self {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        Self {
            holder: format!("{replica}-{}", &suffix[..12]).into(),
            ttl,
            stop: CancellationToken::new(),
        }
    }

    /// A new task's first lease.
    pub(super) fn first(&self) -> Fence {
        Fence {
            holder: Arc::clone(&self.holder),
            epoch: 1,
        }
    }

    pub(super) fn stop(&self) {
        self.stop.cancel();
    }

    /// What stops the heartbeat and the sweeper.
    pub(super) fn stopper(&self) -> &CancellationToken {
        &self.stop
    }
}
