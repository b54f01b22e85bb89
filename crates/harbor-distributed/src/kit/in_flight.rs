//! Counting what is in flight, so `close` can wait (bounded) until it has unwound.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use crate::Error;

/// A count of in-flight calls (or streams, or deliveries) and a way to wait until it is
/// zero.
///
/// Each call holds a guard from [`enter`](Self::enter) (or
/// [`enter_owned`](Self::enter_owned) when it outlives the borrow) while it runs; `close`
/// calls [`wait_idle`](Self::wait_idle). When idleness also depends on other state (open
/// streams in a map, say), [`wait_until`](Self::wait_until) takes the whole condition and
/// [`wake`](Self::wake) re-checks it after that state changed.
///
/// ```
/// use std::time::Duration;
///
/// use harbor_distributed::kit::InFlight;
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let calls = InFlight::new();
/// let call = calls.enter();
/// assert_eq!(calls.count(), 1);
/// assert!(calls.wait_idle(Duration::from_millis(10)).await.is_err(), "a call is running");
/// drop(call);
/// calls.wait_idle(Duration::from_secs(1)).await?;
/// # Ok::<(), harbor_distributed::Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

impl InFlight {
    /// Nothing in flight.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one call until the guard is dropped.
    pub fn enter(&self) -> InFlightGuard<'_> {
        self.count.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self)
    }

    /// Counts one call until the guard is dropped; the guard keeps the count alive.
    pub fn enter_owned(self: &Arc<Self>) -> OwnedInFlightGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        OwnedInFlightGuard(Arc::clone(self))
    }

    /// How many calls are in flight.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Wakes the waiters so they look at their condition again.
    pub fn wake(&self) {
        self.idle.notify_waiters();
    }

    /// Waits until nothing is in flight; fails with [`Error::Timeout`] after `deadline`.
    pub async fn wait_idle(&self, deadline: Duration) -> Result<(), Error> {
        self.wait_until(deadline, || self.count() == 0).await
    }

    /// Waits until `idle` holds, looking again whenever the count drops to zero or
    /// [`wake`](Self::wake) is called; fails with [`Error::Timeout`] after `deadline`.
    pub async fn wait_until(
        &self,
        deadline: Duration,
        mut idle: impl FnMut() -> bool,
    ) -> Result<(), Error> {
        let wait = async {
            loop {
                // Registered before the check, so a wake between the two is not lost.
                let notified = self.idle.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if idle() {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(deadline, wait)
            .await
            .map_err(|_| Error::Timeout(deadline))
    }

    fn exit(&self) {
        if self.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }
}

/// One call counted by an [`InFlight`], until dropped.
#[derive(Debug)]
#[must_use = "the call is counted only while the guard lives"]
pub struct InFlightGuard<'a>(&'a InFlight);

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.exit();
    }
}

/// One call counted by a shared [`InFlight`], until dropped.
#[derive(Debug)]
#[must_use = "the call is counted only while the guard lives"]
pub struct OwnedInFlightGuard(Arc<InFlight>);

impl Drop for OwnedInFlightGuard {
    fn drop(&mut self) {
        self.0.exit();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::InFlight;
    use crate::Error;

    #[tokio::test]
    async fn idle_at_once_when_nothing_runs() {
        InFlight::new()
            .wait_idle(Duration::ZERO)
            .await
            .expect("idle");
    }

    #[tokio::test]
    async fn waits_for_the_last_call_to_end() {
        let calls = Arc::new(InFlight::new());
        let first = calls.enter_owned();
        let second = calls.enter_owned();
        assert_eq!(calls.count(), 2);
        let waiter = {
            let calls = Arc::clone(&calls);
            tokio::spawn(async move { calls.wait_idle(Duration::from_secs(5)).await })
        };
        drop(first);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "one call is still running");
        drop(second);
        waiter.await.expect("no panic").expect("idle");
        assert_eq!(calls.count(), 0);
    }

    #[tokio::test]
    async fn gives_up_after_the_deadline() {
        let calls = InFlight::new();
        let _call = calls.enter();
        let deadline = Duration::from_millis(10);
        match calls.wait_idle(deadline).await {
            Err(Error::Timeout(d)) => assert_eq!(d, deadline),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_wake_checks_the_whole_condition_again() {
        let calls = Arc::new(InFlight::new());
        let streams_open = Arc::new(AtomicBool::new(true));
        let waiter = {
            let (calls, open) = (Arc::clone(&calls), Arc::clone(&streams_open));
            tokio::spawn(async move {
                let check = Arc::clone(&calls);
                calls
                    .wait_until(Duration::from_secs(5), move || {
                        check.count() == 0 && !open.load(Ordering::SeqCst)
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "a stream is still open");
        streams_open.store(false, Ordering::SeqCst);
        calls.wake();
        waiter.await.expect("no panic").expect("idle");
    }
}
