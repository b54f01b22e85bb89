//! Handing out and settling deliveries: lease, ack, nack, visibility-timeout expiry.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use harbor_distributed::bus::dead_letter;
use harbor_distributed::kit;
use harbor_distributed::{Envelope, Error};

use super::core::Timer;
use super::group::{Change, Delayed, Entry, Fill, Group, GroupState, Lease, Phase, SubState};
use super::record;
use super::tail::Tail;

/// What a subscription asks of its group.
#[derive(Debug, Clone, Copy)]
pub(super) struct Terms {
    pub(super) sub: u64,
    pub(super) max_attempts: u32,
    pub(super) timeout: Duration,
    pub(super) read_ahead: usize,
}

/// What [`Group::take`] found.
#[derive(Debug)]
pub(super) enum Take {
    /// A delivery: the envelope, its attempt number and its lease.
    Got {
        envelope: Arc<Envelope>,
        attempt: u32,
        lease: u64,
    },
    /// Nothing now: read the file if `fill` says so, else wait to be woken.
    Wait { fill: Fill },
    /// The bus has closed.
    Ended,
}

fn read_lock(tail: &RwLock<Tail>) -> std::sync::RwLockReadGuard<'_, Tail> {
    kit::read(tail)
}

impl Group {
    /// Adds a subscription; `None` once the bus is closing.
    pub(super) fn attach(&self, max_in_flight: usize) -> Option<u64> {
        let mut st = self.lock();
        if st.phase != Phase::Open {
            return None;
        }
        let sub = st.next_sub;
        st.next_sub += 1;
        st.live_subs += 1;
        st.subs.insert(
            sub,
            SubState {
                in_flight: 0,
                max_in_flight,
                alive: true,
            },
        );
        Some(sub)
    }

    /// Removes a subscription; its unsettled deliveries stay until their timeout.
    pub(super) fn detach(&self, sub: u64) {
        let mut st = self.lock();
        if let Some(s) = st.subs.get_mut(&sub) {
            s.alive = false;
            if s.in_flight == 0 {
                st.subs.remove(&sub);
            }
            st.live_subs -= 1;
        }
        drop(st);
        self.changed.notify_waiters();
    }

    /// The next delivery for `terms.sub`, if any. Also expires what is due at `now`;
    /// returns whether dead letters were queued (the caller asks the writer to store them).
    pub(super) fn take(
        &self,
        terms: &Terms,
        tail: &RwLock<Tail>,
        timer: &Timer,
        now: Instant,
    ) -> (Take, bool) {
        let mut st = self.lock();
        if st.phase == Phase::Ended {
            return (Take::Ended, false);
        }
        let (moved, dead) = self.expire(&mut st, now);
        let budget = st
            .subs
            .get(&terms.sub)
            .is_some_and(|s| s.in_flight < s.max_in_flight);
        if !budget {
            drop(st);
            if moved {
                self.changed.notify_waiters();
            }
            return (Take::Wait { fill: Fill::Done }, dead);
        }
        if st.retry.is_empty() && st.fresh.is_empty() {
            let fill = st.fill(&self.scope, &read_lock(tail), terms.read_ahead);
            if st.fresh.is_empty() {
                return (Take::Wait { fill }, dead);
            }
        }
        let (mut entry, again) = match st.retry.pop_front() {
            Some(entry) => (entry, true),
            None => match st.fresh.pop_front() {
                Some(entry) => (entry, false),
                None => unreachable!("checked above"),
            },
        };
        entry.attempts += 1;
        let attempt = entry.attempts;
        if again && attempt >= 2 {
            st.journal.push(Change::Attempts {
                seq: entry.seq,
                attempts: attempt,
            });
        }
        let envelope = Arc::clone(&entry.envelope);
        let lease = st.next_lease;
        st.next_lease += 1;
        let deadline = now + terms.timeout;
        st.deadlines.insert((deadline, lease));
        st.leases.insert(
            lease,
            Lease {
                entry,
                sub: terms.sub,
                max_attempts: terms.max_attempts,
                timeout: terms.timeout,
                deadline,
            },
        );
        if let Some(s) = st.subs.get_mut(&terms.sub) {
            s.in_flight += 1;
        }
        let more = !st.retry.is_empty();
        drop(st);
        timer.arm(deadline);
        if moved && more {
            self.changed.notify_waiters();
        }
        let got = Take::Got {
            envelope,
            attempt,
            lease,
        };
        (got, dead)
    }

    /// What the timer does at `now`: [`expire`](Self::expire), and when to look next.
    pub(super) fn expire_due(&self, now: Instant) -> (bool, bool, Option<Instant>) {
        let mut st = self.lock();
        if st.phase == Phase::Ended {
            return (false, false, None);
        }
        let (moved, dead) = self.expire(&mut st, now);
        (moved, dead, st.next_deadline())
    }

    /// Moves expired leases and due nacks back to `retry`, or out as dead letters; returns
    /// (whether anything moved, whether a dead letter was queued).
    fn expire(&self, st: &mut GroupState, now: Instant) -> (bool, bool) {
        let (mut moved, mut dead) = (false, false);
        while let Some(&(at, id)) = st.deadlines.first() {
            if at > now {
                break;
            }
            st.deadlines.pop_first();
            let Some(lease) = st.leases.remove(&id) else {
                continue;
            };
            st.release(lease.sub);
            if lease.entry.attempts >= lease.max_attempts {
                let reason = format!(
                    "not settled within the visibility timeout of {:?}",
                    lease.timeout
                );
                self.dead_letter(st, lease.entry, &reason);
                dead = true;
            } else {
                st.retry.push_back(lease.entry);
                moved = true;
            }
        }
        while st.delayed.peek().is_some_and(|d| d.at <= now) {
            if let Some(d) = st.delayed.pop() {
                st.retry.push_back(d.entry);
                moved = true;
            }
        }
        (moved, dead)
    }

    /// Settles `entry` and queues its dead letter.
    fn dead_letter(&self, st: &mut GroupState, entry: Entry, reason: &str) {
        tracing::debug!(group = %self.name, edge = %entry.envelope.edge, attempts = entry.attempts, reason, "dead-lettering");
        st.settle(&entry);
        let original = Arc::unwrap_or_clone(entry.envelope);
        let letter = dead_letter::envelope(original, &self.name, entry.attempts, reason);
        let record = record::encode(&letter, record::now_ms());
        let key = record::dedup_key(&letter);
        st.journal.push(Change::DeadLetter {
            envelope: Arc::new(letter),
            record,
            key,
        });
    }

    fn take_lease(&self, st: &mut GroupState, id: u64) -> Result<Lease, Error> {
        if st.phase == Phase::Ended {
            return Err(Error::Closed);
        }
        let lease = st.leases.remove(&id).ok_or_else(|| {
            Error::DeliveryExpired(format!(
                "group {}: the delivery was already settled or its visibility timeout passed",
                self.name
            ))
        })?;
        st.deadlines.remove(&(lease.deadline, id));
        st.release(lease.sub);
        Ok(lease)
    }

    /// Acknowledges `lease` in memory; the caller then waits for the writer.
    pub(super) fn ack(&self, lease: u64) -> Result<(), Error> {
        let mut st = self.lock();
        let held = self.take_lease(&mut st, lease);
        let held = held.inspect(|l| st.settle(&l.entry));
        drop(st);
        held?;
        self.changed.notify_waiters();
        Ok(())
    }

    /// Nacks `lease`: delivered again after `delay`, or dead-lettered on its last attempt
    /// (then true: the caller waits for the writer to store the dead letter).
    pub(super) fn nack(
        &self,
        lease: u64,
        delay: Duration,
        reason: Option<String>,
        timer: &Timer,
    ) -> Result<bool, Error> {
        let mut st = self.lock();
        let held = self.take_lease(&mut st, lease)?;
        let dead = held.entry.attempts >= held.max_attempts;
        if dead {
            let reason = reason.unwrap_or_else(|| "nacked".to_owned());
            self.dead_letter(&mut st, held.entry, &reason);
        } else if delay.is_zero() {
            st.retry.push_back(held.entry);
        } else {
            let at = Instant::now() + delay;
            st.delayed.push(Delayed {
                at,
                entry: held.entry,
            });
            timer.arm(at);
        }
        drop(st);
        self.changed.notify_waiters();
        Ok(dead)
    }
}
