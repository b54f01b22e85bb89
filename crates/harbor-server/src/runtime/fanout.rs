//! Following tasks that other processes write, through a bus.
//!
//! With a bus configured, every durable append of this process is announced on it as a
//! log notice ([`harbor_distributed::store::fanout`]), and a subscription in a consumer
//! group of this process's own hands every notice of the others to the feeds of the tasks
//! followed here. A notice that continues a feed's entries extends it at once; one that
//! leaves a gap (or came without its events) makes the feed catch up from the store.
//! Push delivery hears of them too: the configs registered here are delivered from here,
//! whichever process writes their task.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use harbor_distributed::store::fanout::{self, Notice};
use harbor_distributed::{Envelope, IdentityScope, LogEntry, MessageBus, Owner, SubscribeOptions};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, warn};

use super::feed::Feeds;
use crate::push::dispatch::Dispatcher;

/// Longest wait between two attempts to subscribe.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// This process's side of the log fan-out.
pub(crate) struct Fanout {
    bus: Arc<dyn MessageBus>,
    /// This process's name: the session of its notices and its consumer group.
    source: String,
    max_payload: usize,
    health: Arc<BusHealth>,
}

/// What readiness says of the bus: the notices of the others are followed, and the last
/// publish went through.
#[derive(Debug, Default)]
struct BusHealth {
    following: AtomicBool,
    publish_failing: AtomicBool,
}

impl Fanout {
    pub(crate) fn new(bus: Arc<dyn MessageBus>, source: String) -> Self {
        let max_payload = bus.capabilities().max_payload;
        Self {
            bus,
            source,
            max_payload,
            health: Arc::default(),
        }
    }

    /// `Ok` while the bus is followed and takes publishes; else what is wrong.
    pub(crate) fn health(&self) -> Result<(), String> {
        if !self.health.following.load(Ordering::Relaxed) {
            return Err("the bus subscription is not open".to_owned());
        }
        if self.health.publish_failing.load(Ordering::Relaxed) {
            return Err("the last publish to the bus failed".to_owned());
        }
        Ok(())
    }

    /// Announces durable `entries` of `owner`'s task `task_id` (in the background: the
    /// writer does not wait for the bus).
    pub(crate) fn announce(&self, owner: &Owner, task_id: &str, entries: &[LogEntry]) {
        let mut envelope =
            match fanout::notice(owner, task_id, entries, &self.source, self.max_payload) {
                Ok(envelope) => envelope,
                Err(error) => {
                    warn!(%task_id, %error, "no log notice could be made");
                    return;
                }
            };
        // The publish is a span of the append's trace; the consumer's span continues it.
        let span = tracing::info_span!("bus.publish", edge = fanout::EDGE);
        harbor_distributed::trace_context::inject(&span, &mut envelope.headers);
        let bus = Arc::clone(&self.bus);
        let task_id = task_id.to_owned();
        let health = Arc::clone(&self.health);
        let publish = async move {
            let published = bus.publish(envelope).await;
            health
                .publish_failing
                .store(published.is_err(), Ordering::Relaxed);
            if let Err(error) = published {
                warn!(%task_id, %error, "a log notice was not published; followers elsewhere catch up later");
            }
        };
        tokio::spawn(publish.instrument(span));
    }

    /// This process's name on the bus.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// Publishes `envelope` and waits until the bus holds it durably.
    pub(crate) async fn publish(
        &self,
        envelope: Envelope,
    ) -> Result<(), harbor_distributed::Error> {
        let span = tracing::info_span!("bus.publish", edge = %envelope.edge);
        let mut envelope = envelope;
        harbor_distributed::trace_context::inject(&span, &mut envelope.headers);
        let published = self.bus.publish(envelope).instrument(span).await;
        self.health
            .publish_failing
            .store(published.is_err(), Ordering::Relaxed);
        published.map(drop)
    }

    /// Starts following the other processes' notices until `stop` fires: they go to the
    /// feeds followed here and to push delivery.
    pub(crate) fn follow(
        &self,
        feeds: Weak<Feeds>,
        push: Option<Arc<Dispatcher>>,
        stop: CancellationToken,
    ) {
        let options =
            SubscribeOptions::new([fanout::EDGE], self.source.clone(), IdentityScope::Admin)
                .max_in_flight(1024);
        let bus = Arc::clone(&self.bus);
        let span = tracing::info_span!("a2a.log_follow", group = %self.source);
        let health = Arc::clone(&self.health);
        let source = self.source.clone();
        tokio::spawn(
            async move {
                let here = Here {
                    source,
                    feeds,
                    push,
                };
                follow(bus, options, here, stop, &health).await;
                health.following.store(false, Ordering::Relaxed);
            }
            .instrument(span),
        );
    }
}

/// What follows the notices in this process.
struct Here {
    /// This process's name: the session of its own notices.
    source: String,
    feeds: Weak<Feeds>,
    push: Option<Arc<Dispatcher>>,
}

impl Here {
    /// Whether a notice of `task_id` from `session` matters here: another process's, of a
    /// task followed here or with a push config delivered from here. Every process gets
    /// every notice; this test spares decoding the others.
    fn wants(&self, feeds: &Feeds, session: &str, task_id: &str) -> bool {
        session != self.source
            && (feeds.followed(task_id).is_some()
                || self.push.as_ref().is_some_and(|p| p.delivers(task_id)))
    }
}

async fn follow(
    bus: Arc<dyn MessageBus>,
    options: SubscribeOptions,
    here: Here,
    stop: CancellationToken,
    health: &BusHealth,
) {
    let mut backoff = Duration::from_millis(50);
    let mut subscription = loop {
        match bus.subscribe(options.clone()).await {
            Ok(subscription) => {
                health.following.store(true, Ordering::Relaxed);
                break subscription;
            }
            Err(error) => {
                warn!(%error, ?backoff, "cannot follow task logs on the bus; retrying");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    };
    loop {
        let delivery = tokio::select! {
            () = stop.cancelled() => return,
            delivery = subscription.next() => delivery,
        };
        let Some(delivery) = delivery else {
            debug!("the log subscription ended");
            return;
        };
        let delivery = match delivery {
            Ok(delivery) => delivery,
            Err(error) => {
                warn!(%error, "the log subscription failed a delivery");
                continue;
            }
        };
        // The consumer's span is a child of the publisher's (from the envelope's headers).
        let span = tracing::info_span!(
            "bus.deliver",
            edge = fanout::EDGE,
            attempt = delivery.attempt()
        );
        harbor_distributed::trace_context::continue_from(&span, &delivery.envelope().headers);
        let entered = span.enter();
        let Some(feeds) = here.feeds.upgrade() else {
            return;
        };
        let envelope = delivery.envelope();
        let task_id = envelope.task_id.as_deref().unwrap_or_default();
        let wanted = here.wants(&feeds, &envelope.identity.session, task_id);
        match wanted.then(|| fanout::read_notice(envelope)) {
            None => {}
            Some(Ok(notice)) => {
                if let Some(push) = &here.push {
                    // Configs registered here take them (a notice without its events
                    // makes them read the log).
                    push.appended(&notice.task_id, &notice.entries);
                }
                remote(&feeds, notice);
            }
            Some(Err(error)) => {
                warn!(%error, "an envelope on the task-log edge was not a notice");
            }
        }
        drop(entered);
        if let Err(error) = delivery.ack().await {
            debug!(%error, "a log notice was not acked");
        }
    }
}

/// Applies a notice to the feed of its task, when this process follows that task.
fn remote(feeds: &Arc<Feeds>, notice: Notice) {
    let Some(feed) = feeds.followed(&notice.task_id) else {
        return;
    };
    if feed.extend(&notice) {
        return;
    }
    // A gap: the store has what the notice did not bring.
    let store = Arc::clone(feeds.store());
    tokio::spawn(async move {
        match store.get(&notice.owner, &notice.task_id).await {
            Ok(stored) => feed.catch_up(&stored),
            Err(error) => {
                warn!(task_id = %notice.task_id, %error, "a followed task could not be read")
            }
        }
    });
}
