//! The [`MessageBus`] implementation: publish, subscribe, close.

use std::sync::Arc;

use async_trait::async_trait;
use harbor_distributed::kit;
use harbor_distributed::{
    Capabilities, Envelope, Error, MessageBus, PublishReceipt, SubscribeOptions, Subscription,
};
use tokio::sync::oneshot;
use tracing::Instrument;

use super::core::Op;
use super::group::{Group, Phase};
use super::lease::Terms;
use super::tables::{GroupRow, group_key};
use super::{EmbeddedBus, record, subscription};

#[async_trait]
impl MessageBus for EmbeddedBus {
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
            .persistent(true)
            .ordered_per_edge(true)
            .replay(true)
            .dead_letter(true)
            .publish_dedup(true)
            .max_payload(self.shared.config.max_payload)
    }

    async fn publish(&self, envelope: Envelope) -> Result<PublishReceipt, Error> {
        let span = tracing::debug_span!("bus.publish", edge = %envelope.edge);
        async {
            if !self.shared.life.is_open() {
                return Err(Error::Closed);
            }
            envelope.check_publishable(self.shared.config.max_payload)?;
            let record = record::encode(&envelope, record::now_ms());
            let key = record::dedup_key(&envelope);
            let (reply, answer) = oneshot::channel();
            self.shared.send(Op::Publish {
                envelope: Arc::new(envelope),
                record,
                key,
                reply,
            })?;
            answer.await.map_err(|_| Error::Closed)?
        }
        .instrument(span)
        .await
    }

    async fn subscribe(&self, options: SubscribeOptions) -> Result<Subscription, Error> {
        let span = tracing::debug_span!(
            "bus.subscribe",
            group = %options.group,
            edges = ?options.edges,
        );
        async {
            options.validate()?;
            if !self.shared.life.is_open() {
                return Err(Error::Closed);
            }
            let group = self.open_group(&options).await?;
            let sub = group.attach(options.max_in_flight).ok_or(Error::Closed)?;
            let terms = Terms {
                sub,
                max_attempts: options.max_attempts,
                timeout: options.visibility_timeout,
                read_ahead: self.shared.config.read_ahead,
            };
            Ok(subscription::open(Arc::clone(&self.shared), group, terms))
        }
        .instrument(span)
        .await
    }

    async fn backlog(&self, group: &str) -> Result<Option<u64>, Error> {
        if self.shared.life.is_closed() {
            return Err(Error::Closed);
        }
        let span = tracing::debug_span!("bus.backlog", group);
        self.group_backlog(group).instrument(span).await.map(Some)
    }

    async fn close(&self) -> Result<(), Error> {
        let shared = &self.shared;
        let _closing = shared.life.lock_close().await;
        if shared.life.is_closed() {
            return Ok(());
        }
        async {
            shared.life.begin_drain();
            for group in self.group_list() {
                let mut st = group.lock();
                if st.phase == Phase::Open {
                    st.phase = Phase::Draining;
                }
            }
            self.drain().await;
            shared.life.close();
            self.end_groups();
            // Store every group as it ends (cursors of deliveries not yet written).
            let mut outcome = Ok(());
            for group in self.group_list() {
                if let Err(error) = shared.sync(&group).await {
                    outcome = Err(error);
                }
            }
            outcome
        }
        .instrument(tracing::debug_span!("bus.close"))
        .await
    }
}

impl EmbeddedBus {
    /// The group `options` names: the stored one, or a new one starting at
    /// `options.start` (stored before this returns).
    async fn open_group(&self, options: &SubscribeOptions) -> Result<Arc<Group>, Error> {
        let key = group_key(&options.group, &options.scope);
        let mut edges = options.edges.clone();
        edges.sort();
        edges.dedup();
        let _creating = self.shared.creating.lock().await;
        let existing = self.shared.groups().get(&key).cloned();
        if let Some(group) = existing {
            let changed = {
                let mut st = group.lock();
                if st.edges == edges {
                    false
                } else if st.live_subs > 0 {
                    return Err(Error::InvalidArgument(format!(
                        "consumer group {:?} already subscribes to {:?}; its members must subscribe to the same edges",
                        options.group, st.edges
                    )));
                } else {
                    // Nobody reads the group now: it follows the new edges from here on.
                    st.edges = edges;
                    true
                }
            };
            if changed {
                self.shared.sync(&group).await?;
            }
            return Ok(group);
        }
        let row = GroupRow {
            name: options.group.clone(),
            scope: options.scope.clone(),
            edges,
            cursor: 0,
            floor: 0,
        };
        let group = Arc::new(Group::new(key, &row));
        let (reply, answer) = oneshot::channel();
        self.shared.send(Op::Create {
            group: Arc::clone(&group),
            start: options.start,
            reply,
        })?;
        answer.await.map_err(|_| Error::Closed)??;
        Ok(group)
    }

    /// Waits until every group is drained, or the drain timeout passes.
    async fn drain(&self) {
        let timeout = self.shared.config.drain_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.drain.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.drained() {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                tracing::warn!(
                    ?timeout,
                    "embedded bus closed with deliveries still unsettled; they are delivered again after a restart"
                );
                return;
            }
        }
    }

    fn drained(&self) -> bool {
        let read_ahead = self.shared.config.read_ahead;
        self.group_list().iter().all(|group| {
            let mut st = group.lock();
            let tail = kit::read(&self.shared.tail);
            // Read ahead through entries of other groups, so an idle group counts as done.
            while st.live_subs > 0 && st.fresh.is_empty() && st.scan < tail.end() {
                let before = st.scan;
                st.fill(&group.scope, &tail, read_ahead);
                if st.scan == before {
                    break;
                }
            }
            let head = tail.end();
            drop(tail);
            let done = st.drained(head);
            let wake = !st.fresh.is_empty();
            drop(st);
            if wake {
                group.changed.notify_waiters();
            }
            done
        })
    }
}
