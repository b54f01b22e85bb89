//! How open streams end when the server stops: with one error event saying so, so a client
//! can tell a shutdown from a finished stream (and resubscribe elsewhere).

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use harbor_a2a::A2aError;
use tokio_util::sync::CancellationToken;

/// `events` until `stop` fires, then one error event, then the end.
pub(crate) fn until_stopped<S, T>(
    events: S,
    stop: &CancellationToken,
) -> BoxStream<'static, Result<T, A2aError>>
where
    S: Stream<Item = Result<T, A2aError>> + Send + Unpin + 'static,
    T: Send + 'static,
{
    let stopped = stop.clone().cancelled_owned();
    futures::stream::unfold(
        (events, Box::pin(stopped), false),
        |(mut events, mut stopped, done)| async move {
            if done {
                return None;
            }
            tokio::select! {
                biased;
                item = events.next() => item.map(|item| (item, (events, stopped, false))),
                () = &mut stopped => Some((Err(stopping_error()), (events, stopped, true))),
            }
        },
    )
    .boxed()
}

/// The error a stream ends with when the server stops.
pub(crate) fn stopping_error() -> A2aError {
    A2aError::internal("the server is shutting down; subscribe again to follow the task")
}

#[cfg(test)]
mod tests {
    use harbor_distributed::{HandlerStream, StreamEvent};

    use super::*;

    #[tokio::test]
    async fn a_stop_ends_the_stream_with_an_error_event() {
        let stop = CancellationToken::new();
        let (tx, rx) = tokio::sync::mpsc::channel::<StreamEvent>(4);
        let events = tokio_stream_from(rx);
        let mut stream = until_stopped(events, &stop);
        tx.send(StreamEvent::from(harbor_a2a::StreamResponse::default()))
            .await
            .expect("send");
        assert!(matches!(stream.next().await, Some(Ok(_))));
        stop.cancel();
        let ended = stream.next().await.expect("an error event");
        assert_eq!(
            ended.err().map(|e| e.kind()),
            Some(harbor_a2a::ErrorKind::Internal)
        );
        assert!(stream.next().await.is_none(), "nothing after the error");
    }

    fn tokio_stream_from(mut rx: tokio::sync::mpsc::Receiver<StreamEvent>) -> HandlerStream {
        futures::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|e| e.map(Ok))).boxed()
    }
}
