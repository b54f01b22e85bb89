//! The consumer groups of a bus: an append-only list that publishers read without a lock.
//!
//! Groups are only ever added (they live as long as the bus), so a reader needs no more
//! than the published length: every slot below it is set and never changes. That spares
//! each publish the two atomic read-modify-writes of a read lock on a line every publisher
//! shares. Writers (subscribe, close) serialize on a mutex.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::group::Group;
use crate::kit;

/// Segment `k` holds `1 << k` groups: 32 segments hold more groups than memory does.
const SEGMENTS: usize = 32;

type Segment = Box<[OnceLock<Arc<Group>>]>;

#[derive(Debug, Default)]
pub(super) struct GroupList {
    len: AtomicUsize,
    segments: [OnceLock<Segment>; SEGMENTS],
    writer: Mutex<()>,
}

/// The segment and offset of group `i`.
fn locate(i: usize) -> (usize, usize) {
    let n = i + 1;
    let k = (usize::BITS - 1 - n.leading_zeros()) as usize;
    (k, n - (1 << k))
}

impl GroupList {
    /// How many groups there are; groups below it can be read.
    pub(super) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Group `i`, when `i` is below a length this thread has read.
    pub(super) fn get(&self, i: usize) -> Option<&Arc<Group>> {
        let (k, offset) = locate(i);
        self.segments.get(k)?.get()?.get(offset)?.get()
    }

    /// The groups there are now, without locking.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Arc<Group>> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Locks out other writers. A reader holding it sees every group ever added before
    /// any writer that comes after it.
    pub(super) fn write(&self) -> Writer<'_> {
        Writer {
            list: self,
            _guard: kit::lock(&self.writer),
        }
    }
}

/// Exclusive right to add groups.
pub(super) struct Writer<'a> {
    list: &'a GroupList,
    _guard: MutexGuard<'a, ()>,
}

impl Writer<'_> {
    /// The groups there are.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Arc<Group>> {
        self.list.iter()
    }

    /// Adds `group` at the end.
    pub(super) fn push(&mut self, group: Arc<Group>) {
        let i = self.list.len.load(Ordering::Relaxed);
        let (k, offset) = locate(i);
        let segment = self.list.segments[k]
            .get_or_init(|| (0..1usize << k).map(|_| OnceLock::new()).collect());
        // Only the writer sets slots, each once, before publishing the new length.
        let _ = segment[offset].set(group);
        self.list.len.store(i + 1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::locate;

    #[test]
    fn indices_fill_segments_in_order() {
        let places: Vec<(usize, usize)> = (0..7).map(locate).collect();
        assert_eq!(
            places,
            [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2), (2, 3)]
        );
        assert_eq!(locate((1 << 20) - 1), (20, 0));
    }
}
