//! Following a stream (`stream`, `subscribe`): events printed as they arrive, Ctrl-C handled.
//!
//! Ctrl-C is caught while the stream opens and while it runs: the stream is dropped (which
//! closes its connection), the caller closes the client, and the command exits 130.

use std::future::Future;

use futures::StreamExt;
use harbor_distributed::{Error, EventStream};

use super::exit::{Failure, Outcome};
use super::session::Session;
use super::{output, render};

/// Opens the stream under `--timeout`, then prints every event until the stream ends.
pub(crate) async fn follow(
    session: &Session,
    open: impl Future<Output = Result<EventStream, Error>>,
) -> Outcome {
    let interrupt = ctrl_c();
    tokio::pin!(interrupt);
    let mut events = tokio::select! {
        biased;
        () = &mut interrupt => return Err(Failure::Interrupted),
        opened = session.call(open) => opened?,
    };
    loop {
        let next = tokio::select! {
            biased;
            () = &mut interrupt => return Err(Failure::Interrupted),
            next = events.next() => next,
        };
        match next {
            Some(Ok(event)) if session.json => output::line(&event)?,
            Some(Ok(event)) => output::text(&render::event(&event))?,
            Some(Err(error)) => return Err(Failure::Call(error)),
            None => return Ok(()),
        }
    }
}

/// Resolves on Ctrl-C; never, when the signal cannot be watched.
async fn ctrl_c() {
    if let Err(error) = tokio::signal::ctrl_c().await {
        tracing::debug!(%error, "cannot watch Ctrl-C");
        std::future::pending::<()>().await;
    }
}
