//! Group commit: one thread runs every write of the store, many per durable transaction.
//!
//! redb has one writer at a time and each durable commit costs an fsync, so writes issued
//! one transaction each are capped at the fsync rate whatever the concurrency. The writer
//! thread takes whatever writes are queued (up to [`MAX_BATCH`]), runs them in order in one
//! write transaction and commits once; each caller gets its own answer after that commit.
//!
//! A write checks everything it can refuse for (version, owner, existence) before it
//! writes anything, so a refused write leaves nothing behind in the shared transaction. A
//! backend failure or a panic in the middle of a write may have: then the transaction is
//! dropped (rolled back) and every write of the batch fails with that error.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use harbor_distributed::Error;
use redb::Database;
use tokio::sync::oneshot;
use tracing::Span;

use super::tables::Tables;
use super::tasks::begin_write;
use crate::errors::{backend, failure};

/// Most writes one transaction holds, so one commit's answers are not held back long.
const MAX_BATCH: usize = 256;

/// One queued write.
trait Job: Send {
    /// Runs the write; returns whether the transaction must be rolled back, and the answer
    /// to send once the commit's outcome is known.
    fn run(self: Box<Self>, tables: &mut Tables<'_>) -> (bool, Box<dyn Answer>);

    /// Answers without running: an earlier write of the batch failed.
    fn fail(self: Box<Self>, error: &Error);
}

/// A write's answer, held until the commit.
trait Answer: Send {
    /// Sends the write's result when the commit succeeded, else the batch's failure.
    fn send(self: Box<Self>, commit: Result<(), &Error>);
}

struct Op<T, F> {
    span: Span,
    write: F,
    reply: oneshot::Sender<Result<T, Error>>,
}

impl<T, F> Job for Op<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut Tables<'_>) -> Result<T, Error> + Send,
{
    fn run(self: Box<Self>, tables: &mut Tables<'_>) -> (bool, Box<dyn Answer>) {
        let Op { span, write, reply } = *self;
        let result = span.in_scope(|| write(tables));
        // Only a backend error can interrupt a write half-way (see the module docs).
        let poisoned = matches!(result, Err(Error::Backend { .. }));
        (poisoned, Box::new(Reply { result, reply }))
    }

    fn fail(self: Box<Self>, error: &Error) {
        let _ = self.reply.send(Err(batch_failed(error)));
    }
}

struct Reply<T> {
    result: Result<T, Error>,
    reply: oneshot::Sender<Result<T, Error>>,
}

impl<T: Send> Answer for Reply<T> {
    fn send(self: Box<Self>, commit: Result<(), &Error>) {
        let result = match (commit, self.result) {
            (Ok(()), result) => result,
            // The write that failed the batch reports its own error.
            (Err(_), Err(own @ Error::Backend { .. })) => Err(own),
            (Err(error), _) => Err(batch_failed(error)),
        };
        // The caller may have gone away; the write stands either way.
        let _ = self.reply.send(result);
    }
}

/// The error every write of a failed batch gets (the error itself is not `Clone`).
fn batch_failed(error: &Error) -> Error {
    failure(format!("the write transaction failed: {error}"))
}

/// The writer thread and its queue; dropping it lets queued writes finish, then waits for
/// the thread, so the database is released when the store is.
#[derive(Debug)]
pub(super) struct Writer {
    queue: Option<mpsc::Sender<Box<dyn Job>>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub(super) fn start(db: Arc<Database>) -> Result<Self, Error> {
        let (queue, jobs) = mpsc::channel::<Box<dyn Job>>();
        let thread = std::thread::Builder::new()
            .name("harbor-store-write".into())
            .spawn(move || serve(&db, &jobs))
            .map_err(failure)?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Queues `write` and waits for its durable result.
    pub(super) async fn write<T, F>(&self, span: Span, write: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tables<'_>) -> Result<T, Error> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Op { span, write, reply });
        let queue = self.queue.as_ref().ok_or(Error::Closed)?;
        queue.send(job).map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(db: &Database, jobs: &mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit(db, batch);
    }
}

/// Runs `batch` in one transaction and answers every write.
fn commit(db: &Database, batch: Vec<Box<dyn Job>>) {
    let writes = batch.len();
    let mut answers: Vec<Box<dyn Answer>> = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    let outcome = (|| {
        let txn = begin_write(db)?;
        {
            let mut tables = Tables::open(&txn)?;
            for job in jobs.by_ref() {
                let ran = catch_unwind(AssertUnwindSafe(|| job.run(&mut tables)));
                let Ok((poisoned, answer)) = ran else {
                    return Err(failure("a store write panicked"));
                };
                answers.push(answer);
                if poisoned {
                    return Err(failure("a store write failed half-way"));
                }
            }
        }
        // redb's durable commit is where the fsync happens: its time is the fsync latency.
        let started = std::time::Instant::now();
        let committed = txn.commit().map_err(backend);
        harbor_distributed::store::commits::record(writes, started.elapsed());
        committed
    })();
    for answer in answers {
        answer.send(outcome.as_ref().map(|_| ()));
    }
    if let Err(error) = &outcome {
        tracing::warn!(%error, "a store write transaction failed; its writes were refused");
        for job in jobs {
            job.fail(error);
        }
    }
}
