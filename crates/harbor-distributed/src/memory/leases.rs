//! The deliveries a group has handed out and not yet seen settled.
//!
//! A generational slab: a [`LeaseKey`] names one lease, and once that lease is settled or
//! expired the key never names anything again (so a second ack is refused). Every lease is
//! also linked into the deadline list of its visibility timeout; leases are appended in
//! time order, so each list is sorted by deadline and the timer only looks at the heads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Envelope;

const NIL: u32 = u32::MAX;

/// One envelope held by a group, with the deliveries made so far.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) envelope: Arc<Envelope>,
    pub(super) deliveries: u32,
}

/// A delivery handed to a subscriber.
#[derive(Debug)]
pub(super) struct Lease {
    pub(super) entry: Entry,
    /// The subscriber slot that holds it.
    pub(super) sub: u32,
    /// Deliveries after which the holder's options dead-letter it.
    pub(super) max_attempts: u32,
    pub(super) deadline: Instant,
    list: u32,
    prev: u32,
    next: u32,
}

impl Lease {
    /// A lease of `entry` to subscriber `sub`, expiring at `deadline`.
    pub(super) fn new(entry: Entry, sub: u32, max_attempts: u32, deadline: Instant) -> Self {
        Self {
            entry,
            sub,
            max_attempts,
            deadline,
            list: 0,
            prev: NIL,
            next: NIL,
        }
    }

    /// The deadline list the lease is linked into.
    pub(super) fn list(&self) -> u32 {
        self.list
    }
}

/// Names one lease; stale once the lease is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LeaseKey {
    index: u32,
    generation: u32,
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    lease: Option<Lease>,
}

#[derive(Debug)]
struct List {
    timeout: Duration,
    head: u32,
    tail: u32,
}

/// The leases of one group.
#[derive(Debug, Default)]
pub(super) struct Leases {
    slots: Vec<Slot>,
    free: Vec<u32>,
    lists: Vec<List>,
    len: usize,
}

impl Leases {
    /// How many leases are held.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The deadline list for `timeout`, created on first use.
    pub(super) fn list_for(&mut self, timeout: Duration) -> u32 {
        if let Some(i) = self.lists.iter().position(|l| l.timeout == timeout) {
            return i as u32;
        }
        self.lists.push(List {
            timeout,
            head: NIL,
            tail: NIL,
        });
        (self.lists.len() - 1) as u32
    }

    /// The visibility timeout of deadline list `list`.
    pub(super) fn timeout_of(&self, list: u32) -> Duration {
        self.lists[list as usize].timeout
    }

    /// Stores `lease` at the end of deadline list `list`.
    pub(super) fn insert(&mut self, mut lease: Lease, list: u32) -> LeaseKey {
        let tail = self.lists[list as usize].tail;
        if tail != NIL {
            // Keep the list sorted even if a caller's clock reading lags a little.
            let last = self.get(tail).deadline;
            if lease.deadline < last {
                lease.deadline = last;
            }
        }
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    lease: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.link(index, lease, list);
        LeaseKey {
            index,
            generation: self.slots[index as usize].generation,
        }
    }

    /// Stores `lease` in the free slot `index` at the end of deadline list `list`.
    fn link(&mut self, index: u32, mut lease: Lease, list: u32) {
        let tail = self.lists[list as usize].tail;
        lease.list = list;
        lease.prev = tail;
        lease.next = NIL;
        self.slots[index as usize].lease = Some(lease);
        if tail == NIL {
            self.lists[list as usize].head = index;
        } else {
            self.get_mut(tail).next = index;
        }
        self.lists[list as usize].tail = index;
        self.len += 1;
    }

    /// Removes the lease `key` names, if it is still held.
    pub(super) fn remove(&mut self, key: LeaseKey) -> Option<Lease> {
        let slot = self.slots.get(key.index as usize)?;
        if slot.generation != key.generation || slot.lease.is_none() {
            return None;
        }
        self.take(key.index)
    }

    /// Moves the lease `key` names to the end of its list with the deadline `now` plus the
    /// list's timeout; the key stays valid. False when the lease is gone.
    pub(super) fn renew(&mut self, key: LeaseKey, now: Instant) -> bool {
        let held = self
            .slots
            .get(key.index as usize)
            .is_some_and(|s| s.generation == key.generation && s.lease.is_some());
        if !held {
            return false;
        }
        let Some(mut lease) = self.unlink(key.index) else {
            return false;
        };
        let list = lease.list;
        lease.deadline = now + self.lists[list as usize].timeout;
        let tail = self.lists[list as usize].tail;
        if tail != NIL {
            lease.deadline = lease.deadline.max(self.get(tail).deadline);
        }
        self.link(key.index, lease, list);
        true
    }

    /// Removes the lease with the earliest deadline if that deadline is not after `now`.
    pub(super) fn pop_expired(&mut self, now: Instant) -> Option<Lease> {
        let index = self
            .lists
            .iter()
            .filter(|l| l.head != NIL)
            .map(|l| l.head)
            .filter(|&h| self.get(h).deadline <= now)
            .min_by_key(|&h| self.get(h).deadline)?;
        self.take(index)
    }

    /// The earliest deadline of any lease.
    pub(super) fn earliest(&self) -> Option<Instant> {
        self.lists
            .iter()
            .filter(|l| l.head != NIL)
            .map(|l| self.get(l.head).deadline)
            .min()
    }

    /// Removes every lease.
    pub(super) fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
        for list in &mut self.lists {
            list.head = NIL;
            list.tail = NIL;
        }
        self.len = 0;
    }

    fn take(&mut self, index: u32) -> Option<Lease> {
        let lease = self.unlink(index)?;
        // A new generation makes every key of this lease stale.
        let slot = &mut self.slots[index as usize];
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        Some(lease)
    }

    /// Takes the lease out of slot `index` and its list, leaving the slot empty but not free.
    fn unlink(&mut self, index: u32) -> Option<Lease> {
        let lease = self.slots[index as usize].lease.take()?;
        self.len -= 1;
        let list = &mut self.lists[lease.list as usize];
        if lease.prev == NIL {
            list.head = lease.next;
        }
        if lease.next == NIL {
            list.tail = lease.prev;
        }
        if lease.prev != NIL {
            self.get_mut(lease.prev).next = lease.next;
        }
        if lease.next != NIL {
            self.get_mut(lease.next).prev = lease.prev;
        }
        Some(lease)
    }

    // Linked indices always name occupied slots; the fallbacks below are unreachable.
    fn get(&self, index: u32) -> &Lease {
        match &self.slots[index as usize].lease {
            Some(lease) => lease,
            None => unreachable!("lease list links an empty slot"),
        }
    }

    fn get_mut(&mut self, index: u32) -> &mut Lease {
        match &mut self.slots[index as usize].lease {
            Some(lease) => lease,
            None => unreachable!("lease list links an empty slot"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Identity;

    fn entry(id: &str) -> Entry {
        let identity = Identity::new("t", "u", "s").expect("identity");
        Entry {
            envelope: Arc::new(Envelope::new("a.b", identity, id, Vec::new())),
            deliveries: 1,
        }
    }

    #[test]
    fn keys_go_stale_after_removal_and_reuse() {
        let mut leases = Leases::default();
        let list = leases.list_for(Duration::from_secs(1));
        let now = Instant::now();
        let a = leases.insert(Lease::new(entry("a"), 0, 5, now), list);
        assert!(leases.remove(a).is_some());
        assert!(leases.remove(a).is_none(), "second removal must fail");
        let b = leases.insert(Lease::new(entry("b"), 0, 5, now), list);
        assert!(
            leases.remove(a).is_none(),
            "stale key must not name the reused slot"
        );
        assert_eq!(
            leases.remove(b).map(|l| l.entry.envelope.event_id.clone()),
            Some("b".into())
        );
        assert_eq!(leases.len(), 0);
    }

    #[test]
    fn expiry_follows_deadlines_across_lists() {
        let mut leases = Leases::default();
        let slow = leases.list_for(Duration::from_secs(10));
        let fast = leases.list_for(Duration::from_secs(1));
        assert_eq!(leases.list_for(Duration::from_secs(10)), slow);
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let a = leases.insert(Lease::new(entry("a"), 0, 5, t0 + 10 * s), slow);
        leases.insert(Lease::new(entry("b"), 0, 5, t0 + s), fast);
        leases.insert(Lease::new(entry("c"), 0, 5, t0 + 2 * s), fast);
        leases.insert(Lease::new(entry("d"), 0, 5, t0 + 11 * s), slow);
        assert_eq!(leases.earliest(), Some(t0 + s));
        assert!(leases.pop_expired(t0).is_none());
        let ids: Vec<String> = std::iter::from_fn(|| leases.pop_expired(t0 + 3 * s))
            .map(|l| l.entry.envelope.event_id.clone())
            .collect();
        assert_eq!(ids, ["b", "c"]);
        assert!(leases.remove(a).is_some());
        assert_eq!(leases.earliest(), Some(t0 + 11 * s));
        let last = leases
            .pop_expired(t0 + 20 * s)
            .map(|l| l.entry.envelope.event_id.clone());
        assert_eq!(last.as_deref(), Some("d"));
        assert_eq!(leases.earliest(), None);
    }

    #[test]
    fn renewal_moves_a_lease_to_the_end_and_keeps_its_key() {
        let mut leases = Leases::default();
        let list = leases.list_for(Duration::from_secs(1));
        let t0 = Instant::now();
        let a = leases.insert(
            Lease::new(entry("a"), 0, 5, t0 + Duration::from_secs(1)),
            list,
        );
        leases.insert(
            Lease::new(entry("b"), 0, 5, t0 + Duration::from_secs(1)),
            list,
        );
        assert!(leases.renew(a, t0 + Duration::from_secs(5)));
        let first = leases
            .pop_expired(t0 + Duration::from_secs(2))
            .map(|l| l.entry.envelope.event_id.clone());
        assert_eq!(first.as_deref(), Some("b"));
        assert!(
            leases.pop_expired(t0 + Duration::from_secs(2)).is_none(),
            "a was renewed"
        );
        assert!(
            leases.remove(a).is_some(),
            "the renewed key still names the lease"
        );
        assert!(!leases.renew(a, t0), "a removed lease cannot be renewed");
    }

    #[test]
    fn removal_from_the_middle_keeps_links() {
        let mut leases = Leases::default();
        let list = leases.list_for(Duration::from_secs(1));
        let t0 = Instant::now();
        let keys: Vec<LeaseKey> = (0..5)
            .map(|i| {
                let at = t0 + Duration::from_millis(i);
                leases.insert(Lease::new(entry(&i.to_string()), 0, 5, at), list)
            })
            .collect();
        assert!(leases.remove(keys[2]).is_some());
        assert!(leases.remove(keys[4]).is_some());
        assert!(leases.remove(keys[0]).is_some());
        let rest: Vec<String> =
            std::iter::from_fn(|| leases.pop_expired(t0 + Duration::from_secs(1)))
                .map(|l| l.entry.envelope.event_id.clone())
                .collect();
        assert_eq!(rest, ["1", "3"]);
    }
}
