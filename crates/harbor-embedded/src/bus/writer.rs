//! Group commit: one thread makes every change of the bus durable, many per transaction.
//!
//! redb has one writer at a time and each durable commit costs an fsync. The writer thread
//! takes whatever is queued (up to [`EmbeddedBusConfig::max_batch`](super::EmbeddedBusConfig::max_batch)
//! operations): publishes, group changes (acks, leases, dead letters) and new groups; it
//! applies them in one write transaction, commits it with [`redb::Durability::Immediate`]
//! and only then answers: a publish or an ack returns once it is on disk. After the
//! commit it appends the new envelopes to the in-memory tail and wakes subscribers.
//! Between batches (at most every `prune_interval`) it deletes what retention allows.
//! What it is sent, [`Op`], is in `core` with the queue it travels on.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Instant;

use harbor_distributed::kit;
use harbor_distributed::{Envelope, Error, PublishReceipt, StartPosition};
use redb::{Database, ReadableTable};
use tokio::sync::oneshot;

use super::core::{Op, Shared};
use super::group::{Change, Group};
use super::retention;
use super::tables::Tables;
use crate::errors::{backend, failure};

enum Reply {
    Publish(
        oneshot::Sender<Result<PublishReceipt, Error>>,
        PublishReceipt,
    ),
    Done(oneshot::Sender<Result<(), Error>>),
}

/// Appends to the log within one transaction, numbering envelopes.
pub(super) struct Appender {
    pub(super) next: u64,
    pub(super) appended: Vec<Arc<Envelope>>,
}

impl Appender {
    /// Appends `record` unless its dedup `key` is stored; the receipt says which.
    fn append(
        &mut self,
        tables: &mut Tables<'_>,
        envelope: Arc<Envelope>,
        record: &[u8],
        key: &[u8],
    ) -> Result<PublishReceipt, Error> {
        let seq = self.next;
        // One descent of the dedup index in the common case: insert, and put the first
        // sequence back when the key was there already.
        let first = tables
            .dedup()?
            .insert(key, seq)
            .map_err(backend)?
            .map(|old| old.value());
        if let Some(first) = first {
            tables.dedup()?.insert(key, first).map_err(backend)?;
            return Ok(PublishReceipt {
                sequence: Some(first),
                duplicate: true,
            });
        }
        tables.log()?.insert(seq, record).map_err(backend)?;
        self.next += 1;
        self.appended.push(envelope);
        Ok(PublishReceipt {
            sequence: Some(seq),
            duplicate: false,
        })
    }
}

/// The writer thread's state.
pub(super) struct Writer {
    pub(super) db: Arc<Database>,
    pub(super) shared: Arc<Shared>,
    pub(super) next: u64,
}

impl Writer {
    /// Serves `queue` until a [`Op::Stop`].
    pub(super) fn run(mut self, queue: &Receiver<Op>) {
        let config = self.shared.config.clone();
        let mut last_prune = Instant::now();
        loop {
            let first = match queue.recv_timeout(config.prune_interval) {
                Ok(op) => op,
                Err(RecvTimeoutError::Timeout) => {
                    self.prune(&mut last_prune);
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut batch = vec![first];
            while batch.len() < config.max_batch {
                match queue.try_recv() {
                    Ok(op) => batch.push(op),
                    Err(_) => break,
                }
            }
            let stop = batch.iter().any(|op| matches!(op, Op::Stop));
            self.commit(batch);
            if stop {
                return;
            }
            self.prune(&mut last_prune);
        }
    }

    fn prune(&mut self, last: &mut Instant) {
        let config = &self.shared.config;
        if last.elapsed() < config.prune_interval {
            return;
        }
        *last = Instant::now();
        let floor = self
            .shared
            .groups()
            .values()
            .map(|g| g.lock().persisted_floor)
            .min()
            .unwrap_or(self.next);
        if let Err(error) = retention::prune(&self.db, config, floor, self.next) {
            tracing::warn!(%error, "pruning the bus log failed");
        }
    }

    /// Applies `batch` in one durable transaction and answers every operation.
    fn commit(&mut self, batch: Vec<Op>) {
        let _span = tracing::debug_span!("bus.commit", ops = batch.len()).entered();
        let mut appender = Appender {
            next: self.next,
            appended: Vec::new(),
        };
        let first = self.next;
        let mut replies = Vec::with_capacity(batch.len());
        let mut created = Vec::new();
        let outcome = self.apply(batch, &mut appender, &mut replies, &mut created);
        match outcome {
            Ok(()) => {
                self.next = appender.next;
                if !appender.appended.is_empty() {
                    kit::write(&self.shared.tail).extend(first, appender.appended);
                    self.shared.appended.notify_waiters();
                }
                for reply in replies {
                    match reply {
                        Reply::Publish(tx, receipt) => drop(tx.send(Ok(receipt))),
                        Reply::Done(tx) => drop(tx.send(Ok(()))),
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "a bus write transaction failed; its operations were refused");
                let mut groups = self.shared.groups();
                for group in created {
                    groups.remove(&group.key);
                }
                drop(groups);
                for reply in replies {
                    match reply {
                        Reply::Publish(tx, _) => drop(tx.send(Err(batch_failed(&error)))),
                        Reply::Done(tx) => drop(tx.send(Err(batch_failed(&error)))),
                    }
                }
            }
        }
    }

    fn apply(
        &self,
        batch: Vec<Op>,
        appender: &mut Appender,
        replies: &mut Vec<Reply>,
        created: &mut Vec<Arc<Group>>,
    ) -> Result<(), Error> {
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let mut tables = Tables::new(&txn);
            let mut dirty: Vec<Arc<Group>> = Vec::new();
            for op in batch {
                match op {
                    Op::Publish {
                        envelope,
                        record,
                        key,
                        reply,
                    } => {
                        let receipt = appender.append(&mut tables, envelope, &record, &key)?;
                        replies.push(Reply::Publish(reply, receipt));
                    }
                    Op::Sync { group, reply } => {
                        if !dirty.iter().any(|g| Arc::ptr_eq(g, &group)) {
                            dirty.push(group);
                        }
                        replies.extend(reply.map(Reply::Done));
                    }
                    Op::Create {
                        group,
                        start,
                        reply,
                    } => {
                        let first = tables
                            .log()?
                            .first()
                            .map_err(backend)?
                            .map(|(k, _)| k.value());
                        let oldest = first.unwrap_or(appender.next);
                        let at = match start {
                            StartPosition::New => appender.next,
                            StartPosition::Earliest => oldest,
                            StartPosition::Sequence(n) => n.max(oldest),
                        };
                        let row = {
                            let mut st = group.lock();
                            st.scan = at;
                            st.persisted_floor = at;
                            st.row(&group)
                        };
                        tables
                            .groups()?
                            .insert(group.key.as_str(), row.encode().as_slice())
                            .map_err(backend)?;
                        self.shared
                            .groups()
                            .insert(group.key.clone(), Arc::clone(&group));
                        created.push(group);
                        replies.push(Reply::Done(reply));
                    }
                    Op::Stop => {}
                }
            }
            for group in dirty {
                persist(&group, &mut tables, appender)?;
            }
        }
        txn.commit().map_err(backend)
    }
}

/// Writes `group`'s queued changes and its row.
fn persist(group: &Group, tables: &mut Tables<'_>, appender: &mut Appender) -> Result<(), Error> {
    let (journal, row, live, doomed) = {
        let mut st = group.lock();
        group
            .sync_queued
            .store(false, std::sync::atomic::Ordering::Release);
        let journal = std::mem::take(&mut st.journal);
        let row = st.row(group);
        st.persisted_floor = row.floor;
        // Rows below the new floor go: everything there is settled.
        let doomed: Vec<u64> = st.rows.range(..row.floor).copied().collect();
        for seq in &doomed {
            st.rows.remove(seq);
        }
        // Which attempt counts still matter: those of envelopes not settled meanwhile.
        let live: Vec<bool> = journal
            .iter()
            .map(|c| match c {
                Change::Attempts { seq, .. } => st.unsettled.contains(seq),
                _ => false,
            })
            .collect();
        (journal, row, live, doomed)
    };
    let key = group.key.as_str();
    let mut stored = Vec::new();
    for (change, live) in journal.into_iter().zip(live) {
        match change {
            Change::Attempts { seq, attempts } => {
                if live {
                    tables
                        .attempts()?
                        .insert((key, seq), attempts)
                        .map_err(backend)?;
                    stored.push(seq);
                }
            }
            Change::Settled { seq, counted } => {
                if counted {
                    tables.attempts()?.remove((key, seq)).map_err(backend)?;
                }
                if seq >= row.floor {
                    tables.settled()?.insert((key, seq), ()).map_err(backend)?;
                    stored.push(seq);
                }
            }
            Change::DeadLetter {
                envelope,
                record,
                key: dedup,
            } => {
                appender.append(tables, envelope, &record, &dedup)?;
            }
        }
    }
    for seq in doomed {
        tables.settled()?.remove((key, seq)).map_err(backend)?;
        tables.attempts()?.remove((key, seq)).map_err(backend)?;
    }
    if !stored.is_empty() {
        group.lock().rows.extend(stored);
    }
    tables
        .groups()?
        .insert(key, row.encode().as_slice())
        .map_err(backend)?;
    Ok(())
}

/// The error every operation of a failed batch gets (the error itself is not `Clone`).
fn batch_failed(error: &Error) -> Error {
    failure(format!("the bus write transaction failed: {error}"))
}
