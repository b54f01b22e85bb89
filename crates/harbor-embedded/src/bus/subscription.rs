//! The delivery stream of one subscription (its deliveries settle through `acker`).

use std::sync::Arc;
use std::time::Instant;

use harbor_distributed::{Delivery, Envelope, Error, Subscription};
use redb::{Database, ReadableDatabase};

use super::acker::Acker;
use super::core::Shared;
use super::group::{Fill, Group, admits};
use super::lease::{Take, Terms};
use super::record::{self, RecordError};
use super::tables::LOG;
use crate::errors::{backend, failure};

/// Opens the stream of subscription `terms.sub` of `group`.
pub(super) fn open(shared: Arc<Shared>, group: Arc<Group>, terms: Terms) -> Subscription {
    let state = Stream {
        shared,
        group,
        terms,
    };
    let stream = futures::stream::unfold(state, |mut state| async move {
        let item = state.next().await?;
        Some((item, state))
    });
    Subscription::new(Box::pin(stream))
}

struct Stream {
    shared: Arc<Shared>,
    group: Arc<Group>,
    terms: Terms,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.group.detach(self.terms.sub);
        self.shared.poke_drain();
    }
}

impl Stream {
    async fn next(&mut self) -> Option<Result<Delivery, Error>> {
        loop {
            let changed = self.group.changed.notified();
            let appended = self.shared.appended.notified();
            tokio::pin!(changed, appended);
            changed.as_mut().enable();
            appended.as_mut().enable();
            let (take, dead) = self.group.take(
                &self.terms,
                &self.shared.tail,
                &self.shared.timer,
                Instant::now(),
            );
            if dead {
                self.shared.sync_later(&self.group);
                self.shared.poke_drain();
            }
            match take {
                Take::Ended => return None,
                Take::Got {
                    envelope,
                    attempt,
                    lease,
                } => {
                    // The cursor or the attempt count moved: store it soon (not awaited).
                    self.shared.sync_later(&self.group);
                    let acker = Acker {
                        shared: Arc::clone(&self.shared),
                        group: Arc::clone(&self.group),
                        lease,
                    };
                    return Some(Ok(Delivery::from_shared(
                        envelope,
                        attempt,
                        Box::new(acker),
                    )));
                }
                Take::Wait {
                    fill: Fill::Disk { from, to },
                } => {
                    if let Err(error) = self.read_disk(from, to).await {
                        return Some(Err(error));
                    }
                }
                Take::Wait { fill: Fill::Done } => {
                    // The timer wakes the group when a lease expires or a delay ends.
                    self.shared.poke_drain();
                    tokio::select! {
                        () = changed => {}
                        () = appended => {}
                    }
                }
            }
        }
    }

    /// Reads `from..to` of the log into the group (the cache has moved past it).
    async fn read_disk(&self, from: u64, to: u64) -> Result<(), Error> {
        {
            let mut st = self.group.lock();
            if st.filling || st.scan != from {
                return Ok(());
            }
            st.filling = true;
        }
        let guard = Filling(&self.group);
        let db = Arc::clone(&self.shared.db);
        let span = tracing::debug_span!("bus.read", group = %self.group.name, from, to);
        let read =
            crate::blocking::blocking(move || span.in_scope(|| read_range(&db, from, to))).await;
        let mut st = self.group.lock();
        let records = match read {
            Ok(records) => records,
            Err(error) => {
                drop(st);
                drop(guard);
                return Err(error);
            }
        };
        let mut corrupt = None;
        if st.scan == from {
            for (seq, decoded) in records {
                match decoded {
                    Ok(envelope) if admits(&self.group.scope, &st.edges, &envelope) => {
                        st.push_fresh(super::group::Entry {
                            seq,
                            envelope: Arc::new(envelope),
                            attempts: 0,
                        });
                    }
                    Ok(_) => {}
                    Err(error) => corrupt = Some((seq, error)),
                }
            }
            st.scan = to;
        }
        drop(st);
        drop(guard);
        match corrupt {
            None => Ok(()),
            Some((seq, error)) => {
                tracing::error!(seq, %error, "skipping a bus log entry that does not decode");
                Err(failure(format!("log entry {seq}: {error}")))
            }
        }
    }
}

/// Clears the group's `filling` flag however the read ends (also when the stream is
/// dropped during it), and wakes the group's other subscribers.
struct Filling<'a>(&'a Group);

impl Drop for Filling<'_> {
    fn drop(&mut self) {
        self.0.lock().filling = false;
        self.0.changed.notify_waiters();
    }
}

type Decoded = Vec<(u64, Result<Envelope, RecordError>)>;

/// The log entries `from..to`, decoded.
fn read_range(db: &Database, from: u64, to: u64) -> Result<Decoded, Error> {
    let txn = db.begin_read().map_err(backend)?;
    let log = txn.open_table(LOG).map_err(backend)?;
    let mut out = Vec::new();
    for item in log.range(from..to).map_err(backend)? {
        let (seq, value) = item.map_err(backend)?;
        out.push((seq.value(), record::decode(value.value())));
    }
    Ok(out)
}
