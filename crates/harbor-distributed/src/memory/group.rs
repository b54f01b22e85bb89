//! A consumer group: its filter, its buffer and the publish and lease paths.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use tokio::sync::Notify;

use super::leases::{Entry, Lease, LeaseKey};
use super::state::{GroupState, Phase};
use crate::kit;
use crate::{Envelope, Error, IdentityScope, SubscribeOptions};

/// How long `Group::lock` spins (doubling pauses up to this many) before it parks. The
/// critical sections are a few hundred nanoseconds; parking a publisher or consumer that
/// meets the other side in one costs a futex sleep and wake, which dominated the
/// two-thread bench before this.
const SPIN_LIMIT: u32 = 1 << 6;

/// One consumer group: every subscription of it competes for the group's envelopes.
#[derive(Debug)]
pub(super) struct Group {
    pub(super) name: String,
    pub(super) scope: IdentityScope,
    /// The subscribed edges and patterns, sorted and without duplicates.
    pub(super) edges: Vec<String>,
    wildcard: Vec<bool>,
    capacity: usize,
    /// Waiting publishers are woken when `retained` falls to this level, not on every ack.
    pub(super) low_water: usize,
    pub(super) state: Mutex<GroupState>,
    /// Publishers waiting for room.
    pub(super) space: Notify,
    /// Wakes the group's timer task.
    pub(super) timer: Notify,
    /// The bus's drain signal, notified while `close` waits.
    pub(super) drain: Arc<Notify>,
    /// Used to publish dead letters: the bus's router.
    pub(super) router: Weak<dyn DeadLetters>,
}

/// An envelope that used up its attempts and must go to the dead-letter edge.
#[derive(Debug)]
pub(super) struct DeadLetter {
    pub(super) envelope: Arc<Envelope>,
    pub(super) attempts: u32,
    pub(super) reason: String,
}

/// Where a group's dead letters go: the bus's [`Router`](super::core::Router), which holds
/// the groups. A group knows it only through this trait, so groups sit below the router.
pub(super) trait DeadLetters: Send + Sync {
    /// Publishes the dead letter of `letter` from `group`.
    fn route_dead_letter<'a>(
        &'a self,
        group: &'a str,
        letter: DeadLetter,
    ) -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;
}

/// What one publish attempt to a group did.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Push {
    Done,
    /// No room: the envelope comes back.
    Full(Arc<Envelope>),
    Closed,
}

/// A delivery leased to a subscription but not yet handed to its consumer.
#[derive(Debug)]
pub(super) struct Leased {
    pub(super) envelope: Arc<Envelope>,
    pub(super) attempt: u32,
    pub(super) key: LeaseKey,
}

impl Group {
    /// A group for `edges` and `scope` named `name`.
    pub(super) fn new(
        name: String,
        scope: IdentityScope,
        edges: Vec<String>,
        capacity: usize,
        drain: Arc<Notify>,
        router: Weak<dyn DeadLetters>,
    ) -> Self {
        let wildcard = edges
            .iter()
            .map(|e| e.split('.').any(|s| s == "*" || s == ">"))
            .collect();
        Self {
            name,
            scope,
            edges,
            wildcard,
            capacity,
            low_water: capacity - (capacity / 4).max(1).min(capacity),
            state: Mutex::new(GroupState::new()),
            space: Notify::new(),
            timer: Notify::new(),
            drain,
            router,
        }
    }

    /// The subscribed edges of `options` in the form groups compare them.
    pub(super) fn normalize_edges(options: &SubscribeOptions) -> Vec<String> {
        let mut edges = options.edges.clone();
        edges.sort();
        edges.dedup();
        edges
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, GroupState> {
        // A panic while holding the lock cannot leave the state half-updated in a way that
        // breaks the invariants we rely on, so a poisoned lock is still used.
        let mut backoff = 1u32;
        while backoff <= SPIN_LIMIT {
            match self.state.try_lock() {
                Ok(guard) => return guard,
                Err(TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    for _ in 0..backoff {
                        std::hint::spin_loop();
                    }
                    backoff *= 2;
                }
            }
        }
        kit::lock(&self.state)
    }

    /// Whether an envelope belongs in this group.
    pub(super) fn admits(&self, envelope: &Envelope) -> bool {
        self.scope.admits(&envelope.identity.tenant)
            && self.edges.iter().zip(&self.wildcard).any(|(p, &wild)| {
                if wild {
                    crate::edge::matches(p, &envelope.edge)
                } else {
                    **p == *envelope.edge
                }
            })
    }

    /// Stores `envelope` if there is room. `force` lets dead letters in while draining. A
    /// `waiting` publisher is counted until its next attempt.
    pub(super) fn try_push(
        &self,
        envelope: Arc<Envelope>,
        force: bool,
        waiting: &mut bool,
    ) -> Push {
        let mut st = self.lock();
        if *waiting {
            st.publishers_waiting -= 1;
            st.space_signalled = false;
            *waiting = false;
        }
        match st.phase {
            Phase::Open => {}
            Phase::Draining if force => {}
            _ => return Push::Closed,
        }
        if st.retained >= self.capacity {
            return Push::Full(envelope);
        }
        st.ready.push_back(Entry {
            envelope,
            deliveries: 0,
        });
        st.retained += 1;
        let wake = st.next_idle();
        // Room left for another waiting publisher: pass the wake-up on.
        let chain = st.publishers_waiting > 0 && !st.space_signalled && st.retained < self.capacity;
        st.space_signalled |= chain;
        drop(st);
        if let Some(w) = wake {
            w.wake();
        }
        if chain {
            self.space.notify_one();
        }
        Push::Done
    }

    /// Stores `envelope`, waiting for room as long as the group is full.
    pub(super) async fn push(&self, envelope: &Arc<Envelope>, force: bool) -> Result<(), Error> {
        let mut guard = WaitGuard {
            group: self,
            waiting: false,
        };
        loop {
            let notified = self.space.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.try_push(Arc::clone(envelope), force, &mut guard.waiting) {
                Push::Done => return Ok(()),
                Push::Closed => return Err(Error::Closed),
                Push::Full(_) => {
                    let mut st = self.lock();
                    if st.retained < self.capacity || st.phase == Phase::Ended {
                        continue;
                    }
                    st.publishers_waiting += 1;
                    guard.waiting = true;
                }
            }
            notified.await;
        }
    }

    /// Leases up to `want` envelopes to subscription `sub` into `out`, their visibility
    /// timeouts running from `now`. `Ready(false)` once the bus has ended.
    pub(super) fn lease(
        &self,
        sub: u32,
        want: usize,
        now: Instant,
        out: &mut VecDeque<Leased>,
        cx: &mut Context<'_>,
    ) -> Poll<bool> {
        let mut st = self.lock();
        if st.phase == Phase::Ended {
            return Poll::Ready(false);
        }
        let Some(s) = st.sub_mut(sub) else {
            return Poll::Ready(false);
        };
        s.idle_waker = None;
        let budget = s.max_in_flight.saturating_sub(s.in_flight);
        let (list, timeout, max_attempts) = (s.list, s.timeout, s.max_attempts);
        if budget == 0 {
            s.budget_waker = Some(cx.waker().clone());
            // This subscription cannot take work now: hand a pending wake-up to another.
            let pass = if st.ready.is_empty() {
                None
            } else {
                st.next_idle()
            };
            drop(st);
            wake(pass);
            return Poll::Pending;
        }
        if st.ready.is_empty() {
            st.park_idle(sub, cx.waker());
            return Poll::Pending;
        }
        let n = budget.min(want).min(st.ready.len());
        let deadline = now + timeout;
        for _ in 0..n {
            let Some(mut entry) = st.ready.pop_front() else {
                break;
            };
            entry.deliveries += 1;
            let attempt = entry.deliveries;
            let envelope = Arc::clone(&entry.envelope);
            let key = st
                .leases
                .insert(Lease::new(entry, sub, max_attempts, deadline), list);
            out.push_back(Leased {
                envelope,
                attempt,
                key,
            });
        }
        // The first of the batch is handed out at once; the rest waits, and the timer tells
        // the subscription when it has waited a quarter of the timeout (see `still_held`).
        let stale_at = (n > 1).then(|| now + timeout / 4);
        if let Some(s) = st.sub_mut(sub) {
            s.in_flight += n;
            s.stale_at = stale_at;
            s.aged.store(false, Ordering::Relaxed);
        }
        let first = stale_at.unwrap_or(deadline);
        let arm = st.timer_at.is_none_or(|t| first < t);
        if arm {
            st.timer_at = Some(first);
        }
        let pass = if st.ready.is_empty() {
            None
        } else {
            st.next_idle()
        };
        drop(st);
        wake(pass);
        if arm {
            self.timer.notify_one();
        }
        Poll::Ready(true)
    }

    /// `close` began: refuse new envelopes, wake publishers so they see it.
    pub(super) fn start_drain(&self) {
        let mut st = self.lock();
        if st.phase == Phase::Open {
            st.phase = Phase::Draining;
        }
        drop(st);
        self.space.notify_waiters();
    }

    /// Envelopes the group holds and has not settled: waiting, leased, delayed.
    pub(super) fn retained(&self) -> usize {
        self.lock().retained
    }

    /// Whether `close` can stop waiting for this group.
    pub(super) fn drained(&self) -> bool {
        self.lock().drained()
    }

    /// Ends the group: subscriptions end, waiting publishers fail, held envelopes are freed.
    pub(super) fn end(&self) {
        let mut st = self.lock();
        st.phase = Phase::Ended;
        let mut wakers = Vec::new();
        for s in st.subs.iter_mut().flatten() {
            wakers.extend(s.idle_waker.take());
            wakers.extend(s.budget_waker.take());
        }
        let ready = std::mem::take(&mut st.ready);
        let delayed = std::mem::take(&mut st.delayed);
        let unsettled = st.leases.len();
        st.leases.clear();
        st.retained = 0;
        drop(st);
        if ready.len() + delayed.len() + unsettled > 0 {
            tracing::warn!(
                group = %self.name,
                waiting = ready.len(),
                delayed = delayed.len(),
                unsettled,
                "memory bus ended with envelopes of this group undelivered"
            );
        }
        drop((ready, delayed));
        wakers.into_iter().for_each(Waker::wake);
        self.space.notify_waiters();
        self.timer.notify_one();
    }
}

pub(super) fn wake(waker: Option<Waker>) {
    if let Some(w) = waker {
        w.wake();
    }
}

/// Keeps the waiting-publisher count right when a waiting publish is cancelled.
struct WaitGuard<'a> {
    group: &'a Group,
    waiting: bool,
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        if self.waiting {
            let mut st = self.group.lock();
            st.publishers_waiting -= 1;
            // It may have been the one told of room: let the next ack tell another.
            st.space_signalled = false;
        }
    }
}
