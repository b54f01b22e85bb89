//! What every push worker of a server shares: the store, the settings, the HTTP client, the
//! bound on requests in flight, the stop signal and the counters. The dispatcher owns one
//! and lends it to its workers, which need nothing else of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use harbor_distributed::TaskLog;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_util::sync::CancellationToken;

use super::PushConfig;

/// The shared part of push delivery.
pub(super) struct Core {
    store: Arc<dyn TaskLog>,
    config: PushConfig,
    client: reqwest::Client,
    /// Bounds the webhook requests in flight.
    slots: Semaphore,
    stop: CancellationToken,
    counters: Counters,
}

impl Core {
    pub(super) fn new(store: Arc<dyn TaskLog>, config: PushConfig) -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: super::client::client(&config)?,
            slots: Semaphore::new(config.max_in_flight.max(1)),
            store,
            config,
            stop: CancellationToken::new(),
            counters: Counters::default(),
        })
    }

    pub(super) fn store(&self) -> &Arc<dyn TaskLog> {
        &self.store
    }

    pub(super) fn config(&self) -> &PushConfig {
        &self.config
    }

    pub(super) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub(super) fn counters(&self) -> &Counters {
        &self.counters
    }

    /// A place among the requests in flight.
    pub(super) async fn slot(&self) -> Option<SemaphorePermit<'_>> {
        self.slots.acquire().await.ok()
    }

    /// Resolves when delivery stops.
    pub(super) async fn stopped(&self) {
        self.stop.cancelled().await;
    }

    /// Stops every delivery (retries waiting out a backoff end at once).
    pub(super) fn stop(&self) {
        self.stop.cancel();
    }
}

/// Delivery counters.
#[derive(Debug, Default)]
pub struct Counters {
    delivered: AtomicU64,
    failed: AtomicU64,
    dead: AtomicU64,
}

impl Counters {
    pub(super) fn delivered(&self) {
        crate::telemetry::push_attempt("delivered");
        self.delivered.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn failed(&self) {
        crate::telemetry::push_attempt("retry");
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn dead(&self) {
        crate::telemetry::push_attempt("dead");
        self.dead.fetch_add(1, Ordering::Relaxed);
    }

    /// Events answered 2xx.
    pub fn delivered_total(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Attempts that failed and are retried.
    pub fn failed_total(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Deliveries that gave up.
    pub fn dead_total(&self) -> u64 {
        self.dead.load(Ordering::Relaxed)
    }
}
