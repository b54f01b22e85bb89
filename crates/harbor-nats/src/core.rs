//! What a bus and its subscriptions share: the connection, the layout and the life cycle.
//! The publish path lives above it, in `publish`.

use std::sync::Mutex;
use std::time::Duration;

use async_nats::Client;
use harbor_distributed::kit::{self, Lifecycle};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::NatsBusConfig;
use crate::layout::Layout;

/// The shared state of one bus.
pub(crate) struct Core {
    pub(crate) config: NatsBusConfig,
    pub(crate) client: Client,
    pub(crate) layout: Layout,
    pub(crate) max_payload: usize,
    /// Most bytes the server takes in one message.
    pub(crate) server_max: usize,
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
