//! The bus facade: connecting (building the shared [`Inner`] and
//! starting the acker, publisher and trimmer), publishing, subscribing, closing.

use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use harbor_distributed::{
    Capabilities, Envelope, Error, MessageBus, PublishReceipt, SubscribeOptions, Subscription,
};
use redis::aio::ConnectionManager;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::ack_batch;
use crate::config::{RedisBusConfig, redact};
use crate::core::{Inner, Sub, connect};
use crate::errors::{backend, with_retry};
use crate::publish::{self, PublishRequest};
use crate::{keys, reply, subscription, trim};
use harbor_distributed::frame;
use harbor_distributed::kit::{self, Lifecycle, lock};

/// At-least-once delivery over Redis Streams; see the [crate docs](crate).
#[derive(Debug)]
pub struct RedisBus {
    inner: Arc<Inner>,
}

impl RedisBus {
    /// Connects with `config`; fails when the server cannot be reached.
    pub async fn connect(config: RedisBusConfig) -> Result<Self, Error> {
        let client = redis::Client::open(config.server.as_str()).map_err(|e| {
            Error::InvalidConfig(format!("redis bus URL {}: {e}", redact(&config.server)))
        })?;
        let mut conn = connect(&client, config.response_timeout, config.response_timeout).await?;
        // Persistent only when the server keeps an append-only file; CONFIG may be disabled
        // on managed servers, and then the driver does not claim what it cannot see.
        let persistent = redis::cmd("CONFIG")
            .arg("GET")
            .arg("appendonly")
            .query_async::<Vec<String>>(&mut conn)
            .await
            .map(|v| v.get(1).is_some_and(|s| s == "yes"))
            .unwrap_or(false);
        let (tx, rx) = mpsc::unbounded_channel();
        let acker = tokio::spawn(ack_batch::run(
            rx,
            conn.clone(),
            config.ack_batch,
            config.retry,
        ));
        let (publisher, stop_publishing) = (TaskTracker::new(), CancellationToken::new());
        let publishes = publish::spawn(
            &publisher,
            stop_publishing.clone(),
            conn.clone(),
            config.dedup_window,
            config.retry,
        );
        let consumer = config
            .consumer
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let inner = Arc::new(Inner {
            client,
            conn: RwLock::new(Some(conn)),
            acks: Mutex::new(Some(tx)),
            publishes,
            stop_publishing,
            life: Lifecycle::new(),
            cancel: CancellationToken::new(),
            drained: Notify::new(),
            consumer,
            next_sub: AtomicU64::new(0),
            subs: Mutex::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
            acker: Mutex::new(Some(acker)),
            publisher,
            streams: Mutex::new(HashSet::new()),
            persistent,
            config,
        });
        if !inner.config.trim_interval.is_zero() {
            inner.spawn(trim::run(Arc::downgrade(&inner), inner.cancel.clone()));
        }
        Ok(Self { inner })
    }

    /// Connects to a `redis://` URL (see [`RedisBusConfig::from_url`]).
    pub async fn connect_url(url: &str) -> Result<Self, Error> {
        Self::connect(RedisBusConfig::from_url(url)?).await
    }

    /// The old name of [`connect_url`](Self::connect_url).
    #[deprecated(note = "renamed `connect_url`, as in every driver")]
    pub async fn open(url: &str) -> Result<Self, Error> {
        Self::connect_url(url).await
    }

    /// The configuration in use.
    pub fn config(&self) -> &RedisBusConfig {
        &self.inner.config
    }

    /// Deletes every key under this bus's prefix: streams, groups, retries, dedup keys.
    /// Destructive; for tests and tools that own the prefix. Works after `close` too (on a
    /// connection of its own), which is when it belongs.
    pub async fn purge(&self) -> Result<(), Error> {
        let timeout = self.inner.config.response_timeout;
        let mut conn = connect(&self.inner.client, timeout, timeout).await?;
        purge(&mut conn, &self.inner.config.prefix).await
    }
}

/// Deletes every key starting with `<prefix>:`.
pub(crate) async fn purge(conn: &mut ConnectionManager, prefix: &str) -> Result<(), Error> {
    let pattern = format!("{}:*", prefix.replace(['*', '?', '[', ']', '\\'], "\\$0"));
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .map_err(backend)?;
        if !keys.is_empty() {
            redis::cmd("DEL")
                .arg(&keys)
                .query_async::<()>(conn)
                .await
                .map_err(backend)?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

impl Drop for RedisBus {
    fn drop(&mut self) {
        // Dropped without close: stop every task; unsettled entries stay pending and come
        // back after their visibility timeout.
        self.inner.life.close();
        self.inner.cancel.cancel();
        self.inner.stop_publishing.cancel();
    }
}

#[async_trait]
impl MessageBus for RedisBus {
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
            .persistent(self.inner.persistent)
            .ordered_per_edge(true)
            .replay(true)
            .dead_letter(true)
            .publish_dedup(self.inner.config.dedup)
            .max_payload(self.inner.config.max_payload)
    }

    async fn publish(&self, envelope: Envelope) -> Result<PublishReceipt, Error> {
        let span = tracing::debug_span!("bus.publish", edge = %envelope.edge);
        publish(&self.inner, &envelope).instrument(span).await
    }

    async fn subscribe(&self, options: SubscribeOptions) -> Result<Subscription, Error> {
        let span =
            tracing::debug_span!("bus.subscribe", group = %options.group, edges = ?options.edges);
        subscription::open(&self.inner, options)
            .instrument(span)
            .await
    }

    async fn backlog(&self, group: &str) -> Result<Option<u64>, Error> {
        if self.inner.life.is_closed() {
            return Err(Error::Closed);
        }
        let span = tracing::debug_span!("bus.backlog", group);
        crate::backlog::backlog(&self.inner, group)
            .instrument(span)
            .await
    }

    async fn close(&self) -> Result<(), Error> {
        close(&self.inner)
            .instrument(tracing::debug_span!("bus.close"))
            .await
    }
}

async fn publish(inner: &Inner, envelope: &Envelope) -> Result<PublishReceipt, Error> {
    if !inner.life.is_open() {
        return Err(Error::Closed);
    }
    envelope.check_publishable(inner.config.max_payload)?;
    let stream = keys::stream_of_edge(&inner.config.prefix, &envelope.edge);
    let data = frame::encode(envelope);
    let (duplicate, id) = if inner.config.dedup {
        let task = envelope.task_id.as_deref().unwrap_or_default();
        let (done, stored) = oneshot::channel();
        let request = PublishRequest {
            stream,
            dedup_key: keys::dedup_key(
                &inner.config.prefix,
                task,
                &envelope.edge,
                &envelope.event_id,
            ),
            data,
            done,
        };
        inner.publishes.send(request).map_err(|_| Error::Closed)?;
        let id = stored.await.map_err(|_| Error::Closed)??;
        (id.is_none(), id)
    } else {
        let conn = inner.conn()?;
        let (result, _) = with_retry(inner.config.retry, || {
            let mut conn = conn.clone();
            let mut cmd = redis::cmd("XADD");
            cmd.arg(&stream).arg("*").arg("d").arg(&data[..]);
            async move { cmd.query_async::<String>(&mut conn).await }
        })
        .await;
        (false, Some(result?))
    };
    Ok(PublishReceipt {
        sequence: id.as_deref().and_then(reply::sequence_of),
        duplicate,
    })
}

async fn close(inner: &Arc<Inner>) -> Result<(), Error> {
    let _closing = inner.life.lock_close().await;
    // A close cancelled after the bus ended still has the acker and connection to stop.
    if inner.life.is_closed() && lock(&inner.acks).is_none() {
        return Ok(());
    }
    inner.life.begin_drain();
    let subs: Vec<Arc<Sub>> = lock(&inner.subs).clone();
    for sub in &subs {
        sub.wake();
    }
    let deadline = tokio::time::Instant::now() + inner.config.drain_timeout;
    loop {
        let notified = inner.drained.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if subs.iter().all(|s| s.is_done()) {
            break;
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            tracing::warn!("redis bus closed with deliveries still unsettled");
            break;
        }
    }
    inner.life.close();
    inner.cancel.cancel();
    for sub in &subs {
        sub.wake();
    }
    let tasks = std::mem::take(&mut *lock(&inner.tasks));
    for task in tasks {
        if let Err(error) = task.await {
            tracing::warn!(%error, "redis bus task failed");
        }
    }
    for sub in &subs {
        sub.end();
    }
    lock(&inner.subs).clear();
    // Publishes already queued are stored (or fail) before the connection goes.
    inner.stop_publishing.cancel();
    inner.publisher.close();
    inner.publisher.wait().await;
    drop(lock(&inner.acks).take());
    let acker = lock(&inner.acker).take();
    if let Some(acker) = acker {
        let _ = acker.await;
    }
    kit::write(&inner.conn).take();
    Ok(())
}
