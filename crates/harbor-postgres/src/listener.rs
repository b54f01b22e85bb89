//! The LISTEN connection: turns notifications into wake-ups of this bus's groups, and
//! reconnects by itself (waking every group afterwards, in case it missed some).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use harbor_distributed::Error;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::core::Inner;
use crate::errors;

/// Listens until the bus stops.
pub(crate) async fn run(inner: Arc<Inner>) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let outcome = tokio::select! {
            outcome = listen(&inner) => outcome,
            () = inner.stopped.cancelled() => return,
        };
        if let Err(error) = outcome {
            tracing::debug!(%error, "bus LISTEN connection lost; reconnecting");
        }
        // Whatever was notified meanwhile: the polling fallback and this wake cover it.
        inner.groups.wake_all();
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = inner.stopped.cancelled() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

async fn listen(inner: &Inner) -> Result<(), Error> {
    let config = inner.db.config.server_config()?;
    let (client, mut connection) = config.connect(NoTls).await.map_err(errors::backend)?;
    let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
    let command = format!("LISTEN {}", inner.db.config.channel());
    let listen = client.batch_execute(&command);
    tokio::pin!(listen);
    loop {
        tokio::select! {
            done = &mut listen => {
                done.map_err(errors::backend)?;
                break;
            }
            message = messages.next() => handle(inner, message)?,
        }
    }
    inner.groups.wake_all();
    loop {
        handle(inner, messages.next().await)?;
    }
}

fn handle(
    inner: &Inner,
    message: Option<Result<AsyncMessage, tokio_postgres::Error>>,
) -> Result<(), Error> {
    match message {
        Some(Ok(AsyncMessage::Notification(_))) => {
            inner.groups.wake_all();
            Ok(())
        }
        Some(Ok(_)) => Ok(()),
        Some(Err(error)) => Err(errors::backend(error)),
        None => Err(errors::lost("listen")),
    }
}
