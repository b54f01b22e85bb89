//! The task behind one subscription: pulls envelopes as its credit allows, hands them to
//! the subscription, dead-letters the ones that used up their attempts, and drains on
//! `close`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_nats::{Message, StatusCode, Subscriber};
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::{mpsc, watch};

use crate::acker::{NatsAcker, nak};
use crate::core::Core;
use crate::credit::Credit;
use crate::layout::Matcher;
use crate::pulls::Pulls;
use crate::subscription::Pending;
use harbor_distributed::frame;
use harbor_distributed::kit;

/// How long a subscription waits before pulling again after the server refused a pull.
const BACKOFF: Duration = Duration::from_millis(250);

pub(crate) struct Pump {
    pub(crate) core: Arc<Core>,
    pub(crate) credit: Arc<Credit>,
    pub(crate) tx: mpsc::Sender<Pending>,
    /// `<inbox>.`: each pull request replies to `<inbox>.<id>`.
    pub(crate) inbox_prefix: String,
    pub(crate) inbox: Subscriber,
    /// `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`.
    pub(crate) next_subject: String,
    pub(crate) matcher: Matcher,
    pub(crate) group: Arc<str>,
    pub(crate) max_in_flight: usize,
    pub(crate) max_attempts: u32,
    pub(crate) ack_wait: Duration,
    pub(crate) pulls: Pulls,
    pub(crate) connected: watch::Receiver<u64>,
}

/// What the loop does after one event.
enum Next {
    Continue,
    Stop,
}

struct State {
    draining: bool,
    /// The settle count at which a `no_wait` pull last found nothing to deliver.
    empty_at: Option<u64>,
    backoff_until: Option<Instant>,
    connected_alive: bool,
}

impl Pump {
    pub(crate) async fn run(mut self) {
        let mut tick = tokio::time::interval(self.pulls.check_every());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut st = State {
            draining: false,
            empty_at: None,
            backoff_until: None,
            connected_alive: true,
        };
        loop {
            if self.core.ended.is_cancelled() {
                break;
            }
            if !st.draining && self.core.draining.is_cancelled() {
                // From now on only `no_wait` pulls, until one finds the group's backlog
                // empty. Open long polls stay: the server may be filling them.
                st.draining = true;
            }
            let now = Instant::now();
            let lost = self.pulls.prune(now);
            if lost > 0 {
                tracing::debug!(group = %self.group, lost, "pull requests unanswered past their deadline; pulling again");
            }
            if st.backoff_until.is_some_and(|t| t <= now) {
                st.backoff_until = None;
            }
            if st.draining && self.drained(&st) {
                break;
            }
            if st.backoff_until.is_none()
                && let Err(error) = self.request_more(&st).await
            {
                tracing::warn!(group = %self.group, %error, "pull request failed");
                st.backoff_until = Some(Instant::now() + BACKOFF);
            }
            let backoff = st.backoff_until;
            let next = tokio::select! {
                biased;
                () = self.core.ended.cancelled() => Next::Stop,
                message = self.inbox.next() => match message {
                    Some(message) => self.on_message(message, &mut st).await,
                    None => Next::Stop,
                },
                () = self.credit.freed.notified() => Next::Continue,
                changed = self.connected.changed(), if st.connected_alive => {
                    match changed {
                        // The server forgot our pull requests with the old connection.
                        Ok(()) => self.pulls.clear(),
                        Err(_) => st.connected_alive = false,
                    }
                    Next::Continue
                }
                () = self.core.draining.cancelled(), if !st.draining => Next::Continue,
                () = self.tx.closed() => Next::Stop,
                _ = tick.tick() => Next::Continue,
                () = sleep_until(backoff) => Next::Continue,
            };
            if matches!(next, Next::Stop) {
                break;
            }
        }
        self.finish().await;
    }

    /// Draining is done when a `no_wait` pull found nothing and nothing was settled (or
    /// nacked back) since, and no delivery is still held.
    fn drained(&self, st: &State) -> bool {
        st.empty_at == Some(self.credit.settles.load(Ordering::Acquire))
            && self.credit.held.load(Ordering::Acquire) == 0
    }

    /// Sends a pull request when the subscription has credit for one.
    async fn request_more(&mut self, st: &State) -> Result<(), async_nats::PublishError> {
        let held = self.credit.held.load(Ordering::Acquire);
        let settles = self.credit.settles.load(Ordering::Acquire);
        let outstanding = self.pulls.outstanding(st.draining);
        let mut free = self.max_in_flight.saturating_sub(held + outstanding);
        if st.draining {
            if self.pulls.any_no_wait() || st.empty_at == Some(settles) {
                return Ok(());
            }
            // Open long polls may hold all the credit without anything to fill them:
            // draining asks for at least one more.
            free = free.max(1);
        } else if free == 0 {
            return Ok(());
        } else if !self.pulls.is_empty() && free < (self.max_in_flight / 2).max(1) {
            // Top up only in large steps: fewer, fuller requests.
            return Ok(());
        }
        let (id, body) = self.pulls.open(free, st.draining, settles);
        tracing::trace!(inbox = %self.inbox_prefix, id, %body, held, "pulling");
        let reply = format!("{}{id}", self.inbox_prefix);
        let sent = self
            .core
            .client
            .publish_with_reply(self.next_subject.clone(), reply, Bytes::from(body))
            .await;
        if sent.is_err() {
            self.pulls.end(id);
        }
        sent
    }

    async fn on_message(&mut self, message: Message, st: &mut State) -> Next {
        let status = message.status.unwrap_or(StatusCode::OK);
        tracing::trace!(inbox = %self.inbox_prefix, subject = %message.subject, %status, description = ?message.description, reply = ?message.reply, "pull inbox");
        if status == StatusCode::OK {
            self.pulls.received();
            return self.on_envelope(message).await;
        }
        let id = message
            .subject
            .strip_prefix(self.inbox_prefix.as_str())
            .and_then(|id| id.parse::<u64>().ok());
        match (status, id) {
            // Nothing waiting for the group: the backlog is empty.
            (StatusCode::NOT_FOUND, Some(id)) => {
                if let Some(pull) = self.pulls.end(id)
                    && pull.no_wait
                {
                    st.empty_at = Some(pull.settles_at_send);
                }
            }
            // Expired, or (for `no_wait`) "Requests Pending": envelopes are waiting but
            // go to pulls queued before it, ours or other members'. Ask again shortly.
            (StatusCode::TIMEOUT, Some(id)) => {
                if self.pulls.end(id).is_some_and(|p| p.no_wait) {
                    st.backoff_until = Some(Instant::now() + BACKOFF / 25);
                }
            }
            (StatusCode::REQUEST_TERMINATED, Some(id)) => {
                tracing::debug!(group = %self.group, description = ?message.description, "pull request ended by the server");
                if let Some(pull) = self.pulls.end(id) {
                    if pull.no_wait {
                        // Refused outright (the consumer is gone, or limits): nothing more
                        // will come while draining.
                        st.empty_at = Some(pull.settles_at_send);
                    } else {
                        st.backoff_until = Some(Instant::now() + BACKOFF / 5);
                    }
                }
            }
            (StatusCode::NO_RESPONDERS, _) => {
                // JetStream is not serving the consumer (yet): the server restarts.
                tracing::debug!(group = %self.group, "no JetStream responder for pulls; backing off");
                self.pulls.clear();
                st.backoff_until = Some(Instant::now() + BACKOFF);
            }
            (status, _) => {
                tracing::warn!(group = %self.group, %status, description = ?message.description, "unexpected status on the pull inbox");
                if let Some(id) = id {
                    self.pulls.end(id);
                }
            }
        }
        Next::Continue
    }

    /// One envelope from the server: hand it out, skip it, or dead-letter it.
    async fn on_envelope(&mut self, message: Message) -> Next {
        let Some(reply) = message.reply else {
            tracing::warn!(group = %self.group, "an envelope came without an ack subject");
            return Next::Continue;
        };
        if !self.matcher.admits(&message.subject) {
            // The consumer's filter covers more edges than this group's.
            self.send(&reply, Bytes::from_static(b"+ACK")).await;
            return Next::Continue;
        }
        let Some((delivered, sequence)) = delivery_info(&reply) else {
            tracing::warn!(group = %self.group, %reply, "cannot read the delivery count");
            return Next::Continue;
        };
        let envelope = match frame::decode(message.payload) {
            Ok(envelope) => Arc::new(envelope),
            Err(error) => {
                tracing::warn!(group = %self.group, subject = %message.subject, %error, "dropping a message that is not a harbor envelope");
                self.send(&reply, Bytes::from_static(b"+TERM")).await;
                return Next::Continue;
            }
        };
        if delivered > self.max_attempts {
            // The last attempt was neither acked nor nacked in time.
            let reason = format!(
                "not settled within the visibility timeout of {:?}",
                self.ack_wait
            );
            let attempts = delivered - 1;
            match self
                .core
                .dead_letter(&envelope, &self.group, attempts, &reason)
                .await
            {
                Ok(()) => self.send(&reply, Bytes::from_static(b"+TERM")).await,
                Err(error) => {
                    tracing::warn!(group = %self.group, %error, "dead letter not stored; retrying later");
                    self.send(&reply, nak(Duration::from_secs(1))).await;
                }
            }
            return Next::Continue;
        }
        if !self.credit.take(sequence, delivered) {
            self.send(&reply, Bytes::from_static(b"+ACK")).await;
            return Next::Continue;
        }
        let pending = Pending {
            attempt: delivered,
            acker: NatsAcker {
                core: Arc::clone(&self.core),
                credit: Arc::clone(&self.credit),
                reply,
                expires: Instant::now() + self.ack_wait,
                sequence,
                attempt: delivered,
                max_attempts: self.max_attempts,
                group: Arc::clone(&self.group),
                envelope: Arc::clone(&envelope),
            },
            envelope,
        };
        if let Err(mpsc::error::SendError(pending)) = self.tx.send(pending).await {
            // The subscription is gone: `finish` gives the envelope back.
            let reply = pending.acker.reply.clone();
            drop(pending);
            kit::lock(&self.credit.returned).push(reply);
            return Next::Stop;
        }
        Next::Continue
    }

    async fn send(&self, reply: &async_nats::Subject, body: Bytes) {
        if let Err(error) = self.core.client.publish(reply.clone(), body).await {
            tracing::debug!(group = %self.group, %error, "settling on the server failed; the visibility timeout will");
        }
    }

    /// Stops pulling and gives back (nacks) envelopes that arrived but were not handed out,
    /// so another member can take them at once.
    ///
    /// The server may hand a nacked envelope straight to a pull request of ours that is
    /// still open, into an inbox nobody reads any more (seen with nats-server 2.9): with
    /// something to give back, the inbox stays open until our requests have ended (within
    /// `pull_expires`), collecting what they still bring. Then it is drained, so everything
    /// the server sent before the unsubscribe arrives, and only then are envelopes nacked.
    async fn finish(mut self) {
        let mut replies = self.take_returned();
        if !replies.is_empty()
            && let Some(deadline) = self.pulls.all_ended_by()
        {
            let deadline = tokio::time::Instant::from_std(deadline);
            while !self.pulls.is_empty() {
                let Ok(Some(message)) = tokio::time::timeout_at(deadline, self.inbox.next()).await
                else {
                    break;
                };
                self.collect(message, &mut replies);
            }
        }
        let _ = self.inbox.drain().await;
        let wait = Duration::from_secs(2);
        while let Ok(Some(message)) = tokio::time::timeout(wait, self.inbox.next()).await {
            self.collect(message, &mut replies);
        }
        replies.append(&mut self.take_returned());
        for reply in &replies {
            tracing::trace!(inbox = %self.inbox_prefix, %reply, "giving back");
            self.send(reply, nak(Duration::ZERO)).await;
        }
    }

    /// Notes what a stopping subscription receives: requests ending, envelopes to give back.
    fn collect(&mut self, message: Message, replies: &mut Vec<async_nats::Subject>) {
        if message.status.is_none_or(|s| s == StatusCode::OK) {
            self.pulls.received();
            replies.extend(message.reply);
        } else if let Some(id) = message
            .subject
            .strip_prefix(self.inbox_prefix.as_str())
            .and_then(|id| id.parse::<u64>().ok())
        {
            self.pulls.end(id);
        }
    }

    fn take_returned(&self) -> Vec<async_nats::Subject> {
        std::mem::take(&mut *kit::lock(&self.credit.returned))
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// The delivery count and stream sequence in a `$JS.ACK.` subject:
/// `<stream>.<consumer>.<delivered>.<stream seq>...` (7 tokens), or with
/// `<domain>.<account hash>.` first (9 or more).
fn delivery_info(reply: &str) -> Option<(u32, u64)> {
    let rest = reply.strip_prefix("$JS.ACK.")?;
    let tokens: Vec<&str> = rest.split('.').collect();
    let at = match tokens.len() {
        7 => 2,
        n if n >= 9 => 4,
        _ => return None,
    };
    Some((
        tokens.get(at)?.parse().ok()?,
        tokens.get(at + 1)?.parse().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::delivery_info;

    #[test]
    fn delivery_counts_are_read_from_both_ack_formats() {
        assert_eq!(
            delivery_info("$JS.ACK.S.c.3.10.7.1700000000000000000.0"),
            Some((3, 10))
        );
        assert_eq!(
            delivery_info("$JS.ACK._.hash.S.c.2.11.7.1700000000000000000.0"),
            Some((2, 11))
        );
        assert_eq!(delivery_info("_INBOX.x"), None);
    }
}
