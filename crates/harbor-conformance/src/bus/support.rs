//! What the cases share: a fresh bus in a fresh namespace, and ways to wait with deadlines.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use harbor_distributed::{
    Capabilities, Delivery, Envelope, Error, Identity, IdentityScope, MessageBus, PublishReceipt,
    SubscribeOptions, Subscription,
};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::cases::WAIT;
use super::{BusFactory, Namespace};

/// A case's bus, capabilities and namespace.
pub(crate) struct Ctx {
    pub(crate) bus: Arc<dyn MessageBus>,
    pub(crate) caps: Capabilities,
    pub(crate) ns: Namespace,
}

impl Ctx {
    pub(crate) async fn open(factory: &dyn BusFactory) -> Self {
        let bus = factory.open().await;
        let caps = bus.capabilities();
        Self {
            bus,
            caps,
            ns: Namespace::random(),
        }
    }

    /// Prints why an optional case does not run; true when it should.
    pub(crate) fn requires(&self, declared: bool, capability: &str, case: &str) -> bool {
        if !declared {
            println!("skipped {case}: the driver does not declare the `{capability}` capability");
        }
        declared
    }

    pub(crate) fn edge(&self, name: &str) -> String {
        self.ns.edge(name)
    }

    pub(crate) fn group(&self, name: &str) -> String {
        self.ns.group(name)
    }

    pub(crate) fn tenant(&self, name: &str) -> String {
        self.ns.tenant(name)
    }

    /// A complete identity in tenant `name` of the namespace.
    pub(crate) fn identity(&self, tenant: &str) -> Identity {
        Identity {
            tenant: self.tenant(tenant).into(),
            user: "user-1".into(),
            session: "session-1".into(),
            run: None,
        }
    }

    /// Envelope number `i` on `edge` for tenant `a`: event id `ev-<i>`, payload `<i>`.
    pub(crate) fn envelope(&self, edge: &str, i: usize) -> Envelope {
        Envelope::new(edge, self.identity("a"), event_id(i), i.to_string())
            .with_task(format!("task-{}", self.ns.id()))
    }

    /// Options for `edges` in group `group` of the namespace, scoped to tenant `a`.
    pub(crate) fn options(&self, edges: &[&str], group: &str) -> SubscribeOptions {
        SubscribeOptions::new(
            edges.iter().map(|e| (*e).to_owned()),
            self.group(group),
            IdentityScope::Tenant(self.tenant("a")),
        )
    }

    pub(crate) async fn subscribe(&self, options: SubscribeOptions) -> Subscription {
        let what = format!("subscribe to {:?} in {:?}", options.edges, options.group);
        match within(&what, self.bus.subscribe(options)).await {
            Ok(sub) => sub,
            Err(error) => panic!("{what} failed: {error}"),
        }
    }

    pub(crate) async fn publish(&self, envelope: Envelope) -> PublishReceipt {
        let what = format!("publish {} on {}", envelope.event_id, envelope.edge);
        match within(&what, self.bus.publish(envelope)).await {
            Ok(receipt) => receipt,
            Err(error) => panic!("{what} failed: {error}"),
        }
    }

    pub(crate) async fn close(&self) {
        if let Err(error) = within("close", self.bus.close()).await {
            panic!("close failed: {error}");
        }
    }
}

/// `ev-<i>`, zero-padded so ids sort in publish order.
pub(crate) fn event_id(i: usize) -> String {
    format!("ev-{i:06}")
}

/// Awaits `future`, failing the case after [`WAIT`].
pub(crate) async fn within<F: std::future::Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(WAIT, future).await {
        Ok(out) => out,
        Err(_) => panic!("{what}: nothing happened within {WAIT:?}"),
    }
}

/// The next delivery, failing the case on an error, an ended stream or a timeout.
pub(crate) async fn next(sub: &mut Subscription, what: &str) -> Delivery {
    match within(what, sub.next()).await {
        Some(Ok(delivery)) => delivery,
        Some(Err(error)) => panic!("{what}: the subscription yielded an error: {error}"),
        None => panic!("{what}: the subscription ended"),
    }
}

/// Waits until the subscription ends (after `close`), failing on any further delivery.
pub(crate) async fn expect_end(sub: &mut Subscription, what: &str) {
    match within(what, sub.next()).await {
        None => {}
        Some(Ok(d)) => panic!(
            "{what}: expected the subscription to end, got {} (attempt {})",
            d.envelope().event_id,
            d.attempt()
        ),
        Some(Err(error)) => panic!("{what}: expected the end, got the error {error}"),
    }
}

pub(crate) fn ack_error(what: &str, result: Result<(), Error>) {
    if let Err(error) = result {
        panic!("{what}: settling failed: {error}");
    }
}

/// One delivery a [`Collector`] saw.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) envelope: Arc<Envelope>,
    pub(crate) attempt: u32,
}

#[derive(Default)]
struct Shared {
    seen: Mutex<Vec<Seen>>,
    errors: Mutex<Vec<String>>,
    changed: Notify,
}

/// Consumes a subscription on its own task, acking everything, and records what it saw.
pub(crate) struct Collector {
    name: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Collector {
    /// Starts consuming `sub`; `name` appears in failure messages.
    pub(crate) fn spawn(name: &str, sub: Subscription) -> Self {
        Self::spawn_with(name, sub, Duration::ZERO)
    }

    /// Like [`spawn`](Self::spawn), working `work` long on each delivery before the ack.
    pub(crate) fn spawn_with(name: &str, mut sub: Subscription, work: Duration) -> Self {
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn({
            let shared = Arc::clone(&shared);
            async move {
                while let Some(item) = sub.next().await {
                    match item {
                        Ok(delivery) => {
                            let seen = Seen {
                                envelope: Arc::clone(delivery.shared_envelope()),
                                attempt: delivery.attempt(),
                            };
                            if !work.is_zero() {
                                tokio::time::sleep(work).await;
                            }
                            if let Err(error) = delivery.ack().await {
                                lock(&shared.errors).push(format!("ack failed: {error}"));
                            }
                            lock(&shared.seen).push(seen);
                        }
                        Err(error) => lock(&shared.errors).push(format!("stream error: {error}")),
                    }
                    shared.changed.notify_waiters();
                }
                shared.changed.notify_waiters();
            }
        });
        Self {
            name: name.to_owned(),
            shared,
            task,
        }
    }

    /// Distinct event ids seen so far.
    pub(crate) fn distinct(&self) -> HashSet<String> {
        lock(&self.shared.seen)
            .iter()
            .map(|s| s.envelope.event_id.clone())
            .collect()
    }

    /// Waits until `done` holds for what was seen.
    pub(crate) async fn wait_until(&self, what: &str, done: impl Fn(&[Seen]) -> bool) {
        let wait = async {
            loop {
                let changed = self.shared.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if done(&lock(&self.shared.seen)) {
                    return;
                }
                changed.await;
            }
        };
        if tokio::time::timeout(WAIT, wait).await.is_err() {
            let seen = lock(&self.shared.seen).len();
            let errors = lock(&self.shared.errors).clone();
            panic!(
                "{}: {what}: not reached within {WAIT:?} ({seen} deliveries seen, errors: {errors:?})",
                self.name
            );
        }
    }

    /// Waits until `n` distinct event ids were seen.
    pub(crate) async fn wait_distinct(&self, n: usize) {
        let what = format!("waiting for {n} distinct envelopes");
        self.wait_until(&what, |seen| {
            seen.iter()
                .map(|s| &s.envelope.event_id)
                .collect::<HashSet<_>>()
                .len()
                >= n
        })
        .await;
    }

    /// Waits for the subscription to end (the bus was closed) and returns everything seen.
    pub(crate) async fn finish(self) -> Vec<Seen> {
        let what = format!("{}: the subscription did not end after close", self.name);
        match within(&what, self.task).await {
            Ok(()) => {}
            Err(error) => panic!("{}: consumer task failed: {error}", self.name),
        }
        let errors = lock(&self.shared.errors).clone();
        assert!(errors.is_empty(), "{}: {errors:?}", self.name);
        lock(&self.shared.seen).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts of each event id.
pub(crate) fn counts(seen: &[Seen]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for s in seen {
        *out.entry(s.envelope.event_id.clone()).or_insert(0) += 1;
    }
    out
}

/// Fails unless `seen` holds exactly the event ids `want` (each at least once).
pub(crate) fn assert_ids(who: &str, seen: &[Seen], want: impl IntoIterator<Item = String>) {
    let want: HashSet<String> = want.into_iter().collect();
    let got: HashSet<String> = seen.iter().map(|s| s.envelope.event_id.clone()).collect();
    let missing: Vec<_> = want.difference(&got).take(5).collect();
    let extra: Vec<_> = got.difference(&want).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{who}: expected {} envelopes, got {}; missing (first 5) {missing:?}, unexpected (first 5) {extra:?}",
        want.len(),
        got.len()
    );
}
