//! Ending leases: ack, nack, visibility-timeout expiry.

use std::sync::atomic::Ordering;
use std::task::Waker;
use std::time::{Duration, Instant};

use super::group::{DeadLetter, Group, wake};
use super::leases::{Lease, LeaseKey};
use super::state::{Delayed, GroupState, Phase};
use crate::Error;

/// What happened to a nacked envelope.
#[derive(Debug)]
pub(super) enum Nacked {
    /// It will be delivered again.
    Retry,
    /// It used up its attempts.
    Dead(DeadLetter),
}

impl Group {
    fn take_lease(&self, st: &mut GroupState, key: LeaseKey) -> Result<Lease, Error> {
        if st.phase == Phase::Ended {
            return Err(Error::Closed);
        }
        st.leases.remove(key).ok_or_else(|| {
            Error::DeliveryExpired(format!(
                "group {}: the delivery was already settled or its visibility timeout passed",
                self.name
            ))
        })
    }

    /// Whether waiting publishers should be woken now that `retained` fell; marks the
    /// wake-up as sent.
    fn wake_publishers(&self, st: &mut GroupState) -> bool {
        // Waking only at the low-water mark (or when nothing waits to be leased) spares a
        // task switch per ack while the buffer is full.
        let wake = st.publishers_waiting > 0
            && !st.space_signalled
            && (st.retained <= self.low_water || st.ready.is_empty());
        st.space_signalled |= wake;
        wake
    }

    /// Acknowledges lease `key`.
    pub(super) fn ack(&self, key: LeaseKey) -> Result<(), Error> {
        let mut st = self.lock();
        let lease = self.take_lease(&mut st, key)?;
        let budget = st.release(lease.sub);
        st.retained -= 1;
        let space = self.wake_publishers(&mut st);
        let draining = st.phase == Phase::Draining;
        drop(st);
        // The envelope may be freed here: outside the lock.
        drop(lease);
        self.after_settle(budget, None, space, false, draining);
        Ok(())
    }

    /// Nacks lease `key`: redelivered after `delay`, or dead-lettered on its last attempt.
    pub(super) fn nack(
        &self,
        key: LeaseKey,
        delay: Duration,
        reason: Option<String>,
    ) -> Result<Nacked, Error> {
        let mut st = self.lock();
        let lease = self.take_lease(&mut st, key)?;
        let budget = st.release(lease.sub);
        let draining = st.phase == Phase::Draining;
        let entry = lease.entry;
        if entry.deliveries >= lease.max_attempts {
            st.retained -= 1;
            let space = self.wake_publishers(&mut st);
            drop(st);
            self.after_settle(budget, None, space, false, draining);
            return Ok(Nacked::Dead(DeadLetter {
                attempts: entry.deliveries,
                envelope: entry.envelope,
                reason: reason.unwrap_or_else(|| "nacked".to_owned()),
            }));
        }
        let mut idle = None;
        let mut arm = false;
        if delay.is_zero() {
            st.ready.push_back(entry);
            idle = st.next_idle();
        } else {
            let at = Instant::now() + delay;
            st.delayed_seq += 1;
            let seq = st.delayed_seq;
            st.delayed.push(Delayed { at, seq, entry });
            arm = st.timer_at.is_none_or(|t| at < t);
            if arm {
                st.timer_at = Some(at);
            }
        }
        drop(st);
        self.after_settle(budget, idle, false, arm, draining);
        Ok(Nacked::Retry)
    }

    fn after_settle(
        &self,
        budget: Option<Waker>,
        idle: Option<Waker>,
        space: bool,
        arm: bool,
        draining: bool,
    ) {
        wake(budget);
        wake(idle);
        if space {
            self.space.notify_one();
        }
        if arm {
            self.timer.notify_one();
        }
        if draining {
            self.drain.notify_one();
        }
    }

    /// Moves expired leases and due delayed envelopes back to the queue (or out, as dead
    /// letters); returns when to look again.
    pub(super) fn expire(&self, now: Instant, dead: &mut Vec<DeadLetter>) -> Option<Instant> {
        let mut st = self.lock();
        if st.phase == Phase::Ended {
            st.timer_at = None;
            return None;
        }
        // Batches that waited long enough first: their subscriptions check before handing
        // out more (and give the rest back), so those leases do not run out unseen.
        for s in st.subs.iter_mut().flatten() {
            if s.stale_at.is_some_and(|at| at <= now) {
                s.stale_at = None;
                s.aged.store(true, Ordering::Relaxed);
            }
        }
        let mut wakers: Vec<Waker> = Vec::new();
        let mut moved = 0usize;
        while let Some(lease) = st.leases.pop_expired(now) {
            wakers.extend(st.release(lease.sub));
            let list = lease.list();
            let entry = lease.entry;
            if entry.deliveries >= lease.max_attempts {
                st.retained -= 1;
                let timeout = st.leases.timeout_of(list);
                let reason = format!("not settled within the visibility timeout of {timeout:?}");
                dead.push(DeadLetter {
                    attempts: entry.deliveries,
                    envelope: entry.envelope,
                    reason,
                });
            } else {
                st.ready.push_back(entry);
                moved += 1;
            }
        }
        while st.delayed.peek().is_some_and(|d| d.at <= now) {
            if let Some(d) = st.delayed.pop() {
                st.ready.push_back(d.entry);
                moved += 1;
            }
        }
        for _ in 0..moved {
            match st.next_idle() {
                Some(w) => wakers.push(w),
                None => break,
            }
        }
        let next = st.next_deadline();
        st.timer_at = next;
        let space = !dead.is_empty() && self.wake_publishers(&mut st);
        let draining = st.phase == Phase::Draining;
        drop(st);
        wakers.into_iter().for_each(Waker::wake);
        if space {
            self.space.notify_one();
        }
        if draining {
            self.drain.notify_one();
        }
        next
    }
}
