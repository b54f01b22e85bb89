//! The JetStream bus: connecting, publishing, subscribing, closing.

use std::sync::Arc;

use async_nats::{ConnectOptions, Event};
use async_trait::async_trait;
use harbor_distributed::{
    Capabilities, Envelope, Error, MessageBus, PublishReceipt, SubscribeOptions, Subscription,
};
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

use crate::backlog;
use crate::config::NatsBusConfig;
use crate::core::{Core, reconnect_delay};
use crate::credit::Credit;
use crate::errors;
use crate::pulls::Pulls;
use crate::pump::Pump;
use crate::setup;
use crate::subscription::DeliveryStream;

/// At-least-once delivery through NATS JetStream. See the [crate docs](crate).
///
/// Dropping the bus without [`close`](MessageBus::close) stops its subscriptions at once;
/// what they held comes back after the visibility timeout.
pub struct NatsBus {
    core: Arc<Core>,
}

impl std::fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsBus")
            .field("config", &self.core.config)
            .finish_non_exhaustive()
    }
}

impl NatsBus {
    /// Connects with `config` and creates the stream unless it exists.
    ///
    /// Fails with a retryable [`Error::Backend`] when the server cannot be reached, and with
    /// [`Error::InvalidConfig`] when the configuration is refused.
    pub async fn connect(config: NatsBusConfig) -> Result<Self, Error> {
        config.validate()?;
        let (connected_tx, connected) = watch::channel(0u64);
        let mut options = ConnectOptions::new()
            .name(&config.connection_name)
            .max_reconnects(None)
            .event_callback(move |event| {
                if matches!(event, Event::Connected) {
                    connected_tx.send_modify(|n| *n += 1);
                }
                async {}
            });
        let max_delay = config.reconnect_delay_max;
        options = options.reconnect_delay_callback(move |n| reconnect_delay(n, max_delay));
        if let (Some(user), Some(password)) = (&config.user, &config.password) {
            options = options.user_and_password(user.clone(), password.clone());
        }
        if let Some(token) = &config.token {
            options = options.token(token.clone());
        }
        let client = options
            .connect(config.server.as_str())
            .await
            .map_err(|e| errors::backend(true, e))?;
        let core = Arc::new(Core::new(config, client, connected));
        if let Err(error) = setup::ensure_stream(&core).await {
            let _ = core.client.drain().await;
            return Err(error);
        }
        Ok(Self { core })
    }

    /// Connects with the configuration a `nats://` URL names (see the crate docs).
    pub async fn connect_url(url: &str) -> Result<Self, Error> {
        Self::connect(NatsBusConfig::from_url(url)?).await
    }

    /// The configuration in use.
    pub fn config(&self) -> &NatsBusConfig {
        &self.core.config
    }
}

impl Drop for NatsBus {
    fn drop(&mut self) {
        self.core.life.close();
        self.core.ended.cancel();
    }
}

#[async_trait]
impl MessageBus for NatsBus {
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
            .persistent(true)
            .ordered_per_edge(true)
            .replay(true)
            .dead_letter(true)
            .publish_dedup(true)
            .max_payload(self.core.max_payload)
    }

    async fn publish(&self, envelope: Envelope) -> Result<PublishReceipt, Error> {
        let span = tracing::debug_span!("bus.publish", edge = %envelope.edge);
        self.core.store(&envelope, false).instrument(span).await
    }

    async fn subscribe(&self, options: SubscribeOptions) -> Result<Subscription, Error> {
        let span = tracing::debug_span!(
            "bus.subscribe",
            group = %options.group,
            edges = ?options.edges,
        );
        self.open_subscription(options).instrument(span).await
    }

    async fn backlog(&self, group: &str) -> Result<Option<u64>, Error> {
        let span = tracing::debug_span!("bus.backlog", group);
        backlog::backlog(&self.core, group)
            .instrument(span)
            .await
            .map(Some)
    }

    async fn close(&self) -> Result<(), Error> {
        let core = &self.core;
        let _closing = core.life.lock_close().await;
        if core.life.is_closed() {
            return Ok(());
        }
        async {
            core.life.begin_drain();
            core.draining.cancel();
            let deadline = tokio::time::Instant::now() + core.config.drain_timeout;
            let mut unfinished = Vec::new();
            let mut late = false;
            for mut pump in core.take_pumps() {
                if !late {
                    match tokio::time::timeout_at(deadline, &mut pump).await {
                        Ok(result) => {
                            log_join(result);
                            continue;
                        }
                        Err(_) => {
                            tracing::warn!(
                                timeout = ?core.config.drain_timeout,
                                "nats bus closed with deliveries still unsettled"
                            );
                            late = true;
                        }
                    }
                }
                unfinished.push(pump);
            }
            core.life.close();
            core.ended.cancel();
            for pump in unfinished {
                log_join(pump.await);
            }
            if let Err(error) = core.client.flush().await {
                tracing::debug!(%error, "flushing the last acks failed");
            }
            if core.config.temporary
                && let Err(error) = setup::delete_stream(core).await
            {
                tracing::warn!(%error, stream = %core.config.stream, "deleting the temporary stream failed");
            }
            if let Err(error) = core.client.drain().await {
                tracing::debug!(%error, "closing the connection failed");
            }
        }
        .instrument(tracing::debug_span!("bus.close"))
        .await;
        Ok(())
    }
}

impl NatsBus {
    async fn open_subscription(&self, options: SubscribeOptions) -> Result<Subscription, Error> {
        options.validate()?;
        let core = &self.core;
        if !core.life.is_open() {
            return Err(Error::Closed);
        }
        let group = setup::ensure_consumer(core, &options).await?;
        let inbox = core.client.new_inbox();
        let subscriber = core
            .client
            .subscribe(format!("{inbox}.*"))
            .await
            .map_err(|e| errors::backend(true, e))?;
        let (tx, rx) = mpsc::channel(options.max_in_flight);
        let credit = Arc::new(Credit::new(core.config.acked_memory));
        let mut connected = core.connected.clone();
        connected.borrow_and_update();
        let pump = Pump {
            core: Arc::clone(core),
            credit: Arc::clone(&credit),
            tx,
            inbox_prefix: format!("{inbox}."),
            inbox: subscriber,
            next_subject: format!(
                "$JS.API.CONSUMER.MSG.NEXT.{}.{}",
                core.config.stream, group.consumer
            ),
            matcher: group.matcher,
            group: options.group.as_str().into(),
            max_in_flight: options.max_in_flight,
            max_attempts: options.max_attempts,
            ack_wait: group.ack_wait,
            pulls: Pulls::new(core.config.pull_expires),
            connected,
        };
        core.track(tokio::spawn(pump.run()));
        let stream = DeliveryStream { rx, credit };
        Ok(Subscription::new(Box::pin(stream)))
    }
}

fn log_join(result: Result<(), tokio::task::JoinError>) {
    if let Err(error) = result
        && !error.is_cancelled()
    {
        tracing::warn!(%error, "nats subscription task failed");
    }
}
