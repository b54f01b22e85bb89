//! What the fault cases share: a namespace, its identity and numbered envelopes.

use std::sync::Arc;
use std::time::Duration;

use harbor_distributed::{
    Envelope, Identity, IdentityScope, MessageBus, SubscribeOptions, Subscription,
};

use super::RECOVERY;
use crate::bus::Namespace;

pub(super) struct Scenario {
    pub(super) ns: Namespace,
    pub(super) edge: Arc<str>,
    identity: Identity,
}

impl Scenario {
    pub(super) fn new(edge: &str) -> Self {
        let ns = Namespace::random();
        let identity = match Identity::new(ns.tenant("a"), "user-1", "session-1") {
            Ok(identity) => identity,
            Err(error) => panic!("the fault scenario's identity is invalid: {error}"),
        };
        Self {
            edge: ns.edge(edge).into(),
            identity,
            ns,
        }
    }

    pub(super) fn event_id(i: usize) -> String {
        format!("ev-{i:06}")
    }

    /// Envelopes `range` of this scenario, all of one task (so dedup keys differ by id).
    pub(super) fn envelopes(&self, range: std::ops::Range<usize>) -> Vec<Envelope> {
        range
            .map(|i| {
                Envelope::new(
                    Arc::clone(&self.edge),
                    self.identity.clone(),
                    Self::event_id(i),
                    i.to_string(),
                )
                .with_task(format!("task-{}", self.ns.id()))
            })
            .collect()
    }

    pub(super) fn options(&self, in_flight: usize, visibility: Duration) -> SubscribeOptions {
        SubscribeOptions::new(
            [self.edge.to_string()],
            self.ns.group("faults"),
            IdentityScope::Tenant(self.ns.tenant("a")),
        )
        .max_in_flight(in_flight)
        .visibility_timeout(visibility)
        // Faults cost attempts (a delivery cut off mid-way); none of these may dead-letter.
        .max_attempts(1000)
    }

    pub(super) async fn subscribe(
        &self,
        bus: &Arc<dyn MessageBus>,
        options: SubscribeOptions,
    ) -> Subscription {
        match tokio::time::timeout(RECOVERY, bus.subscribe(options)).await {
            Ok(Ok(sub)) => sub,
            Ok(Err(error)) => panic!("subscribe failed: {error}"),
            Err(_) => panic!("subscribe did not answer within {RECOVERY:?}"),
        }
    }
}

/// Closes a bus, failing the case when it cannot.
pub(super) async fn close(bus: &Arc<dyn MessageBus>) {
    match tokio::time::timeout(RECOVERY, bus.close()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => panic!("close failed after the fault: {error}"),
        Err(_) => panic!("close did not finish within {RECOVERY:?}"),
    }
}
