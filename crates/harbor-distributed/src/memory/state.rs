//! What one consumer group holds, behind its lock.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::task::Waker;
use std::time::{Duration, Instant};

use super::leases::{Entry, Leases};

/// Where the bus is in its life; every group keeps a copy under its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Publishing and delivering.
    Open,
    /// `close` was called: no new envelopes, subscribers finish what is held.
    Draining,
    /// Closed: subscriptions have ended, settling fails with `Closed`.
    Ended,
}

/// One subscription's share of a group.
#[derive(Debug)]
pub(super) struct SubState {
    pub(super) in_flight: usize,
    pub(super) max_in_flight: usize,
    pub(super) max_attempts: u32,
    pub(super) list: u32,
    pub(super) timeout: Duration,
    /// False once the subscription was dropped; the slot lives on until its leases end.
    pub(super) alive: bool,
    /// Set while the subscription waits for an envelope.
    pub(super) idle_waker: Option<Waker>,
    /// Whether the slot is in the group's idle queue (possibly stale).
    pub(super) queued: bool,
    /// Set while the subscription waits for one of its leases to end.
    pub(super) budget_waker: Option<Waker>,
    /// When the subscription's current batch has waited long enough that what is left of it
    /// should be checked before it is handed out (a quarter of the visibility timeout after
    /// it was leased); the timer then raises `aged`.
    pub(super) stale_at: Option<Instant>,
    /// Raised by the timer at `stale_at`, lowered by the next lease; the subscription reads
    /// it for every delivery instead of reading the clock.
    pub(super) aged: Arc<AtomicBool>,
}

/// An envelope nacked with a delay, waiting for its time.
#[derive(Debug)]
pub(super) struct Delayed {
    pub(super) at: Instant,
    pub(super) seq: u64,
    pub(super) entry: Entry,
}

impl PartialEq for Delayed {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Delayed {}
impl PartialOrd for Delayed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Delayed {
    // Reversed: BinaryHeap is a max-heap and the earliest time must come first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// The mutable part of a group.
#[derive(Debug)]
pub(super) struct GroupState {
    pub(super) phase: Phase,
    /// Envelopes waiting for a subscriber, oldest first.
    pub(super) ready: VecDeque<Entry>,
    pub(super) leases: Leases,
    pub(super) delayed: BinaryHeap<Delayed>,
    pub(super) delayed_seq: u64,
    /// Everything held: ready, leased and delayed. Bounded by the group buffer.
    pub(super) retained: usize,
    /// Publishers waiting for room.
    pub(super) publishers_waiting: usize,
    /// A waiting publisher was told of room and has not tried again yet: one wake-up is
    /// enough until it has (the acks in between would otherwise each notify again).
    pub(super) space_signalled: bool,
    /// Subscriber slots waiting for an envelope, oldest first (entries may be stale).
    pub(super) idle: VecDeque<u32>,
    pub(super) subs: Vec<Option<SubState>>,
    pub(super) live_subs: usize,
    /// When the timer task will next look at the deadlines; `None` when it sleeps until told.
    pub(super) timer_at: Option<Instant>,
}

impl GroupState {
    pub(super) fn new() -> Self {
        Self {
            phase: Phase::Open,
            ready: VecDeque::new(),
            leases: Leases::default(),
            delayed: BinaryHeap::new(),
            delayed_seq: 0,
            retained: 0,
            publishers_waiting: 0,
            space_signalled: false,
            idle: VecDeque::new(),
            subs: Vec::new(),
            live_subs: 0,
            timer_at: None,
        }
    }

    /// Adds a subscriber slot.
    pub(super) fn add_sub(&mut self, sub: SubState) -> u32 {
        self.live_subs += 1;
        match self.subs.iter().position(Option::is_none) {
            Some(i) => {
                self.subs[i] = Some(sub);
                i as u32
            }
            None => {
                self.subs.push(Some(sub));
                (self.subs.len() - 1) as u32
            }
        }
    }

    pub(super) fn sub_mut(&mut self, sub: u32) -> Option<&mut SubState> {
        self.subs.get_mut(sub as usize).and_then(Option::as_mut)
    }

    /// One lease of `sub` ended; returns the waker of a subscription waiting for room.
    pub(super) fn release(&mut self, sub: u32) -> Option<Waker> {
        let slot = self.subs.get_mut(sub as usize)?;
        let state = slot.as_mut()?;
        state.in_flight = state.in_flight.saturating_sub(1);
        if !state.alive && state.in_flight == 0 {
            *slot = None;
            return None;
        }
        state.budget_waker.take()
    }

    /// Takes the waker of the longest-idle subscription, if any waits.
    pub(super) fn next_idle(&mut self) -> Option<Waker> {
        while let Some(i) = self.idle.pop_front() {
            if let Some(sub) = self.sub_mut(i) {
                sub.queued = false;
                if let Some(waker) = sub.idle_waker.take() {
                    return Some(waker);
                }
            }
        }
        None
    }

    /// Registers `sub` as waiting for an envelope.
    pub(super) fn park_idle(&mut self, sub: u32, waker: &Waker) {
        let Some(state) = self.sub_mut(sub) else {
            return;
        };
        match &mut state.idle_waker {
            Some(w) if w.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
        if !state.queued {
            state.queued = true;
            self.idle.push_back(sub);
        }
    }

    /// Whether `close` can stop waiting for this group: nothing in flight, and nothing
    /// waiting that a live subscriber could still take. Envelopes nacked with a delay are
    /// not waited for.
    pub(super) fn drained(&self) -> bool {
        self.leases.len() == 0 && (self.live_subs == 0 || self.ready.is_empty())
    }

    /// The next time the timer must look.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let delayed = self.delayed.peek().map(|d| d.at);
        let stale = self.subs.iter().flatten().filter_map(|s| s.stale_at);
        [self.leases.earliest(), delayed]
            .into_iter()
            .flatten()
            .chain(stale)
            .min()
    }
}
