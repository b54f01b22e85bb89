//! Fault cases against a PostgreSQL cluster each test starts for itself: a server
//! restart, a consumer that dies holding deliveries, and connections cut and refused.

use std::sync::Arc;

use harbor_conformance::bus::faults::{self, CutProxy};
use harbor_conformance::bus::run;
use harbor_distributed::MessageBus;
use harbor_postgres::PostgresBus;
use harbor_test_support::postgres::PgServer;

async fn open(url: String) -> Arc<dyn MessageBus> {
    match PostgresBus::connect_url(&url).await {
        Ok(bus) => Arc::new(bus),
        Err(error) => panic!("cannot open a bus on the test cluster: {error}"),
    }
}

#[test]
fn restart_loses_nothing() {
    run(async {
        let Some(server) = PgServer::start().await else {
            return;
        };
        let url = server.url();
        let factory = move || open(url.clone());
        faults::restart_loses_nothing(&factory, &server, 10_000).await;
    });
}

#[test]
fn dead_consumer_hands_over() {
    run(async {
        let Some(server) = PgServer::start().await else {
            return;
        };
        let url = server.url();
        let factory = move || open(url.clone());
        faults::dead_consumer_hands_over(&factory).await;
    });
}

#[test]
fn connection_cut_recovers() {
    run(async {
        let Some(server) = PgServer::start().await else {
            return;
        };
        let proxy = CutProxy::start(server.addr())
            .await
            .expect("start the proxy");
        let url = format!("postgres://postgres@{}/postgres", proxy.addr());
        let factory = move || open(url.clone());
        faults::connection_cut_recovers(&factory, &proxy).await;
    });
}
