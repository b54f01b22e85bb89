//! The bus timer: visibility timeouts and nack delays, whoever is (not) reading.
//!
//! One thread per bus sleeps until the earliest deadline any group asked for, then lets
//! every group move what is due (expired leases back to delivery or out as dead letters,
//! delayed nacks back to delivery) and wakes their subscribers. A new deadline only wakes
//! it when it is earlier than the one it sleeps towards, which in steady state (deadlines
//! growing) is never. The plan it sleeps on, [`Timer`](super::core::Timer), is shared
//! state: it lives in `core`, where groups arm it.

use std::sync::Arc;
use std::time::Instant;

use super::core::Shared;

/// The timer thread of `shared`.
pub(super) fn run(shared: &Arc<Shared>) {
    while shared.timer.wait() {
        let groups: Vec<_> = shared.groups().values().cloned().collect();
        let now = Instant::now();
        for group in groups {
            let (moved, dead, next) = group.expire_due(now);
            if dead {
                shared.sync_later(&group);
            }
            if moved || dead {
                group.changed.notify_waiters();
                shared.poke_drain();
            }
            if let Some(at) = next {
                shared.timer.arm(at);
            }
        }
    }
}
