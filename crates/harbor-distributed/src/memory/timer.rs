//! The per-group timer: visibility timeouts and nack delays.
//!
//! One task per group sleeps until the earliest deadline of the group (a lease's visibility
//! timeout or a delayed nack), handles whatever is due, and sleeps again. The hot path only
//! wakes it when a new deadline is earlier than the one it sleeps towards, which in steady
//! state (one timeout per subscription, deadlines growing) is never.

use std::future::pending;
use std::sync::{Arc, Weak};

use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::core::Router;
use super::group::Group;

/// Runs until `cancel` fires.
pub(super) async fn run(group: Arc<Group>, router: Weak<Router>, cancel: CancellationToken) {
    let mut dead = Vec::new();
    loop {
        let notified = group.timer.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let next = group.expire(std::time::Instant::now(), &mut dead);
        for letter in dead.drain(..) {
            let Some(router) = router.upgrade() else {
                return;
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                result = router.dead_letter(&group.name, letter) => {
                    if let Err(error) = result {
                        tracing::warn!(group = %group.name, %error, "dead letter not stored");
                    }
                }
            }
        }
        let sleep = async {
            match next {
                Some(at) => sleep_until(Instant::from_std(at)).await,
                None => pending().await,
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = notified => {}
            _ = sleep => {}
        }
    }
}
