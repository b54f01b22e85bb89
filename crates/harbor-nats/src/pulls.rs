//! The pull requests one subscription has open on the server, and the credit they use.
//!
//! Each request has its own reply subject (`<inbox>.<id>`), so the server's status answers
//! (408 expired, 404 nothing for a `no_wait` request) say which request they are about.
//! Envelopes carry their original subject instead, so they are counted against the oldest
//! open request, which is the one the server fills first. Requests long-poll only briefly
//! (`pull_expires`): a request whose answer was lost is forgotten after its deadline, and a
//! subscription that stops can wait for its requests to end (see `Pump::finish`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// One open pull request.
#[derive(Debug)]
pub(crate) struct Pull {
    pub(crate) id: u64,
    /// Envelopes the server may still send for it.
    pub(crate) remaining: usize,
    /// Answered at once (404/408) when nothing is waiting, instead of long-polling.
    pub(crate) no_wait: bool,
    /// The credit-settle count when it was sent (see `Credit::settles`).
    pub(crate) settles_at_send: u64,
    /// After this it is forgotten (it expired on the server, or its answer was lost).
    deadline: Instant,
}

/// The open pull requests of one subscription.
#[derive(Debug)]
pub(crate) struct Pulls {
    open: VecDeque<Pull>,
    next_id: u64,
    expires: Duration,
}

/// Slack on server-side deadlines for the network and the server's own timers.
const GRACE: Duration = Duration::from_millis(500);

impl Pulls {
    pub(crate) fn new(expires: Duration) -> Self {
        Self {
            open: VecDeque::new(),
            next_id: 0,
            expires,
        }
    }

    /// How often to look for requests past their deadline.
    pub(crate) fn check_every(&self) -> Duration {
        (self.expires / 2).max(Duration::from_millis(50))
    }

    /// When every open request will have ended (or be forgotten).
    pub(crate) fn all_ended_by(&self) -> Option<Instant> {
        self.open.iter().map(|p| p.deadline).max()
    }

    /// The JSON body of a new request for `batch` envelopes, and its id; the request is
    /// counted as open from now on.
    pub(crate) fn open(&mut self, batch: usize, no_wait: bool, settles: u64) -> (u64, String) {
        let now = Instant::now();
        let id = self.next_id;
        self.next_id += 1;
        let (body, deadline) = if no_wait {
            (
                format!(r#"{{"batch":{batch},"no_wait":true}}"#),
                now + GRACE * 10,
            )
        } else {
            (
                format!(
                    r#"{{"batch":{batch},"expires":{}}}"#,
                    self.expires.as_nanos()
                ),
                now + self.expires + GRACE,
            )
        };
        self.open.push_back(Pull {
            id,
            remaining: batch,
            no_wait,
            settles_at_send: settles,
            deadline,
        });
        (id, body)
    }

    /// Envelopes still expected from open requests; with `no_wait_only`, from `no_wait`
    /// ones.
    pub(crate) fn outstanding(&self, no_wait_only: bool) -> usize {
        self.open
            .iter()
            .filter(|p| p.no_wait || !no_wait_only)
            .map(|p| p.remaining)
            .sum()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    pub(crate) fn any_no_wait(&self) -> bool {
        self.open.iter().any(|p| p.no_wait)
    }

    /// An envelope arrived: it counts against the oldest request.
    pub(crate) fn received(&mut self) {
        if let Some(front) = self.open.front_mut() {
            front.remaining = front.remaining.saturating_sub(1);
            if front.remaining == 0 {
                self.open.pop_front();
            }
        }
    }

    /// Request `id` ended on the server (expired, nothing to send, refused).
    pub(crate) fn end(&mut self, id: u64) -> Option<Pull> {
        let at = self.open.iter().position(|p| p.id == id)?;
        self.open.remove(at)
    }

    /// Forgets every request: the server forgot them with the connection.
    pub(crate) fn clear(&mut self) {
        self.open.clear();
    }

    /// Forgets requests past their deadline (their answers were lost); returns how many.
    pub(crate) fn prune(&mut self, now: Instant) -> usize {
        let before = self.open.len();
        self.open.retain(|p| now < p.deadline);
        before - self.open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_fill_the_oldest_request_first() {
        let mut pulls = Pulls::new(Duration::from_secs(10));
        let (a, body) = pulls.open(2, false, 0);
        assert!(body.contains("\"batch\":2") && body.contains("expires"));
        let (b, _) = pulls.open(3, true, 0);
        assert_eq!(pulls.outstanding(false), 5);
        assert_eq!(pulls.outstanding(true), 3);
        pulls.received();
        pulls.received();
        assert!(pulls.end(a).is_none(), "the first request was filled");
        assert_eq!(pulls.outstanding(false), 3);
        assert!(pulls.end(b).is_some_and(|p| p.no_wait));
        assert!(pulls.is_empty());
    }

    #[test]
    fn silent_requests_are_forgotten() {
        let mut pulls = Pulls::new(Duration::from_secs(1));
        pulls.open(4, false, 0);
        assert_eq!(pulls.prune(Instant::now()), 0);
        assert_eq!(pulls.prune(Instant::now() + Duration::from_secs(5)), 1);
    }
}
