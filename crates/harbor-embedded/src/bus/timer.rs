//! The bus timer: visibility timeouts and nack delays, whoever is (not) reading.
//!
//! One thread per bus sleeps until the earliest deadline any group asked for, then lets
//! every group move what is due (expired leases back to delivery or out as dead letters,
//! delayed nacks back to delivery) and wakes their subscribers. A new deadline only wakes
//! it when it is earlier than the one it sleeps towards, which in steady state (deadlines
//! growing) is never.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::shared::Shared;

#[derive(Debug, Default)]
struct Plan {
    next: Option<Instant>,
    stop: bool,
}

/// When the timer thread must look next.
#[derive(Debug, Default)]
pub(super) struct Timer {
    plan: Mutex<Plan>,
    wake: Condvar,
}

impl Timer {
    fn plan(&self) -> MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes sure the thread looks at `at` or earlier.
    pub(super) fn arm(&self, at: Instant) {
        let mut plan = self.plan();
        if plan.next.is_none_or(|next| at < next) {
            plan.next = Some(at);
            self.wake.notify_one();
        }
    }

    /// Ends the thread.
    pub(super) fn stop(&self) {
        self.plan().stop = true;
        self.wake.notify_one();
    }

    /// Waits for the next due time; false once stopped.
    fn wait(&self) -> bool {
        let mut plan = self.plan();
        loop {
            if plan.stop {
                return false;
            }
            match plan.next {
                None => plan = self.wake.wait(plan).unwrap_or_else(PoisonError::into_inner),
                Some(at) => {
                    let now = Instant::now();
                    if at <= now {
                        plan.next = None;
                        return true;
                    }
                    plan = self
                        .wake
                        .wait_timeout(plan, at - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
    }
}

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
