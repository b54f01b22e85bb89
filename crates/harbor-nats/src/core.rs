//! What a bus and its subscriptions share: the connection, the layout, the life cycle, and
//! the publish path.

use std::sync::Mutex;
use std::time::Duration;

use async_nats::client::Request;
use async_nats::jetstream::publish::PublishAck;
use async_nats::jetstream::response::Response;
use async_nats::{Client, HeaderMap};
use harbor_distributed::bus::dead_letter;
use harbor_distributed::kit::{self, Lifecycle, Phase};
use harbor_distributed::{Envelope, Error, PublishReceipt};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::NatsBusConfig;
use crate::errors;
use crate::layout::{self, Layout};
use harbor_distributed::frame;

/// The shared state of one bus.
pub(crate) struct Core {
    pub(crate) config: NatsBusConfig,
    pub(crate) client: Client,
    pub(crate) layout: Layout,
    pub(crate) max_payload: usize,
    /// Most bytes the server takes in one message.
    server_max: usize,
    /// Open, draining or closed, and the lock that serializes `close`.
    pub(crate) life: Lifecycle,
    /// Cancelled when `close` starts: subscriptions stop waiting and drain their backlog.
    pub(crate) draining: CancellationToken,
    /// Cancelled when the bus ends: subscriptions stop at once.
    pub(crate) ended: CancellationToken,
    /// Raised on every (re)connection: the server forgets pull requests with a connection.
    pub(crate) connected: watch::Receiver<u64>,
    pub(crate) pumps: Mutex<Vec<JoinHandle<()>>>,
}

impl Core {
    pub(crate) fn new(
        config: NatsBusConfig,
        client: Client,
        connected: watch::Receiver<u64>,
    ) -> Self {
        let server_max = client.server_info().max_payload;
        // The envelope's other fields travel in the body too: keep room for them.
        let max_payload = config
            .max_payload
            .unwrap_or_else(|| server_max.saturating_sub(64 * 1024))
            .min(server_max);
        Self {
            layout: Layout::new(&config.prefix),
            config,
            client,
            max_payload,
            server_max,
            life: Lifecycle::new(),
            draining: CancellationToken::new(),
            ended: CancellationToken::new(),
            connected,
            pumps: Mutex::new(Vec::new()),
        }
    }

    /// Stores `envelope` durably: returns once the stream acknowledged it. `force` is for
    /// dead letters, still published while the bus drains.
    pub(crate) async fn store(
        &self,
        envelope: &Envelope,
        force: bool,
    ) -> Result<PublishReceipt, Error> {
        let phase = self.life.phase();
        if phase == Phase::Closed || (phase == Phase::Draining && !force) {
            return Err(Error::Closed);
        }
        envelope.check_publishable(self.max_payload)?;
        let body = frame::encode(envelope);
        if body.len() + 256 > self.server_max {
            return Err(Error::InvalidEnvelope(format!(
                "the envelope's fields and payload take {} bytes; the server takes at most {}",
                body.len(),
                self.server_max
            )));
        }
        let id = layout::message_id(envelope);
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", id.as_str());
        let request = Request::new()
            .headers(headers)
            .payload(body)
            .timeout(Some(self.config.publish_timeout));
        let answer = self
            .client
            .send_request(self.layout.subject(envelope), request)
            .await
            .map_err(errors::request)?;
        match serde_json::from_slice::<Response<PublishAck>>(&answer.payload) {
            Ok(Response::Ok(ack)) => Ok(PublishReceipt {
                sequence: Some(ack.sequence),
                duplicate: ack.duplicate,
            }),
            Ok(Response::Err { error }) => Err(errors::jetstream(error)),
            Err(error) => Err(errors::backend(
                false,
                format!("the server answered a publish with something else than a PubAck: {error}"),
            )),
        }
    }

    /// Publishes the dead letter of `envelope` from `group`.
    pub(crate) async fn dead_letter(
        &self,
        envelope: &Envelope,
        group: &str,
        attempts: u32,
        reason: &str,
    ) -> Result<(), Error> {
        tracing::debug!(group, edge = %envelope.edge, attempts, reason, "dead-lettering");
        let letter = dead_letter::envelope(envelope.clone(), group, attempts, reason);
        self.store(&letter, true).await.map(|_| ())
    }

    /// Remembers a subscription's task so `close` can wait for it.
    pub(crate) fn track(&self, task: JoinHandle<()>) {
        let mut pumps = kit::lock(&self.pumps);
        pumps.retain(|t| !t.is_finished());
        pumps.push(task);
    }

    pub(crate) fn take_pumps(&self) -> Vec<JoinHandle<()>> {
        std::mem::take(&mut *kit::lock(&self.pumps))
    }
}

/// How long to wait before reconnection attempt `attempt`: doubling from 10 ms up to
/// `max`.
pub(crate) fn reconnect_delay(attempt: usize, max: Duration) -> Duration {
    if attempt <= 1 {
        return Duration::ZERO;
    }
    let exp = u32::try_from(attempt.min(20)).unwrap_or(20);
    Duration::from_millis(10u64.saturating_mul(1u64 << exp.min(16)) / 2).min(max)
}
