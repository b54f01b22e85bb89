//! One subscription's life: joining its consumer group, starting its reader and janitor,
//! and the stream of deliveries it hands out (its shared state is [`Sub`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use harbor_distributed::{Delivery, Error, StartPosition, SubscribeOptions, Subscription};

use crate::acker::Settler;
use crate::core::{Inner, Lease, Sub};
use crate::errors::backend;
use crate::{janitor, keys, reader, reply};
use harbor_distributed::kit::lock;

/// Joins (or creates) the consumer group of `options`, starts the subscription's reader and
/// janitor, and returns its stream of deliveries.
pub(crate) async fn open(
    bus: &Arc<Inner>,
    options: SubscribeOptions,
) -> Result<Subscription, Error> {
    options.validate()?;
    if !bus.life.is_open() {
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
    let sub = Arc::new(Sub::new(
        Arc::clone(bus),
        &group,
        bus.consumer_name(),
        keys,
        keys::delay_set(prefix, &group),
        patterns,
        &options,
    ));
    bus.register(&sub);
    bus.spawn(reader::run(Arc::clone(&sub), reader_conn));
    bus.spawn(janitor::run(Arc::clone(&sub)));
    Ok(Subscription::new(Box::pin(deliveries(sub))))
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
                let lease = Arc::new(Lease::new(Arc::clone(&sub), permit));
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
