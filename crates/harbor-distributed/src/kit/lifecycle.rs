//! A bus's life: [`Phase::Open`], then [`Phase::Draining`] while `close` lets subscribers
//! finish, then [`Phase::Closed`]; and the lock that runs one `close` at a time.

use std::sync::atomic::{AtomicU8, Ordering};

/// Where a bus is in its life. It only moves forward: open, draining, closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Publishes and subscriptions are taken.
    Open,
    /// `close` began: nothing new is taken, subscribers finish what they hold.
    Draining,
    /// The bus has ended (closed, or dropped): subscriptions stop at once.
    Closed,
}

impl Phase {
    const fn from_u8(raw: u8) -> Self {
        match raw {
            0 => Self::Open,
            1 => Self::Draining,
            _ => Self::Closed,
        }
    }

    const fn as_u8(self) -> u8 {
        self as u8
    }
}

/// The phase of a bus, read without a lock on every publish, and the lock that serializes
/// its `close`.
///
/// The phase is sequentially consistent, so a driver that checks it and then touches
/// other shared state (a queue, a token) sees the same order of events as the `close` that
/// moved it.
///
/// ```
/// use harbor_distributed::kit::{Lifecycle, Phase};
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let life = Lifecycle::new();
/// {
///     let mut closing = life.lock_close().await;
///     assert!(!closing.is_finished());
///     assert!(life.begin_drain(), "the first close moves it");
///     assert!(!life.begin_drain(), "later callers do not");
///     // ... wait for subscribers, bounded by the drain timeout ...
///     assert!(life.close(), "it was not closed before");
///     closing.finish();
/// }
/// assert_eq!(life.phase(), Phase::Closed);
/// assert!(life.lock_close().await.is_finished());
/// # });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Lifecycle {
    phase: AtomicU8,
    /// Held for the whole of a `close`; says whether one ran to its end.
    closing: tokio::sync::Mutex<bool>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new()
    }
}

impl Lifecycle {
    /// An open bus's life.
    pub fn new() -> Self {
        Self {
            phase: AtomicU8::new(Phase::Open.as_u8()),
            closing: tokio::sync::Mutex::new(false),
        }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::SeqCst))
    }

    /// Whether new publishes and subscriptions are taken.
    pub fn is_open(&self) -> bool {
        self.phase() == Phase::Open
    }

    /// Whether a `close` is draining (and the bus has not ended yet).
    pub fn is_draining(&self) -> bool {
        self.phase() == Phase::Draining
    }

    /// Whether the bus has ended.
    pub fn is_closed(&self) -> bool {
        self.phase() == Phase::Closed
    }

    /// Moves an open bus to [`Phase::Draining`]; true for the one caller that moved it.
    /// A draining or closed bus stays as it is.
    pub fn begin_drain(&self) -> bool {
        self.phase
            .compare_exchange(
                Phase::Open.as_u8(),
                Phase::Draining.as_u8(),
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
    }

    /// Ends the bus (from any phase); true if it had not ended before. `Drop` uses the
    /// answer to end the subscriptions only once.
    pub fn close(&self) -> bool {
        self.phase.swap(Phase::Closed.as_u8(), Ordering::SeqCst) != Phase::Closed.as_u8()
    }

    /// Waits for any other `close` to finish (or be cancelled), then holds the close lock
    /// for as long as the guard lives.
    pub async fn lock_close(&self) -> CloseGuard<'_> {
        CloseGuard {
            finished: self.closing.lock().await,
        }
    }
}

/// The close lock of a [`Lifecycle`], held: one `close` runs at a time.
///
/// Drivers whose `close` must run again after a cancelled one ask
/// [`is_finished`](Self::is_finished) rather than the phase, and call
/// [`finish`](Self::finish) at the end.
#[derive(Debug)]
pub struct CloseGuard<'a> {
    finished: tokio::sync::MutexGuard<'a, bool>,
}

impl CloseGuard<'_> {
    /// Whether a `close` already ran to its end (called [`finish`](Self::finish)).
    pub fn is_finished(&self) -> bool {
        *self.finished
    }

    /// Records that this `close` ran to its end.
    pub fn finish(&mut self) {
        *self.finished = true;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::{Lifecycle, Phase};

    #[test]
    fn it_moves_forward_only() {
        let life = Lifecycle::new();
        assert!(life.is_open() && !life.is_draining() && !life.is_closed());
        assert!(life.begin_drain());
        assert!(!life.begin_drain());
        assert!(life.is_draining());
        assert!(life.close());
        assert!(!life.close());
        assert!(!life.begin_drain(), "a closed bus does not drain again");
        assert_eq!(life.phase(), Phase::Closed);
    }

    #[test]
    fn an_open_bus_can_close_at_once() {
        let life = Lifecycle::default();
        assert!(life.close());
        assert!(life.is_closed());
    }

    #[test]
    fn one_caller_wins_the_drain() {
        let life = Arc::new(Lifecycle::new());
        let winners: usize = (0..8)
            .map(|_| {
                let life = Arc::clone(&life);
                std::thread::spawn(move || life.begin_drain())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| usize::from(t.join().expect("no panic")))
            .sum();
        assert_eq!(winners, 1);
    }

    #[tokio::test]
    async fn closes_run_one_at_a_time_and_remember_the_finished_one() {
        let life = Arc::new(Lifecycle::new());
        let mut first = life.lock_close().await;
        let other = Arc::clone(&life);
        let second = tokio::spawn(async move { other.lock_close().await.is_finished() });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !second.is_finished(),
            "the second close waits for the first"
        );
        first.finish();
        drop(first);
        assert!(second.await.expect("no panic"));
    }

    #[tokio::test]
    async fn a_cancelled_close_leaves_it_unfinished() {
        let life = Lifecycle::new();
        drop(life.lock_close().await);
        assert!(!life.lock_close().await.is_finished());
    }
}
