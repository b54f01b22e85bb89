//! A handler's event stream as a gRPC server stream: events as messages, an error as the
//! final status (also when the server shuts down: INTERNAL, saying so). When the client cancels, tonic drops
//! the stream, and with it the handler's: the task itself runs on.

use futures::StreamExt;
use futures::stream::BoxStream;
use harbor_a2a::{StreamResponse, VersionErrorCode};
use harbor_distributed::HandlerStream;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use super::status::to_status;
use crate::stopping::until_stopped;

/// The stream type of both streaming RPCs.
pub(crate) type GrpcEventStream = BoxStream<'static, Result<StreamResponse, Status>>;

/// `events` as a gRPC stream that ends after its first error or when `shutdown` fires;
/// each poll runs in `span`.
pub(crate) fn grpc_stream(
    events: HandlerStream,
    version_code: VersionErrorCode,
    shutdown: &CancellationToken,
    span: tracing::Span,
) -> GrpcEventStream {
    let mut failed = false;
    let ended = span.clone();
    let stream = until_stopped(events, shutdown)
        .take_while(move |item| {
            // The first error is the stream's final status.
            let go = !failed;
            failed |= item.is_err();
            futures::future::ready(go)
        })
        .map(move |item| {
            item.map(|item| item.event)
                .map_err(|error| to_status(&error, version_code))
        })
        .chain(futures::stream::poll_fn(move |_| {
            ended.in_scope(|| tracing::debug!("stream ended"));
            std::task::Poll::Ready(None)
        }))
        .boxed();
    InSpan { stream, span }.boxed()
}

/// Polls a stream inside a span (so the handler's work during a poll is attributed to
/// its RPC).
struct InSpan<S> {
    stream: S,
    span: tracing::Span,
}

impl<S: futures::Stream + Unpin> futures::Stream for InSpan<S> {
    type Item = S::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = &mut *self;
        let _entered = this.span.enter();
        this.stream.poll_next_unpin(cx)
    }
}
