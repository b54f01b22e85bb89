//! [`PostgresBus`]: the [`MessageBus`] over one schema of a PostgreSQL database. The facade
//! on top of the bus's modules: it opens the pools, starts the publishing, settling and
//! listening tasks around the shared [`Inner`], and closes them.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use harbor_distributed::{
    Capabilities, Envelope, Error, MessageBus, PublishReceipt, SubscribeOptions, Subscription,
};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::config::PostgresBusConfig;
use crate::core::{Db, Inner, PublishOp, build_pool};
use crate::groups::{self, Groups};
use crate::statements::Statements;
use harbor_distributed::batch;
use harbor_distributed::kit::Lifecycle;

use crate::{acker, codec, errors, listener, publish, schema, subscription};

/// A message bus in one PostgreSQL schema; see the [crate docs](crate) for the design.
pub struct PostgresBus {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PostgresBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBus")
            .field("config", &self.inner.db.config)
            .finish_non_exhaustive()
    }
}

impl PostgresBus {
    /// Opens a bus at `url` (see the crate docs for the query parameters).
    pub async fn connect_url(url: &str) -> Result<Self, Error> {
        Self::connect(PostgresBusConfig::from_url(url)?).await
    }

    /// Opens a bus with `config`: creates or migrates its schema, then starts the
    /// publishing, settling and listening tasks.
    pub async fn connect(config: PostgresBusConfig) -> Result<Self, Error> {
        config.validate()?;
        let server = config.server_config()?;
        let pool = build_pool(&config, server.clone())?;
        // Claims and settles may be lost in a server crash without harm (the delivery is
        // redelivered, which at-least-once allows), so they skip the commit flush.
        let mut relaxed = server;
        let options = match relaxed.get_options() {
            Some(o) => format!("{o} -c synchronous_commit=off"),
            None => "-c synchronous_commit=off".to_owned(),
        };
        relaxed.options(&options);
        let settle_pool = build_pool(&config, relaxed)?;
        let span = tracing::info_span!("bus.open", server = %config.redacted_server(), schema = %config.schema);
        schema::migrate(&pool, &config.schema, &config.channel())
            .instrument(span)
            .await?;
        let db = Arc::new(Db {
            sql: Statements::new(&config.schema, &config.channel()),
            config,
            pool,
            settle_pool,
        });
        let tasks = TaskTracker::new();
        let (stop_publishing, stop_settling) = (CancellationToken::new(), CancellationToken::new());
        let publisher = batch::spawn(
            &tasks,
            stop_publishing.clone(),
            db.config.publish_batch,
            db.config.publish_pipeline,
            {
                let db = Arc::clone(&db);
                move |batch| publish::run_batch(Arc::clone(&db), batch)
            },
        );
        let settler = batch::spawn(&tasks, stop_settling.clone(), db.config.ack_batch, 2, {
            let db = Arc::clone(&db);
            move |batch| acker::run_batch(Arc::clone(&db), batch)
        });
        let inner = Arc::new(Inner {
            db,
            groups: Groups::default(),
            life: Lifecycle::new(),
            draining: CancellationToken::new(),
            ended: CancellationToken::new(),
            stopped: CancellationToken::new(),
            stop_publishing,
            stop_settling,
            publisher,
            settler,
            subscriptions: TaskTracker::new(),
            tasks,
        });
        inner.tasks.spawn(listener::run(Arc::clone(&inner)));
        inner.tasks.spawn(sweep(Arc::clone(&inner)));
        Ok(Self { inner })
    }

    /// The configuration the bus was opened with.
    pub fn config(&self) -> &PostgresBusConfig {
        &self.inner.db.config
    }
}

/// Deletes settled envelopes past the retention now and then.
async fn sweep(inner: Arc<Inner>) {
    let config = &inner.db.config;
    let every = (config.retention / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let ms = i64::try_from(config.retention.as_millis()).unwrap_or(i64::MAX);
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = inner.stopped.cancelled() => return,
        }
        let run = async {
            let client = inner.db.pool.get().await.map_err(errors::pool)?;
            client
                .execute(&inner.db.sql.sweep, &[&ms])
                .await
                .map_err(errors::backend)
        };
        match run.await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(deleted = n, "bus retention sweep"),
            Err(error) => tracing::debug!(%error, "bus retention sweep failed"),
        }
    }
}

#[async_trait]
impl MessageBus for PostgresBus {
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
            .persistent(true)
            .ordered_per_edge(true)
            .replay(true)
            .dead_letter(true)
            .publish_dedup(true)
            .max_payload(self.inner.db.config.max_payload)
    }

    async fn publish(&self, envelope: Envelope) -> Result<PublishReceipt, Error> {
        let span = tracing::debug_span!("bus.publish", edge = %envelope.edge, event_id = %envelope.event_id);
        async {
            envelope.check_publishable(self.inner.db.config.max_payload)?;
            codec::check_storable(&envelope)?;
            if !self.inner.life.is_open() {
                return Err(Error::Closed);
            }
            let (reply, answer) = oneshot::channel();
            self.inner
                .publisher
                .send(PublishOp { envelope, reply })
                .map_err(|_| Error::Closed)?;
            answer.await.map_err(|_| errors::lost("publish"))?
        }
        .instrument(span)
        .await
    }

    async fn subscribe(&self, options: SubscribeOptions) -> Result<Subscription, Error> {
        let span =
            tracing::debug_span!("bus.subscribe", group = %options.group, edges = ?options.edges);
        async {
            if !self.inner.life.is_open() {
                return Err(Error::Closed);
            }
            options.validate()?;
            let db = &self.inner.db;
            let id = groups::register(&db.pool, &db.config.schema, &options).await?;
            let group = self.inner.groups.get_or_insert(id, &options.group);
            Ok(subscription::start(Arc::clone(&self.inner), group, options))
        }
        .instrument(span)
        .await
    }

    async fn backlog(&self, group: &str) -> Result<Option<u64>, Error> {
        if self.inner.is_ended() {
            return Err(Error::Closed);
        }
        let span = tracing::debug_span!("bus.backlog", group);
        let db = &self.inner.db;
        groups::backlog(&db.settle_pool, &db.sql.backlog, group)
            .instrument(span)
            .await
            .map(Some)
    }

    async fn close(&self) -> Result<(), Error> {
        let inner = &self.inner;
        // A close cancelled part way runs again in full; one that finished is not repeated.
        let mut closing = inner.life.lock_close().await;
        if closing.is_finished() {
            return Ok(());
        }
        let span = tracing::debug_span!("bus.close", schema = %inner.db.config.schema);
        async {
            inner.life.begin_drain();
            // Publishes already queued are stored; later ones fail with `Closed`.
            inner.stop_publishing.cancel();
            inner.draining.cancel();
            inner.subscriptions.close();
            let drained =
                tokio::time::timeout(inner.db.config.drain_timeout, inner.subscriptions.wait())
                    .await;
            if drained.is_err() {
                tracing::warn!("bus close: subscriptions did not drain in time; ending them");
            }
            inner.life.close();
            inner.ended.cancel();
            inner.subscriptions.wait().await;
            inner.stop_settling.cancel();
            inner.stopped.cancel();
            inner.tasks.close();
            inner.tasks.wait().await;
            inner.db.pool.close();
            inner.db.settle_pool.close();
        }
        .instrument(span)
        .await;
        closing.finish();
        Ok(())
    }
}

impl Drop for PostgresBus {
    fn drop(&mut self) {
        self.inner.abandon();
    }
}
