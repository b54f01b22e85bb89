//! One subscription: its place in a Redis consumer group, the entries it fetched, and the
//! stream of deliveries it hands out.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use harbor_distributed::{
    Delivery, Envelope, Error, IdentityScope, StartPosition, SubscribeOptions, Subscription,
};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::backend::backend;
use crate::bus::{Inner, OPEN, lock};
use crate::reply::Entry;
use crate::settle::Settler;
use crate::{janitor, keys, reader, reply};
use harbor_distributed::frame;

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
    changed: Notify,
    /// Something for the reader: room freed, a phase change, the stream dropped.
    pub(crate) room: Notify,
    /// Something for the janitor: a delayed retry to move.
    pub(crate) janitor_wake: Notify,
    pub(crate) next_move: Mutex<Option<tokio::time::Instant>>,
    /// The stream was dropped.
    pub(crate) dropped: CancellationToken,
    done: AtomicBool,
    permits: Arc<Semaphore>,
}

impl Sub {
    pub(crate) async fn open(
        bus: &Arc<Inner>,
        options: SubscribeOptions,
    ) -> Result<Subscription, Error> {
        options.validate()?;
        if bus.phase() != OPEN {
            return Err(Error::Closed);
        }
        let prefix = &bus.config.prefix;
        let mut patterns = options.edges.clone();
        patterns.sort();
        patterns.dedup();
        let mut streams: Vec<String> = Vec::new();
        for p in &patterns {
            let key = keys::stream_of_pattern(prefix, p)?;
            if !streams.contains(&key) {
                streams.push(key);
            }
        }
        let group = keys::group_name(&options.group, &options.scope);
        let mut conn = bus.conn()?;
        let registered = patterns.join(" ");
        let hash = keys::groups_hash(prefix);
        let (_, existing): (bool, String) = redis::pipe()
            .cmd("HSETNX")
            .arg(&hash)
            .arg(&group)
            .arg(&registered)
            .cmd("HGET")
            .arg(&hash)
            .arg(&group)
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        if existing != registered {
            return Err(Error::InvalidArgument(format!(
                "consumer group {:?} already subscribes to {existing:?}; its members must subscribe to the same edges",
                options.group
            )));
        }
        let start = match options.start {
            StartPosition::New => "$".to_owned(),
            StartPosition::Earliest => "0".to_owned(),
            StartPosition::Sequence(n) => reply::id_before(n),
        };
        let retry = keys::retry_stream(prefix, &group);
        for (key, from) in streams
            .iter()
            .map(|k| (k, start.as_str()))
            .chain([(&retry, "0")])
        {
            let created = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(key)
                .arg(&group)
                .arg(from)
                .arg("MKSTREAM")
                .query_async::<()>(&mut conn)
                .await;
            if let Err(e) = created
                && e.code() != Some("BUSYGROUP")
            {
                return Err(backend(e));
            }
        }
        let reader_conn = bus.reader_connection().await?;
        lock(&bus.streams).extend(streams.iter().cloned());
        let keys: Vec<Arc<str>> = streams.into_iter().chain([retry]).map(Arc::from).collect();
        let sub = Arc::new(Sub {
            bus: Arc::clone(bus),
            group: group.as_str().into(),
            consumer: bus.consumer_name().into(),
            keys,
            delay_key: keys::delay_set(prefix, &group),
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
        });
        bus.register(&sub);
        bus.spawn(reader::run(Arc::clone(&sub), reader_conn));
        bus.spawn(janitor::run(Arc::clone(&sub)));
        Ok(Subscription::new(Box::pin(deliveries(sub))))
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
        let _ = self.bus.send_ack(crate::acker::AckRequest {
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

    fn pop(&self) -> Option<Fetched> {
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
    pub(crate) fn release(&self) {
        if lock(&self.permit).take().is_some() {
            self.sub.held.fetch_sub(1, Ordering::AcqRel);
            self.sub.room.notify_one();
        }
    }
}

/// Cancels the subscription's tasks when its stream is dropped.
struct DropGuard(Arc<Sub>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.dropped.cancel();
        self.0.wake();
    }
}

fn deliveries(
    sub: Arc<Sub>,
) -> impl futures::Stream<Item = Result<Delivery, Error>> + Send + 'static {
    futures::stream::unfold(DropGuard(sub), |guard| async move {
        let sub = Arc::clone(&guard.0);
        let permit = Arc::clone(&sub.permits).acquire_owned().await.ok()?;
        loop {
            let changed = sub.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(f) = sub.pop() {
                sub.held.fetch_add(1, Ordering::AcqRel);
                let attempt = f.base + f.count;
                let envelope = Arc::clone(&f.envelope);
                let lease = Arc::new(Lease {
                    sub: Arc::clone(&sub),
                    permit: Mutex::new(Some(permit)),
                });
                let settler = Settler::new(Arc::clone(&sub), f, lease);
                let delivery = Delivery::from_shared(envelope, attempt, Box::new(settler));
                return Some((Ok(delivery), guard));
            }
            if sub.is_done() {
                return None;
            }
            changed.await;
        }
    })
}
