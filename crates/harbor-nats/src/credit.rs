//! A subscription's in-flight credit and its memory of what it settled.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_nats::Subject;
use harbor_distributed::kit;
use tokio::sync::Notify;

/// Shared by a subscription's deliveries and its pull task.
#[derive(Debug)]
pub(crate) struct Credit {
    /// Deliveries handed to (or queued for) the consumer and not yet settled or dropped.
    pub(crate) held: AtomicUsize,
    /// Counts settles, so a draining subscription knows whether a nack may have put an
    /// envelope back since it last looked.
    pub(crate) settles: AtomicU64,
    pub(crate) freed: Notify,
    /// Ack subjects of envelopes a dropped subscription never handed out: its pull task
    /// gives them back once it has stopped pulling (so they cannot come straight back to
    /// it).
    pub(crate) returned: Mutex<Vec<Subject>>,
    book: Mutex<Book>,
}

#[derive(Debug, Default)]
struct Book {
    /// The latest delivery (attempt) of each stream sequence this subscription holds: a
    /// redelivery supersedes the delivery before it even when the local clock has not seen
    /// the visibility timeout pass yet (the server's clock started earlier).
    latest: HashMap<u64, u32>,
    /// Stream sequences this subscription acked, the oldest forgotten first.
    acked: HashSet<u64>,
    acked_order: VecDeque<u64>,
    remember: usize,
}

impl Credit {
    /// Credit that remembers the last `remember` acked sequences.
    pub(crate) fn new(remember: usize) -> Self {
        Self {
            held: AtomicUsize::new(0),
            settles: AtomicU64::new(0),
            freed: Notify::new(),
            returned: Mutex::new(Vec::new()),
            book: Mutex::new(Book {
                remember,
                ..Book::default()
            }),
        }
    }

    /// A delivery of stream sequence `sequence`, attempt `attempt`, arrived. Returns false,
    /// taking no credit, when this subscription already acked that envelope: the server
    /// lost the ack (with a connection, or its ack state with a crash, which nats-server
    /// writes out only every ~100 ms) and the envelope must not be handed out again.
    pub(crate) fn take(&self, sequence: u64, attempt: u32) -> bool {
        let mut book = self.book();
        if book.acked.contains(&sequence) {
            return false;
        }
        book.latest.insert(sequence, attempt);
        drop(book);
        self.held.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Whether attempt `attempt` is still the latest delivery of `sequence` here.
    pub(crate) fn is_latest(&self, sequence: u64, attempt: u32) -> bool {
        self.book()
            .latest
            .get(&sequence)
            .is_none_or(|a| *a == attempt)
    }

    /// `sequence` was acked.
    pub(crate) fn acked(&self, sequence: u64) {
        let mut book = self.book();
        if book.remember == 0 || !book.acked.insert(sequence) {
            return;
        }
        book.acked_order.push_back(sequence);
        if book.acked_order.len() > book.remember
            && let Some(old) = book.acked_order.pop_front()
        {
            book.acked.remove(&old);
        }
    }

    /// A delivery ended (settled or dropped): its credit returns.
    pub(crate) fn release(&self, sequence: u64, attempt: u32) {
        {
            let mut book = self.book();
            if book.latest.get(&sequence) == Some(&attempt) {
                book.latest.remove(&sequence);
            }
        }
        self.held.fetch_sub(1, Ordering::AcqRel);
        self.settles.fetch_add(1, Ordering::AcqRel);
        self.freed.notify_one();
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        kit::lock(&self.book)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acked_sequences_are_refused_until_forgotten() {
        let credit = Credit::new(2);
        assert!(credit.take(1, 1));
        credit.acked(1);
        credit.release(1, 1);
        assert!(!credit.take(1, 2), "an acked envelope came back");
        credit.acked(2);
        credit.acked(3);
        assert!(
            credit.take(1, 3),
            "the oldest ack is forgotten past the limit"
        );
        assert_eq!(credit.held.load(Ordering::Acquire), 1);
    }

    #[test]
    fn a_redelivery_supersedes_the_delivery_before() {
        let credit = Credit::new(8);
        assert!(credit.take(5, 1));
        assert!(credit.take(5, 2));
        assert!(!credit.is_latest(5, 1));
        assert!(credit.is_latest(5, 2));
        credit.release(5, 1);
        assert!(credit.is_latest(5, 2));
    }
}
