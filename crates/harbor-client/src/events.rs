//! The events of a streaming call: SSE decoded into `StreamResponse`s (or a gRPC server
//! stream's messages), the end of the stream found, and a dropped connection picked up
//! again.
//!
//! A stream ends right after an event with a terminal task state (or after the one message
//! of a message-only stream), and on a clean close of a `SendStreamingMessage` stream whose
//! task is waiting for input. Any other end of the connection (a drop, a read error,
//! silence past the idle timeout) before a terminal state is a drop: the stream reattaches
//! with `SubscribeToTask`, sending `Last-Event-ID` when the server numbered its events, at
//! most `resume.max_attempts` times in a row with doubling backoff. If the task ended in the
//! meantime (the subscription is refused as unsupported), its final state is fetched with
//! `GetTask` and delivered as the last event.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use harbor_a2a::stream_response::Payload;
use harbor_a2a::{ErrorKind, StreamResponse};
use harbor_distributed::{CallContext, Error, EventStream, Peer};
use tracing::Instrument;

use crate::binding::{Connection, Frames, decode_event};
use crate::config::Binding;
use crate::error::{ClientError, request_error};
use crate::sse::SseDecoder;
use crate::transport::Inner;

/// Whether a stream started as a send or a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamKind {
    Send,
    Subscribe,
}

/// One streaming call, across reconnects.
pub(crate) struct EventSource {
    inner: Arc<Inner>,
    peer: Peer,
    ctx: CallContext,
    kind: StreamKind,
    binding: Binding,
    connection: Option<Connection>,
    decoder: SseDecoder,
    task_id: Option<String>,
    /// The stream is over: the next poll ends it.
    done: bool,
    /// The last state seen was INPUT_REQUIRED or AUTH_REQUIRED.
    interrupted: bool,
    /// The task's final snapshot, fetched when a reattach found it finished.
    last_word: Option<StreamResponse>,
    /// Reconnects since the stream last made progress.
    attempts: u32,
    /// No event has arrived on this connection since it was reattached.
    reattached: bool,
    last_error: Option<Error>,
}

impl EventSource {
    pub(crate) fn new(
        inner: Arc<Inner>,
        peer: Peer,
        ctx: CallContext,
        kind: StreamKind,
        binding: Binding,
        connection: Connection,
        task_id: Option<String>,
    ) -> Self {
        let decoder = SseDecoder::new(inner.config.max_event_bytes);
        Self {
            inner,
            peer,
            ctx,
            kind,
            binding,
            connection: Some(connection),
            decoder,
            task_id,
            done: false,
            interrupted: false,
            last_word: None,
            attempts: 0,
            reattached: false,
            last_error: None,
        }
    }

    /// The events as a stream, each poll in `span`.
    pub(crate) fn into_stream(self, span: tracing::Span) -> EventStream {
        futures::stream::unfold(self, move |mut source| {
            let span = span.clone();
            async move {
                let item = source.next().await?;
                Some((item, source))
            }
            .instrument(span)
        })
        .boxed()
    }

    async fn next(&mut self) -> Option<Result<StreamResponse, Error>> {
        loop {
            if self.done {
                return None;
            }
            if let Some(task) = self.last_word.take() {
                self.done = true;
                return Some(Ok(task));
            }
            if let Some(event) = self.decoder.next_event() {
                if !matches!(event.event.as_str(), "" | "message" | "error") {
                    continue;
                }
                let decoded = decode_event(self.binding, &event);
                return Some(self.on_event(decoded));
            }
            let Some(connection) = self.connection.as_mut() else {
                if let Err(error) = self.reattach().await {
                    self.done = true;
                    return Some(Err(error));
                }
                continue;
            };
            let idle = self.inner.config.stream_idle_timeout;
            let body = match &mut connection.body {
                Frames::Sse(body) => body,
                #[cfg(feature = "grpc")]
                Frames::Grpc(stream) => {
                    // No idle timeout: gRPC has no keep-alive messages, HTTP/2 pings find a
                    // dead connection instead.
                    match stream.message().await {
                        Ok(Some(event)) => return Some(self.on_event(Ok(event))),
                        Ok(None) => self.dropped(None),
                        Err(status) => {
                            let error =
                                crate::binding::grpc::status_error(&connection.url, &status);
                            if matches!(error, Error::Protocol(_)) {
                                return Some(self.on_event(Err(error)));
                            }
                            self.dropped(Some(error));
                        }
                    }
                    continue;
                }
            };
            match tokio::time::timeout(idle, body.next()).await {
                Ok(Some(Ok(chunk))) => {
                    if let Err(error) = self.decoder.push(&chunk) {
                        self.done = true;
                        return Some(Err(ClientError::Sse(error).into_error()));
                    }
                }
                Ok(Some(Err(error))) => {
                    let error = request_error(&connection.url, error, idle);
                    self.dropped(Some(error));
                }
                Ok(None) => self.dropped(None),
                Err(_) => self.dropped(Some(Error::Timeout(idle))),
            }
        }
    }

    fn on_event(
        &mut self,
        decoded: Result<StreamResponse, Error>,
    ) -> Result<StreamResponse, Error> {
        let event = match decoded {
            Ok(event) => event,
            Err(error) => {
                self.done = true;
                return Err(error);
            }
        };
        // The first event of a reattached connection is often just the task's snapshot: only
        // what follows it counts as progress, so a server that keeps closing right after the
        // snapshot runs out of attempts instead of being polled forever.
        if !std::mem::take(&mut self.reattached) {
            self.attempts = 0;
            self.last_error = None;
        }
        let task_id = match &event.payload {
            Some(Payload::Task(t)) => Some(&t.id),
            Some(Payload::StatusUpdate(u)) => Some(&u.task_id),
            Some(Payload::ArtifactUpdate(u)) => Some(&u.task_id),
            Some(Payload::Message(_)) | None => None,
        };
        if self.task_id.is_none() {
            self.task_id = task_id.filter(|id| !id.is_empty()).cloned();
        }
        if let Some(state) = event.state() {
            self.done |= state.is_terminal();
            self.interrupted = state.is_interrupted();
        }
        // A message before any task is the whole of a message-only stream.
        if matches!(event.payload, Some(Payload::Message(_))) && self.task_id.is_none() {
            self.done = true;
        }
        Ok(event)
    }

    /// The connection ended: either the stream is over or it must be picked up again.
    fn dropped(&mut self, error: Option<Error>) {
        self.connection = None;
        if self.kind == StreamKind::Send && self.interrupted {
            // A send stream may close once its task waits for input.
            self.done = true;
            return;
        }
        if let Some(error) = &error {
            tracing::debug!(%error, "stream connection lost");
        }
        self.last_error = error.or(self.last_error.take());
    }

    /// Reconnects with `SubscribeToTask`, with bounded retries and backoff.
    async fn reattach(&mut self) -> Result<(), Error> {
        let max = self.inner.config.resume.max_attempts;
        let Some(task_id) = self.task_id.clone() else {
            return Err(self.interrupted_error());
        };
        loop {
            if self.attempts >= max {
                return Err(self.interrupted_error());
            }
            self.attempts += 1;
            tokio::time::sleep(self.backoff()).await;
            self.decoder.reset_connection();
            let last_id = self.decoder.last_event_id().map(str::to_owned);
            tracing::debug!(attempt = self.attempts, %task_id, last_event_id = ?last_id, "reattaching");
            let opened = self
                .inner
                .reopen(&self.peer, &self.ctx, &task_id, last_id.as_deref())
                .await;
            match opened {
                Ok((connection, binding)) => {
                    self.connection = Some(connection);
                    self.reattached = true;
                    self.binding = binding;
                    return Ok(());
                }
                Err(Error::Protocol(e)) if e.kind() == ErrorKind::UnsupportedOperation => {
                    return self.finished_meanwhile(&task_id, Error::Protocol(e)).await;
                }
                Err(e @ (Error::Protocol(_) | Error::Closed | Error::IdentityRequired { .. })) => {
                    return Err(e);
                }
                Err(e) => self.last_error = Some(e),
            }
        }
    }

    /// A subscription refused as unsupported: if the task has ended, its snapshot is the
    /// stream's last event; otherwise the refusal stands.
    async fn finished_meanwhile(&mut self, task_id: &str, refusal: Error) -> Result<(), Error> {
        match self.inner.fetch_task(&self.peer, &self.ctx, task_id).await {
            Ok(task) if task.state().is_terminal() => {
                self.last_word = Some(StreamResponse {
                    payload: Some(Payload::Task(task)),
                });
                Ok(())
            }
            _ => Err(refusal),
        }
    }

    fn backoff(&self) -> Duration {
        let resume = &self.inner.config.resume;
        let base = self.decoder.retry().unwrap_or(resume.initial_backoff);
        let factor = 1u32 << self.attempts.saturating_sub(1).min(16);
        base.saturating_mul(factor).min(resume.max_backoff)
    }

    fn interrupted_error(&mut self) -> Error {
        ClientError::StreamInterrupted {
            attempts: self.attempts,
            last: self.last_error.take().map(Box::new),
        }
        .into_error()
    }
}
