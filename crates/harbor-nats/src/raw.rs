//! The raw JetStream baseline for `harbor bench bus`: the same work as the driver, done
//! with `async-nats` alone (no Harbor code on the timed path), so the bench can report the
//! driver as a ratio of what the engine and client can do on this machine.
//!
//! Each message carries a `Nats-Msg-Id`, as the driver's do: publish dedup is part of the
//! work the driver must do, and the server's dedup bookkeeping is most of what a publish
//! costs beyond the bare append (without the id the raw rate is ~1.4x higher here).
//!
//! Every function works in a fresh stream with a random name and subject, and deletes it
//! before returning. The URL is parsed like the driver's (server, user, password, token;
//! other parameters are ignored).

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, stream};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use harbor_distributed::Error;

use crate::config::NatsBusConfig;
use crate::errors;

/// A random stream and subject on a fresh connection.
struct Scratch {
    client: async_nats::Client,
    js: jetstream::Context,
    stream: String,
    subject: String,
}

impl Scratch {
    async fn create(url: &str) -> Result<Self, Error> {
        let config = NatsBusConfig::from_url(url)?;
        let mut options = async_nats::ConnectOptions::new().name("harbor-raw-bench");
        if let (Some(user), Some(password)) = (config.user, config.password) {
            options = options.user_and_password(user, password);
        }
        if let Some(token) = config.token {
            options = options.token(token);
        }
        let client = options
            .connect(config.server.as_str())
            .await
            .map_err(|e| errors::backend(true, e))?;
        let js = jetstream::new(client.clone());
        let id = uuid::Uuid::new_v4().simple().to_string();
        let scratch = Self {
            client,
            js,
            stream: format!("RAW_{id}"),
            subject: format!("raw{id}.bench"),
        };
        scratch
            .js
            .create_stream(stream::Config {
                name: scratch.stream.clone(),
                subjects: vec![scratch.subject.clone()],
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(errors::api)?;
        Ok(scratch)
    }

    /// Publishes `messages` bodies, each with its own `Nats-Msg-Id`, with up to `window`
    /// acks outstanding.
    async fn fill(&self, messages: u64, payload: usize, window: usize) -> Result<(), Error> {
        let body = Bytes::from(vec![0x5a_u8; payload]);
        type Ack = <jetstream::context::PublishAckFuture as std::future::IntoFuture>::IntoFuture;
        let mut acks: FuturesUnordered<Ack> = FuturesUnordered::new();
        for i in 0..messages {
            if acks.len() >= window.max(1)
                && let Some(ack) = acks.next().await
            {
                ack.map_err(errors::api)?;
            }
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", format!("{}-{i}", self.stream).as_str());
            let ack = self
                .js
                .publish_with_headers(self.subject.clone(), headers, body.clone())
                .await
                .map_err(errors::api)?;
            acks.push(std::future::IntoFuture::into_future(ack));
        }
        while let Some(ack) = acks.next().await {
            ack.map_err(errors::api)?;
        }
        Ok(())
    }

    async fn remove(self) {
        if let Err(error) = self.js.delete_stream(&self.stream).await {
            tracing::warn!(%error, stream = %self.stream, "raw bench: deleting the stream failed");
        }
        let _ = self.client.drain().await;
    }
}

/// Durably publishes `messages` bodies of `payload` bytes with up to `window` publish acks
/// outstanding; returns the elapsed time.
pub async fn publish(
    url: &str,
    messages: u64,
    payload: usize,
    window: usize,
) -> Result<Duration, Error> {
    let scratch = Scratch::create(url).await?;
    let started = Instant::now();
    let result = scratch.fill(messages, payload, window).await;
    let elapsed = started.elapsed();
    scratch.remove().await;
    result.map(|()| elapsed)
}

/// Preloads `messages` bodies (untimed), then times consuming and acking all of them through
/// a durable pull consumer (`messages()`, explicit `ack()` per message).
pub async fn consume(url: &str, messages: u64, payload: usize) -> Result<Duration, Error> {
    let scratch = Scratch::create(url).await?;
    let result = async {
        scratch.fill(messages, payload, 256).await?;
        let stream = scratch
            .js
            .get_stream(&scratch.stream)
            .await
            .map_err(errors::api)?;
        let consumer: consumer::PullConsumer = stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some("raw".to_owned()),
                ack_policy: consumer::AckPolicy::Explicit,
                ..Default::default()
            })
            .await
            .map_err(errors::api)?;
        let started = Instant::now();
        let mut incoming = consumer.messages().await.map_err(errors::api)?;
        let mut seen = 0;
        while seen < messages {
            match incoming.next().await {
                Some(Ok(message)) => {
                    message.ack().await.map_err(|e| errors::backend(true, e))?;
                    seen += 1;
                }
                Some(Err(error)) => return Err(errors::api(error)),
                None => return Err(errors::backend(true, "the consumer's stream ended")),
            }
        }
        Ok(started.elapsed())
    }
    .await;
    scratch.remove().await;
    result
}

/// Publishes `samples` bodies one at a time, each awaited; returns each one's latency.
pub async fn publish_latency(
    url: &str,
    samples: u64,
    payload: usize,
) -> Result<Vec<Duration>, Error> {
    let scratch = Scratch::create(url).await?;
    let body = Bytes::from(vec![0x5a_u8; payload]);
    let mut latencies = Vec::with_capacity(usize::try_from(samples).unwrap_or(0));
    let result = async {
        for _ in 0..samples {
            let started = Instant::now();
            scratch
                .js
                .publish(scratch.subject.clone(), body.clone())
                .await
                .map_err(errors::api)?
                .await
                .map_err(errors::api)?;
            latencies.push(started.elapsed());
        }
        Ok(())
    }
    .await;
    scratch.remove().await;
    result.map(|()| latencies)
}
