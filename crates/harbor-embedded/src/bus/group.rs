//! A consumer group in memory: what it has read from the log, what it has handed out, and
//! the changes the writer has still to store.

use std::collections::{BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use harbor_distributed::kit;
use harbor_distributed::{Envelope, IdentityScope};
use tokio::sync::Notify;

use super::tables::GroupRow;
use super::tail::Tail;

/// Where the bus is in its life; every group keeps a copy under its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Open,
    Draining,
    Ended,
}

/// One envelope of the group, with the deliveries made so far.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) seq: u64,
    pub(super) envelope: Arc<Envelope>,
    pub(super) attempts: u32,
}

/// A delivery handed to a subscriber.
#[derive(Debug)]
pub(super) struct Lease {
    pub(super) entry: Entry,
    pub(super) sub: u64,
    pub(super) max_attempts: u32,
    pub(super) timeout: Duration,
    pub(super) deadline: Instant,
}

/// An envelope nacked with a delay.
#[derive(Debug)]
pub(super) struct Delayed {
    pub(super) at: Instant,
    pub(super) entry: Entry,
}

impl PartialEq for Delayed {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.entry.seq) == (other.at, other.entry.seq)
    }
}
impl Eq for Delayed {}
impl PartialOrd for Delayed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Delayed {
    // Reversed: BinaryHeap is a max-heap and the earliest must come first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.at, other.entry.seq).cmp(&(self.at, self.entry.seq))
    }
}

/// A change the writer must store with the group's next commit.
#[derive(Debug)]
pub(super) enum Change {
    /// An unsettled envelope was delivered `attempts` (≥ 2) times.
    Attempts { seq: u64, attempts: u32 },
    /// An envelope was settled; `counted` when it had an attempts row.
    Settled { seq: u64, counted: bool },
    /// An envelope to append to the dead-letter edge (its original is `Settled`).
    DeadLetter {
        envelope: Arc<Envelope>,
        record: Vec<u8>,
        key: Vec<u8>,
    },
}

/// One subscription's share of the group.
#[derive(Debug)]
pub(super) struct SubState {
    pub(super) in_flight: usize,
    pub(super) max_in_flight: usize,
    pub(super) alive: bool,
}

/// The mutable part of a group.
#[derive(Debug)]
pub(super) struct GroupState {
    pub(super) phase: Phase,
    pub(super) edges: Vec<String>,
    /// The next log sequence to look at.
    pub(super) scan: u64,
    /// A read of the log file is under way.
    pub(super) filling: bool,
    /// Read, never delivered, in sequence order.
    pub(super) fresh: VecDeque<Entry>,
    /// To deliver again, before anything fresh.
    pub(super) retry: VecDeque<Entry>,
    pub(super) delayed: BinaryHeap<Delayed>,
    pub(super) leases: HashMap<u64, Lease>,
    pub(super) deadlines: BTreeSet<(Instant, u64)>,
    pub(super) next_lease: u64,
    /// Every sequence read and not settled.
    pub(super) unsettled: BTreeSet<u64>,
    pub(super) journal: Vec<Change>,
    pub(super) subs: HashMap<u64, SubState>,
    pub(super) next_sub: u64,
    pub(super) live_subs: usize,
    /// The floor last written.
    pub(super) persisted_floor: u64,
    /// Sequences with a settled or attempts row stored (the writer's bookkeeping, so
    /// rows below a rising floor are deleted without searching for them).
    pub(super) rows: BTreeSet<u64>,
}

/// One consumer group: every subscription of it competes for its envelopes.
#[derive(Debug)]
pub(super) struct Group {
    pub(super) key: String,
    pub(super) name: String,
    pub(super) scope: IdentityScope,
    pub(super) state: Mutex<GroupState>,
    /// Something changed that a waiting subscriber may use.
    pub(super) changed: Notify,
    /// A write of this group is queued with the writer.
    pub(super) sync_queued: AtomicBool,
}

impl Group {
    /// A group read from (or about to be written as) `row`, with nothing in memory.
    pub(super) fn new(key: String, row: &GroupRow) -> Self {
        Self {
            key,
            name: row.name.clone(),
            scope: row.scope.clone(),
            state: Mutex::new(GroupState {
                phase: Phase::Open,
                edges: row.edges.clone(),
                scan: row.cursor,
                filling: false,
                fresh: VecDeque::new(),
                retry: VecDeque::new(),
                delayed: BinaryHeap::new(),
                leases: HashMap::new(),
                deadlines: BTreeSet::new(),
                next_lease: 0,
                unsettled: BTreeSet::new(),
                journal: Vec::new(),
                subs: HashMap::new(),
                next_sub: 0,
                live_subs: 0,
                persisted_floor: row.floor,
                rows: BTreeSet::new(),
            }),
            changed: Notify::new(),
            sync_queued: AtomicBool::new(false),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, GroupState> {
        kit::lock(&self.state)
    }

    /// Marks a write as queued; true when the caller must queue it.
    pub(super) fn claim_sync(&self) -> bool {
        !self.sync_queued.swap(true, Ordering::AcqRel)
    }
}

/// Whether an envelope belongs to a group of `scope` subscribed to `edges`.
pub(super) fn admits(scope: &IdentityScope, edges: &[String], envelope: &Envelope) -> bool {
    scope.admits(&envelope.identity.tenant)
        && edges
            .iter()
            .any(|p| harbor_distributed::edge::matches(p, &envelope.edge))
}

/// What a group must do to have more to deliver.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Fill {
    /// Nothing more now (or enough read ahead).
    Done,
    /// Read `from..to` from the file: it left the cache.
    Disk { from: u64, to: u64 },
}

impl GroupState {
    /// Every sequence below it was delivered at least once or settled.
    pub(super) fn cursor(&self) -> u64 {
        self.fresh.front().map_or(self.scan, |e| e.seq)
    }

    /// Every sequence below it is settled.
    pub(super) fn floor(&self) -> u64 {
        self.unsettled.first().copied().unwrap_or(self.scan)
    }

    /// The row to store.
    pub(super) fn row(&self, group: &Group) -> GroupRow {
        GroupRow {
            name: group.name.clone(),
            scope: group.scope.clone(),
            edges: self.edges.clone(),
            cursor: self.cursor(),
            floor: self.floor(),
        }
    }

    /// Adds `entry` as read and never delivered.
    pub(super) fn push_fresh(&mut self, entry: Entry) {
        self.unsettled.insert(entry.seq);
        self.fresh.push_back(entry);
    }

    /// Reads ahead from the cache; asks for a file read when the cache has moved on.
    pub(super) fn fill(&mut self, scope: &IdentityScope, tail: &Tail, read_ahead: usize) -> Fill {
        if self.filling || self.fresh.len() >= read_ahead.div_ceil(2) {
            return Fill::Done;
        }
        let end = tail.end();
        if self.scan >= end {
            return Fill::Done;
        }
        if self.scan < tail.start() {
            let to = tail.start().min(self.scan + read_ahead as u64);
            return Fill::Disk {
                from: self.scan,
                to,
            };
        }
        let mut budget = read_ahead * 4;
        while self.scan < end && self.fresh.len() < read_ahead && budget > 0 {
            budget -= 1;
            if let Some(envelope) = tail.get(self.scan)
                && admits(scope, &self.edges, envelope)
            {
                let entry = Entry {
                    seq: self.scan,
                    envelope: Arc::clone(envelope),
                    attempts: 0,
                };
                self.push_fresh(entry);
            }
            self.scan += 1;
        }
        Fill::Done
    }

    /// Whether `close` can stop waiting for this group: nothing in flight and, while it
    /// has live subscribers, nothing left to deliver up to `head`. Envelopes nacked with a
    /// delay are not waited for.
    pub(super) fn drained(&self, head: u64) -> bool {
        let subs = self.live_subs > 0;
        let held = self
            .leases
            .values()
            .any(|l| self.subs.get(&l.sub).is_some_and(|s| s.alive));
        !held
            && (!subs
                || (self.fresh.is_empty()
                    && self.retry.is_empty()
                    && !self.filling
                    && self.scan >= head))
    }

    /// Settles `entry`: it leaves the group.
    pub(super) fn settle(&mut self, entry: &Entry) {
        self.unsettled.remove(&entry.seq);
        self.journal.push(Change::Settled {
            seq: entry.seq,
            counted: entry.attempts >= 2,
        });
    }

    /// One lease of `sub` ended.
    pub(super) fn release(&mut self, sub: u64) {
        if let Some(s) = self.subs.get_mut(&sub) {
            s.in_flight = s.in_flight.saturating_sub(1);
            if !s.alive && s.in_flight == 0 {
                self.subs.remove(&sub);
            }
        }
    }

    /// The next time something is due: a lease's visibility timeout or a delayed nack.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let lease = self.deadlines.first().map(|(at, _)| *at);
        let delayed = self.delayed.peek().map(|d| d.at);
        lease.into_iter().chain(delayed).min()
    }
}
