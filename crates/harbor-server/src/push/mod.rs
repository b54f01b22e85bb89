//! Push delivery: every stored task event is POSTed, as a `StreamResponse`, to each
//! webhook configured for the task.
//!
//! Delivery never fails the RPC that caused it: events are queued (bounded; when the queue
//! is full the event is counted as dropped and logged) and sent by a worker with a
//! per-request timeout. Durable retries arrive with the bus-backed dispatcher.

mod target;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use harbor_a2a::{StreamResponse, TaskPushNotificationConfig};
use harbor_distributed::{Owner, TaskStore};
use tokio::sync::mpsc;
use tracing::{Instrument, debug, warn};

pub use target::{TargetPolicy, check_target};

use crate::runtime::EventObserver;

/// The header carrying a config's `token`.
pub const NOTIFICATION_TOKEN_HEADER: &str = "X-A2A-Notification-Token";

/// Settings of push delivery. Data only.
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// Timeout of one webhook request. Default 10 s.
    pub timeout: Duration,
    /// Events waiting for delivery before new ones are dropped. Default 4096.
    pub queue: usize,
    /// Which webhook addresses are allowed. Default: public addresses only.
    pub targets: TargetPolicy,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            queue: 4096,
            targets: TargetPolicy::PublicOnly,
        }
    }
}

struct Job {
    owner: Owner,
    task_id: String,
    event: StreamResponse,
}

/// Sends webhooks for stored events. Cheap to clone; one worker per dispatcher.
#[derive(Clone)]
pub struct PushDispatcher {
    tx: mpsc::Sender<Job>,
    counters: Arc<Counters>,
}

/// Delivery counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// Webhook requests answered with 2xx.
    pub delivered: AtomicU64,
    /// Webhook requests that failed or were refused.
    pub failed: AtomicU64,
    /// Events dropped because the queue was full.
    pub dropped: AtomicU64,
}

impl std::fmt::Debug for PushDispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushDispatcher")
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl PushDispatcher {
    /// Starts the worker on the current runtime; it reads configs from `store`.
    pub fn start(store: Arc<dyn TaskStore>, config: PushConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let counters = Arc::new(Counters::default());
        let worker = Worker {
            store,
            client,
            policy: config.targets,
            counters: Arc::clone(&counters),
        };
        tokio::spawn(worker.run(rx).instrument(tracing::info_span!("a2a.push")));
        Ok(Self { tx, counters })
    }

    /// The delivery counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
}

impl EventObserver for PushDispatcher {
    fn on_event(&self, owner: &Owner, task_id: &str, event: &StreamResponse) {
        let job = Job {
            owner: owner.clone(),
            task_id: task_id.to_owned(),
            event: event.clone(),
        };
        if self.tx.try_send(job).is_err() {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            warn!(%task_id, "push queue full or closed; event not delivered");
        }
    }
}

struct Worker {
    store: Arc<dyn TaskStore>,
    client: reqwest::Client,
    policy: TargetPolicy,
    counters: Arc<Counters>,
}

impl Worker {
    async fn run(self, mut rx: mpsc::Receiver<Job>) {
        while let Some(job) = rx.recv().await {
            let configs = match self.store.list_push_configs(&job.owner, &job.task_id).await {
                Ok(configs) => configs,
                Err(e) => {
                    debug!(task_id = %job.task_id, error = %e, "no push configs");
                    continue;
                }
            };
            if configs.is_empty() {
                continue;
            }
            let body = match harbor_a2a::to_json_string(&job.event) {
                Ok(body) => body,
                Err(e) => {
                    warn!(error = %e, "push event not serializable");
                    continue;
                }
            };
            for config in &configs {
                let ok = self.deliver(config, &body).await;
                let counter = if ok {
                    &self.counters.delivered
                } else {
                    &self.counters.failed
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// One POST. Logs name the task and config ids, never the URL's credentials or tokens.
    async fn deliver(&self, config: &TaskPushNotificationConfig, body: &str) -> bool {
        let url = match check_target(&config.url, self.policy).await {
            Ok(url) => url,
            Err(why) => {
                warn!(task_id = %config.task_id, config_id = %config.id, %why, "webhook refused");
                return false;
            }
        };
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/a2a+json")
            .body(body.to_owned());
        if let Some(auth) = &config.authentication {
            let value = if auth.credentials.is_empty() {
                auth.scheme.clone()
            } else {
                format!("{} {}", auth.scheme, auth.credentials)
            };
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        if !config.token.is_empty() {
            request = request.header(NOTIFICATION_TOKEN_HEADER, &config.token);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => true,
            Ok(response) => {
                warn!(task_id = %config.task_id, config_id = %config.id, status = %response.status(), "webhook answered an error");
                false
            }
            Err(e) => {
                warn!(task_id = %config.task_id, config_id = %config.id, error = %e.without_url(), "webhook failed");
                false
            }
        }
    }
}
