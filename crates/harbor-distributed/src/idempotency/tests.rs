//! Tests of the deduplicator and of `process`.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::*;
use crate::{Acknowledger, Identity};

fn key(i: usize) -> DedupKey {
    DedupKey {
        task_id: "t".into(),
        edge: "a.b".into(),
        event_id: format!("e{i}"),
    }
}

#[derive(Default)]
struct Counts {
    acks: AtomicUsize,
    nacks: AtomicUsize,
}

struct Recorder(Arc<Counts>);

#[async_trait]
impl Acknowledger for Recorder {
    async fn ack(&self) -> Result<(), Error> {
        self.0.acks.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    async fn nack(&self, _: Duration, _: Option<String>) -> Result<(), Error> {
        self.0.nacks.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn delivery(counts: &Arc<Counts>, event: &str) -> Delivery {
    let identity = Identity::new("t", "u", "s").expect("identity");
    let envelope = Envelope::new("a.b", identity, event, "x").with_task("t");
    Delivery::new(envelope, 1, Box::new(Recorder(Arc::clone(counts))))
}

#[test]
fn first_time_is_true_once() {
    let d = Deduplicator::new(10);
    assert!(d.first_time(&key(1)));
    assert!(!d.first_time(&key(1)));
    assert!(d.seen(&key(1)));
    d.forget(&key(1));
    assert!(d.first_time(&key(1)));
}

#[test]
fn memory_stays_within_capacity_and_evicts_the_least_recent() {
    let d = Deduplicator::new(3);
    for i in 0..3 {
        d.mark(&key(i));
    }
    assert!(d.seen(&key(0)), "refresh key 0");
    d.mark(&key(3));
    assert_eq!(d.len(), 3);
    assert!(
        !d.seen(&key(1)),
        "key 1 was least recently seen and must be evicted"
    );
    assert!(d.seen(&key(0)) && d.seen(&key(2)) && d.seen(&key(3)));
    for i in 0..10_000 {
        d.mark(&key(i));
        assert!(d.len() <= 3);
    }
    let inner = d.lock();
    assert!(
        inner.order.len() <= 2 * 3 + 16,
        "order queue grew to {}",
        inner.order.len()
    );
}

#[test]
fn refreshes_do_not_grow_memory() {
    let d = Deduplicator::new(2);
    d.mark(&key(1));
    for _ in 0..1000 {
        assert!(d.seen(&key(1)));
    }
    assert!(d.lock().order.len() <= 2 * 2 + 16);
}

#[tokio::test]
async fn replaying_a_delivery_has_one_effect() {
    let dedup = Deduplicator::new(100);
    let counts = Arc::new(Counts::default());
    let effects = AtomicUsize::new(0);
    for _ in 0..5 {
        let outcome = dedup
            .process(delivery(&counts, "e1"), Duration::ZERO, |_| async {
                effects.fetch_add(1, Ordering::SeqCst);
                Ok::<(), std::fmt::Error>(())
            })
            .await
            .expect("settle");
        assert!(matches!(outcome, Processed::Done | Processed::Duplicate));
    }
    assert_eq!(effects.load(Ordering::SeqCst), 1);
    assert_eq!(counts.acks.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_failure_is_retried_not_remembered() {
    let dedup = Deduplicator::new(100);
    let counts = Arc::new(Counts::default());
    let outcome = dedup
        .process(delivery(&counts, "e1"), Duration::ZERO, |_| async {
            Err::<(), _>("boom")
        })
        .await
        .expect("settle");
    assert!(matches!(outcome, Processed::Failed("boom")));
    assert_eq!(counts.nacks.load(Ordering::SeqCst), 1);
    let outcome = dedup
        .process(delivery(&counts, "e1"), Duration::ZERO, |_| async {
            Ok::<(), &str>(())
        })
        .await
        .expect("settle");
    assert!(matches!(outcome, Processed::Done));
}

#[tokio::test]
async fn a_concurrent_delivery_of_a_running_key_is_nacked() {
    let dedup = Deduplicator::new(100);
    let counts = Arc::new(Counts::default());
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let first = dedup.process(delivery(&counts, "e1"), Duration::ZERO, |_| async move {
        let _ = started_tx.send(());
        let _ = release_rx.await;
        Ok::<(), &str>(())
    });
    let second = async {
        let _ = started_rx.await;
        let outcome = dedup
            .process(delivery(&counts, "e1"), Duration::ZERO, |_| async {
                Ok::<(), &str>(())
            })
            .await;
        let _ = release_tx.send(());
        outcome
    };
    let (first, second) = tokio::join!(first, second);
    assert!(matches!(first, Ok(Processed::Done)));
    assert!(matches!(second, Ok(Processed::InProgress)));
    assert_eq!(counts.nacks.load(Ordering::SeqCst), 1);
}
