//! The newest committed envelopes, kept in memory so subscribers that keep up never read
//! the log back from disk.

use std::collections::VecDeque;
use std::sync::Arc;

use harbor_distributed::Envelope;

/// Committed envelopes `start..end()`, contiguous; the oldest go when it is full.
#[derive(Debug)]
pub(super) struct Tail {
    start: u64,
    entries: VecDeque<Arc<Envelope>>,
    capacity: usize,
}

impl Tail {
    /// An empty cache whose next envelope will be `next`.
    pub(super) fn new(next: u64, capacity: usize) -> Self {
        Self {
            start: next,
            entries: VecDeque::new(),
            capacity,
        }
    }

    /// The first sequence held.
    pub(super) fn start(&self) -> u64 {
        self.start
    }

    /// One past the last committed sequence: the log's head.
    pub(super) fn end(&self) -> u64 {
        self.start + self.entries.len() as u64
    }

    /// The envelope at `seq`, when held.
    pub(super) fn get(&self, seq: u64) -> Option<&Arc<Envelope>> {
        let i = seq.checked_sub(self.start)?;
        self.entries.get(usize::try_from(i).ok()?)
    }

    /// Appends envelopes just committed at `first..`.
    pub(super) fn extend(
        &mut self,
        first: u64,
        envelopes: impl IntoIterator<Item = Arc<Envelope>>,
    ) {
        if first != self.end() {
            // Never happens: the writer numbers and appends in order. Start over there.
            self.entries.clear();
            self.start = first;
        }
        self.entries.extend(envelopes);
        let excess = self.entries.len().saturating_sub(self.capacity);
        self.entries.drain(..excess);
        self.start += excess as u64;
    }
}
