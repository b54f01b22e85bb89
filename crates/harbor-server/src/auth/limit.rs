//! Failed authentication attempts, counted per source address: past the limit within a
//! window, the source is refused until the window ends, before any credential is checked
//! (so guessing keys or tokens is slow, and a flood of bad tokens costs no signature checks).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failed attempts a source may make. Data only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureLimit {
    /// Failed attempts allowed per window from one address. Default 20.
    pub max_failures: u32,
    /// The window. Default 60 s.
    pub window: Duration,
    /// Addresses tracked at once; past it the oldest windows are dropped. Default 10 000.
    pub max_sources: usize,
}

impl Default for FailureLimit {
    fn default() -> Self {
        Self {
            max_failures: 20,
            window: Duration::from_secs(60),
            max_sources: 10_000,
        }
    }
}

/// The counters of [`FailureLimit`].
#[derive(Debug)]
pub(crate) struct FailureLimiter {
    limit: FailureLimit,
    sources: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailureLimiter {
    pub(crate) fn new(limit: FailureLimit) -> Self {
        Self {
            limit,
            sources: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (Instant, u32)>> {
        self.sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long `peer` must wait, when it has used up its failures.
    pub(crate) fn blocked(&self, peer: Option<IpAddr>) -> Option<Duration> {
        let peer = peer?;
        let sources = self.lock();
        let (since, count) = sources.get(&peer)?;
        let left = self.limit.window.checked_sub(since.elapsed())?;
        (*count >= self.limit.max_failures).then_some(left)
    }

    /// Counts one failed attempt of `peer`.
    pub(crate) fn failed(&self, peer: Option<IpAddr>) {
        let Some(peer) = peer else { return };
        let now = Instant::now();
        let window = self.limit.window;
        let mut sources = self.lock();
        if sources.len() >= self.limit.max_sources && !sources.contains_key(&peer) {
            sources.retain(|_, (since, _)| now.duration_since(*since) < window);
            if sources.len() >= self.limit.max_sources {
                // Still full of live windows: drop the oldest to stay bounded.
                if let Some(oldest) = sources.iter().min_by_key(|(_, (s, _))| *s).map(|(k, _)| *k) {
                    sources.remove(&oldest);
                }
            }
        }
        let entry = sources.entry(peer).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_blocked_past_its_failures_and_others_are_not() {
        let limiter = FailureLimiter::new(FailureLimit {
            max_failures: 3,
            window: Duration::from_secs(60),
            max_sources: 2,
        });
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        for _ in 0..3 {
            assert_eq!(limiter.blocked(Some(a)), None);
            limiter.failed(Some(a));
        }
        assert!(limiter.blocked(Some(a)).is_some());
        assert_eq!(limiter.blocked(Some(b)), None);
        assert_eq!(limiter.blocked(None), None);
        // Bounded: a third source evicts the oldest.
        limiter.failed(Some(b));
        limiter.failed(Some("192.0.2.3".parse().expect("ip")));
        assert!(limiter.lock().len() <= 2);
    }

    #[test]
    fn the_window_ends() {
        let limiter = FailureLimiter::new(FailureLimit {
            max_failures: 1,
            window: Duration::from_millis(1),
            max_sources: 10,
        });
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        limiter.failed(Some(a));
        let deadline = Instant::now() + Duration::from_secs(5);
        while limiter.blocked(Some(a)).is_some() {
            assert!(Instant::now() < deadline, "still blocked after the window");
            std::thread::yield_now();
        }
    }
}
