//! A subscription: the delivery stream it hands out (its task is `pump`, its pull requests
//! `pulls`, its credit `credit`).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_nats::Subject;

use futures::Stream;
use harbor_distributed::kit;
use harbor_distributed::{Delivery, Envelope, Error};
use tokio::sync::mpsc;

use crate::acker::NatsAcker;
use crate::credit::Credit;

/// An envelope the pull task received, waiting to be handed out.
pub(crate) struct Pending {
    pub(crate) envelope: Arc<Envelope>,
    pub(crate) attempt: u32,
    pub(crate) acker: NatsAcker,
}

/// The deliveries of one subscription, fed by its pull task. Ends when the task ends (the
/// bus closed).
pub(crate) struct DeliveryStream {
    pub(crate) rx: mpsc::Receiver<Pending>,
    pub(crate) credit: Arc<Credit>,
}

impl Stream for DeliveryStream {
    type Item = Result<Delivery, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx).map(|pending| {
            pending.map(|p| {
                Ok(Delivery::from_shared(
                    p.envelope,
                    p.attempt,
                    Box::new(p.acker),
                ))
            })
        })
    }
}

impl Drop for DeliveryStream {
    /// Envelopes received but never handed out go back to the group at once, rather than
    /// after the visibility timeout: the pull task nacks them once it has stopped pulling,
    /// so another member can take them now.
    fn drop(&mut self) {
        let mut replies = Vec::new();
        while let Ok(pending) = self.rx.try_recv() {
            replies.push(pending.acker.reply.clone());
        }
        self.give_back(&mut replies);
        // Closing wakes the pull task; what it sent meanwhile is given back too.
        self.rx.close();
        while let Ok(pending) = self.rx.try_recv() {
            replies.push(pending.acker.reply.clone());
        }
        self.give_back(&mut replies);
    }
}

impl DeliveryStream {
    fn give_back(&self, replies: &mut Vec<Subject>) {
        if !replies.is_empty() {
            kit::lock(&self.credit.returned).append(replies);
        }
    }
}
