//! Fault cases on a nats-server of the test's own: a restart mid-stream,
//! a consumer that dies holding deliveries, connections cut and refused.

use std::sync::Arc;

use harbor_conformance::bus::faults::{self, CutProxy};
use harbor_distributed::MessageBus;
use harbor_nats::NatsBus;
use harbor_test_support::nats::NatsServer;

async fn open(url: String) -> Arc<dyn MessageBus> {
    match NatsBus::connect_url(&url).await {
        Ok(bus) => Arc::new(bus),
        Err(error) => panic!("connect to the test's nats-server at {url}: {error}"),
    }
}

#[test]
fn restart_loses_nothing() {
    harbor_conformance::bus::run(async {
        let Some(server) = NatsServer::start().await else {
            return;
        };
        let url = server.url("RESTART");
        let factory = move || open(url.clone());
        faults::restart_loses_nothing(&factory, &server, 10_000).await;
    });
}

#[test]
fn dead_consumer_hands_over() {
    harbor_conformance::bus::run(async {
        let Some(server) = NatsServer::start().await else {
            return;
        };
        let url = server.url("HANDOVER");
        let factory = move || open(url.clone());
        faults::dead_consumer_hands_over(&factory).await;
    });
}

#[test]
fn connection_cut_recovers() {
    harbor_conformance::bus::run(async {
        let Some(server) = NatsServer::start().await else {
            return;
        };
        let proxy = CutProxy::start(server.addr())
            .await
            .expect("start the proxy");
        let url = format!("nats://{}?stream=CUT&prefix=cut", proxy.addr());
        let factory = move || open(url.clone());
        faults::connection_cut_recovers(&factory, &proxy).await;
    });
}
