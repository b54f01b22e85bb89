//! Server-sent events: each event's JSON on one `data:` line, with its log sequence as
//! `id:` when it has one (what `Last-Event-ID` resumes after); an error mid-stream is one
//! `event: error` and the end of the stream, and so is the server stopping. Each event's
//! JSON comes written (straight from its message), not as a value to write.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use harbor_a2a::A2aError;
use tokio_util::sync::CancellationToken;

use crate::stopping::until_stopped;

/// An SSE response of `events` (each its JSON data, on one line, and its sequence, if
/// any); `on_error` renders an error event's data.
pub(crate) fn sse_response<S, F>(
    events: S,
    on_error: F,
    keep_alive: Duration,
    shutdown: &CancellationToken,
) -> Response
where
    S: Stream<Item = Result<(String, Option<u64>), A2aError>> + Send + 'static,
    F: Fn(&A2aError) -> String + Send + 'static,
{
    let mut failed = false;
    let frames = until_stopped(events.boxed(), shutdown)
        .take_while(move |item| {
            // Stop after the first error event has been sent.
            let go = !failed;
            failed |= item.is_err();
            futures::future::ready(go)
        })
        .map(move |item| {
            let event = match item {
                Ok((data, sequence)) => {
                    let event = Event::default().data(data);
                    match sequence {
                        Some(sequence) => event.id(sequence.to_string()),
                        None => event,
                    }
                }
                Err(error) => Event::default().event("error").data(on_error(&error)),
            };
            Ok::<_, Infallible>(event)
        });
    Sse::new(frames)
        .keep_alive(KeepAlive::new().interval(keep_alive))
        .into_response()
}
