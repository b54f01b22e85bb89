//! Subscriptions joining and leaving a group, and handing back leases they cannot use.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use super::group::{Group, Leased, wake};
use super::leases::LeaseKey;
use super::state::{GroupState, Phase, SubState};
use crate::{Error, SubscribeOptions};

impl Group {
    /// Adds a subscription to the group; returns its slot and its `aged` flag.
    pub(super) fn attach(
        &self,
        options: &SubscribeOptions,
    ) -> Result<(u32, Arc<AtomicBool>), Error> {
        let mut st = self.lock();
        if st.phase != Phase::Open {
            return Err(Error::Closed);
        }
        let list = st.leases.list_for(options.visibility_timeout);
        let aged = Arc::new(AtomicBool::new(false));
        let slot = st.add_sub(SubState {
            in_flight: 0,
            max_in_flight: options.max_in_flight,
            max_attempts: options.max_attempts,
            list,
            timeout: options.visibility_timeout,
            alive: true,
            idle_waker: None,
            queued: false,
            budget_waker: None,
            stale_at: None,
            aged: Arc::clone(&aged),
        });
        Ok((slot, aged))
    }

    /// Removes subscription `sub`; the leases it had not handed out go back to the front of
    /// the queue as if never delivered, the others stay until settled or expired.
    pub(super) fn detach(&self, sub: u32, unsent: VecDeque<Leased>) {
        let mut st = self.lock();
        requeue(&mut st, sub, unsent);
        if let Some(slot) = st.subs.get_mut(sub as usize) {
            if let Some(s) = slot {
                s.alive = false;
                s.idle_waker = None;
                s.budget_waker = None;
                if s.in_flight == 0 {
                    *slot = None;
                }
            }
            st.live_subs -= 1;
        }
        self.after_requeue(st);
    }

    /// Subscription `sub` hands back leases it will not get to in time (its consumer turned
    /// slow); they go back to the front of the queue as if never delivered.
    pub(super) fn give_back(&self, sub: u32, unsent: VecDeque<Leased>) {
        let mut st = self.lock();
        requeue(&mut st, sub, unsent);
        self.after_requeue(st);
    }

    /// Restarts the visibility timeout of lease `key` at `now`, because the delivery is only
    /// now handed to the consumer. False when the lease already ended.
    pub(super) fn renew(&self, key: LeaseKey, now: Instant) -> bool {
        let mut st = self.lock();
        st.phase != Phase::Ended && st.leases.renew(key, now)
    }

    fn after_requeue(&self, mut st: std::sync::MutexGuard<'_, GroupState>) {
        let pass = if st.ready.is_empty() {
            None
        } else {
            st.next_idle()
        };
        let draining = st.phase == Phase::Draining;
        drop(st);
        wake(pass);
        if draining {
            self.drain.notify_one();
        }
    }
}

/// Puts the still-held leases of `unsent` back at the front of the queue, in order.
fn requeue(st: &mut GroupState, sub: u32, unsent: VecDeque<Leased>) {
    for leased in unsent.into_iter().rev() {
        if let Some(lease) = st.leases.remove(leased.key) {
            let mut entry = lease.entry;
            entry.deliveries -= 1;
            st.ready.push_front(entry);
            if let Some(s) = st.sub_mut(sub) {
                s.in_flight -= 1;
            }
        }
    }
}
