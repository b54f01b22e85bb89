//! What a bus and its subscriptions share: the connection, the ack queue and the life
//! cycle ([`Inner`], its [`Lifecycle`]), and each
//! subscription's state ([`Sub`]: its place in a consumer group, the entries it fetched and
//! its in-flight window, with the [`Lease`] of each delivery it handed out).
//!
//! The bottom of the bus: it imports only the configuration, the connection helpers and the
//! publisher's queue item. The reader, janitor, settler, acker, trimmer and backlog work
//! on it; `subscription` opens a [`Sub`] and hands out its deliveries; the facade
//! ([`RedisBus`](crate::RedisBus)) builds the [`Inner`] and closes it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use harbor_distributed::kit::{self, Lifecycle, lock};
use harbor_distributed::{Envelope, Error, IdentityScope, SubscribeOptions};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{RedisBusConfig, redact};
use crate::errors::backend;
use crate::publish::PublishRequest;
use crate::reply::Entry;
use harbor_distributed::frame;

/// What the bus's tasks share.
pub(crate) struct Inner {
    pub(crate) config: RedisBusConfig,
    pub(crate) client: redis::Client,
    pub(crate) conn: RwLock<Option<ConnectionManager>>,
    pub(crate) acks: Mutex<Option<mpsc::UnboundedSender<AckRequest>>>,
    /// Deduplicating publishes, batched by
    /// [`publish::spawn`](crate::publish::spawn).
    pub(crate) publishes: mpsc::UnboundedSender<PublishRequest>,
    /// Cancelled at close: the publisher stores what is queued and ends.
    pub(crate) stop_publishing: CancellationToken,
    pub(crate) publisher: TaskTracker,
    /// Open, draining or closed, and the lock that serializes `close`.
    pub(crate) life: Lifecycle,
    /// Cancelled when the bus has ended: every task stops.
    pub(crate) cancel: CancellationToken,
    /// A subscription finished draining.
    pub(crate) drained: Notify,
    pub(crate) consumer: String,
    pub(crate) next_sub: AtomicU64,
    pub(crate) subs: Mutex<Vec<Arc<Sub>>>,
    pub(crate) tasks: Mutex<Vec<JoinHandle<()>>>,
    pub(crate) acker: Mutex<Option<JoinHandle<()>>>,
    /// Streams read through this bus: the trimmer's work list.
    pub(crate) streams: Mutex<HashSet<String>>,
    pub(crate) persistent: bool,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus")
            .field("server", &redact(&self.config.server))
            .field("prefix", &self.config.prefix)
            .field("consumer", &self.consumer)
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// The shared connection (multiplexed, reconnecting), or `Closed` after close.
    pub(crate) fn conn(&self) -> Result<ConnectionManager, Error> {
        kit::read(&self.conn).clone().ok_or(Error::Closed)
    }

    /// Queues an ack for the batcher; `None` once the bus has ended.
    pub(crate) fn send_ack(&self, request: AckRequest) -> Result<(), Error> {
        match &*lock(&self.acks) {
            Some(tx) => tx.send(request).map_err(|_| Error::Closed),
            None => Err(Error::Closed),
        }
    }

    /// A connection of its own for one subscription's blocking reads: its reply timeout
    /// covers the `BLOCK` time (redis-rs's default of 500 ms would cut every idle read).
    pub(crate) async fn reader_connection(&self) -> Result<ConnectionManager, Error> {
        connect(
            &self.client,
            self.config.block + self.config.response_timeout,
            self.config.response_timeout,
        )
        .await
    }

    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task);
        let mut tasks = lock(&self.tasks);
        tasks.retain(|t| !t.is_finished());
        tasks.push(handle);
    }

    pub(crate) fn consumer_name(&self) -> String {
        format!(
            "{}-{}",
            self.consumer,
            self.next_sub.fetch_add(1, Ordering::Relaxed)
        )
    }

    pub(crate) fn register(&self, sub: &Arc<Sub>) {
        lock(&self.subs).push(Arc::clone(sub));
    }
}

pub(crate) async fn connect(
    client: &redis::Client,
    response: Duration,
    connect: Duration,
) -> Result<ConnectionManager, Error> {
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(response))
        .set_connection_timeout(Some(connect))
        .set_number_of_retries(3)
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_with_config(client.clone(), config)
        .await
        .map_err(backend)
}

/// One id to acknowledge; `done` hears the outcome (skipped entries need no answer).
pub(crate) struct AckRequest {
    pub(crate) key: Arc<str>,
    pub(crate) group: Arc<str>,
    pub(crate) id: String,
    /// Also `XDEL` it (retry streams, read by this group only).
    pub(crate) delete: bool,
    pub(crate) done: Option<oneshot::Sender<Result<(), Error>>>,
    /// The delivery's in-flight slot, freed once the ack is confirmed.
    pub(crate) lease: Option<Arc<Lease>>,
}

/// An entry fetched for this subscription and not yet handed out.
pub(crate) struct Fetched {
    pub(crate) idx: usize,
    pub(crate) id: String,
    /// The server's delivery count for it.
    pub(crate) count: u32,
    pub(crate) base: u32,
    pub(crate) envelope: Arc<Envelope>,
    /// When the read or claim that fetched it was sent: its lease runs from then.
    pub(crate) sent: Instant,
}

/// The shared state of one subscription.
pub(crate) struct Sub {
    pub(crate) bus: Arc<Inner>,
    /// The Redis consumer group (name and scope).
    pub(crate) group: Arc<str>,
    pub(crate) consumer: Arc<str>,
    /// The streams it reads: one per distinct edge prefix, then the group's retry stream.
    pub(crate) keys: Vec<Arc<str>>,
    pub(crate) delay_key: String,
    pub(crate) patterns: Vec<String>,
    pub(crate) scope: IdentityScope,
    pub(crate) max_in_flight: usize,
    pub(crate) visibility: Duration,
    pub(crate) max_attempts: u32,
    queue: Mutex<VecDeque<Fetched>>,
    /// Delivery count per (stream, id) fetched and not settled: tells stale copies apart.
    pub(crate) ledger: Mutex<HashMap<(usize, String), (u32, Instant)>>,
    pub(crate) held: AtomicUsize,
    /// Something for the stream: an entry was queued, or the subscription ended.
    pub(crate) changed: Notify,
    /// Something for the reader: room freed, a phase change, the stream dropped.
    pub(crate) room: Notify,
    /// Something for the janitor: a delayed retry to move.
    pub(crate) janitor_wake: Notify,
    pub(crate) next_move: Mutex<Option<tokio::time::Instant>>,
    /// The stream was dropped.
    pub(crate) dropped: CancellationToken,
    done: AtomicBool,
    /// The in-flight window: a delivery handed out holds one permit.
    pub(crate) permits: Arc<Semaphore>,
}

impl Sub {
    /// The state of a new member `consumer` of `group`, reading `keys` (its streams, then
    /// the group's retry stream) for `options`.
    pub(crate) fn new(
        bus: Arc<Inner>,
        group: &str,
        consumer: String,
        keys: Vec<Arc<str>>,
        delay_key: String,
        patterns: Vec<String>,
        options: &SubscribeOptions,
    ) -> Self {
        Self {
            bus,
            group: group.into(),
            consumer: consumer.into(),
            keys,
            delay_key,
            patterns,
            scope: options.scope.clone(),
            max_in_flight: options.max_in_flight,
            visibility: options.visibility_timeout,
            max_attempts: options.max_attempts,
            queue: Mutex::new(VecDeque::new()),
            ledger: Mutex::new(HashMap::new()),
            held: AtomicUsize::new(0),
            changed: Notify::new(),
            room: Notify::new(),
            janitor_wake: Notify::new(),
            next_move: Mutex::new(None),
            dropped: CancellationToken::new(),
            done: AtomicBool::new(false),
            permits: Arc::new(Semaphore::new(options.max_in_flight)),
        }
    }

    pub(crate) fn retry_idx(&self) -> usize {
        self.keys.len() - 1
    }

    /// Room for more fetched entries: the in-flight limit less what is held or queued.
    pub(crate) fn room(&self) -> usize {
        let queued = lock(&self.queue).len();
        self.max_in_flight
            .saturating_sub(self.held.load(Ordering::Acquire) + queued)
    }

    pub(crate) fn idle(&self) -> bool {
        self.held.load(Ordering::Acquire) == 0 && lock(&self.queue).is_empty()
    }

    /// Whether an entry of another tenant or edge is for this subscription's group.
    pub(crate) fn admits(&self, envelope: &Envelope) -> bool {
        self.scope.admits(&envelope.identity.tenant)
            && self
                .patterns
                .iter()
                .any(|p| harbor_distributed::edge::matches(p, &envelope.edge))
    }

    /// Queues an entry fetched with delivery count `count`; returns false (after acking it
    /// away) when it is not for this group.
    pub(crate) fn accept(&self, idx: usize, entry: Entry, count: u32, sent: Instant) -> bool {
        let retry = idx == self.retry_idx();
        let envelope = match entry.data.clone().map(frame::decode) {
            Some(Ok(envelope)) if retry || self.admits(&envelope) => envelope,
            Some(Err(error)) => {
                tracing::warn!(%error, id = %entry.id, "dropping an undecodable stream entry");
                self.ack_away(idx, entry.id);
                return false;
            }
            _ => {
                self.ack_away(idx, entry.id);
                return false;
            }
        };
        lock(&self.ledger).insert((idx, entry.id.clone()), (count, sent));
        lock(&self.queue).push_back(Fetched {
            idx,
            id: entry.id,
            count,
            base: entry.base,
            envelope: Arc::new(envelope),
            sent,
        });
        true
    }

    /// Acks an entry this group skips (another tenant, another edge), without waiting.
    pub(crate) fn ack_away(&self, idx: usize, id: String) {
        let _ = self.bus.send_ack(AckRequest {
            key: Arc::clone(&self.keys[idx]),
            group: Arc::clone(&self.group),
            id,
            delete: idx == self.retry_idx(),
            done: None,
            lease: None,
        });
    }

    pub(crate) fn notify_queued(&self) {
        self.changed.notify_waiters();
    }

    /// Takes every queued entry out (to release them); stale copies are dropped.
    pub(crate) fn take_queue(&self) -> Vec<Fetched> {
        let items: Vec<Fetched> = lock(&self.queue).drain(..).collect();
        let ledger = lock(&self.ledger);
        items
            .into_iter()
            .filter(|f| ledger.get(&(f.idx, f.id.clone())).map(|l| l.0) == Some(f.count))
            .collect()
    }

    /// The next queued entry that is still this subscription's to hand out.
    pub(crate) fn pop(&self) -> Option<Fetched> {
        let mut queue = lock(&self.queue);
        while let Some(f) = queue.pop_front() {
            let current = lock(&self.ledger).get(&(f.idx, f.id.clone())).map(|l| l.0);
            if current == Some(f.count) {
                return Some(f);
            }
        }
        None
    }

    /// Wakes the reader and janitor (a phase change, a dropped stream).
    pub(crate) fn wake(&self) {
        self.room.notify_one();
        self.janitor_wake.notify_one();
        self.changed.notify_waiters();
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// The reader stopped: the stream ends once its queue is empty.
    pub(crate) fn mark_done(&self) {
        self.done.store(true, Ordering::Release);
        self.changed.notify_waiters();
        self.bus.drained.notify_waiters();
    }

    /// The bus ended: no more deliveries.
    pub(crate) fn end(&self) {
        self.permits.close();
        self.mark_done();
    }
}

/// One delivery's place in the in-flight window. Released once: by the acker task as soon
/// as the server confirmed the ack (a caller may poll its ack future much later), or when
/// the delivery is dropped.
pub(crate) struct Lease {
    sub: Arc<Sub>,
    permit: Mutex<Option<OwnedSemaphorePermit>>,
}

impl Lease {
    /// The lease of a delivery of `sub` holding `permit` of its window.
    pub(crate) fn new(sub: Arc<Sub>, permit: OwnedSemaphorePermit) -> Self {
        Self {
            sub,
            permit: Mutex::new(Some(permit)),
        }
    }

    pub(crate) fn release(&self) {
        if lock(&self.permit).take().is_some() {
            self.sub.held.fetch_sub(1, Ordering::AcqRel);
            self.sub.room.notify_one();
        }
    }
}
