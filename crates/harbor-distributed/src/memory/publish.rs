//! The future of one publish.
//!
//! Written by hand rather than as an `async fn`: in the common case (room in every group)
//! the whole publish runs synchronously in the first poll, and the future is a few words,
//! so boxing it for [`MessageBus`](crate::MessageBus) copies almost nothing. Only a publish
//! that has to wait for room boxes a second, `async` future for the waiting.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tracing::Instrument;

use super::core::Router;
use crate::{Envelope, Error, PublishReceipt};

type Wait = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// Publishes one envelope when polled.
pub(super) struct Publish<'a> {
    router: &'a Router,
    state: State,
}

enum State {
    /// Not polled yet.
    Start(Arc<Envelope>),
    /// Numbered and stored up to a full group; waiting for room there.
    Waiting {
        sequence: u64,
        wait: Wait,
    },
    Done,
}

impl<'a> Publish<'a> {
    pub(super) fn new(router: &'a Router, envelope: Arc<Envelope>) -> Self {
        Self {
            router,
            state: State::Start(envelope),
        }
    }
}

fn receipt(sequence: u64) -> PublishReceipt {
    PublishReceipt {
        sequence: Some(sequence),
        duplicate: false,
    }
}

impl Future for Publish<'_> {
    type Output = Result<PublishReceipt, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, State::Done) {
                State::Start(envelope) => {
                    // Like tokio's own channels, a publish spends the task's cooperative
                    // budget, so a publisher that never finds a group full still lets the
                    // consumers on its thread run.
                    let Poll::Ready(coop) = tokio::task::coop::poll_proceed(cx) else {
                        this.state = State::Start(envelope);
                        return Poll::Pending;
                    };
                    coop.made_progress();
                    // The span only when trace spans can be recorded at all: building a
                    // disabled one is a tenth of a publish (entering `Span::none` is free).
                    let span = if super::tracing_spans() {
                        tracing::trace_span!("bus.publish", edge = %envelope.edge)
                    } else {
                        tracing::Span::none()
                    };
                    let started = span.in_scope(|| this.router.start_publish(envelope));
                    match started {
                        Err(error) => return Poll::Ready(Err(error)),
                        Ok((sequence, None)) => return Poll::Ready(Ok(receipt(sequence))),
                        Ok((sequence, Some((groups, envelope)))) => {
                            let wait =
                                async move { Router::route_from(&groups, &envelope, false).await };
                            this.state = State::Waiting {
                                sequence,
                                wait: Box::pin(wait.instrument(span)),
                            };
                        }
                    }
                }
                State::Waiting { sequence, mut wait } => {
                    return match wait.as_mut().poll(cx) {
                        Poll::Ready(done) => Poll::Ready(done.map(|()| receipt(sequence))),
                        Poll::Pending => {
                            this.state = State::Waiting { sequence, wait };
                            Poll::Pending
                        }
                    };
                }
                State::Done => panic!("a publish future was polled after it completed"),
            }
        }
    }
}
