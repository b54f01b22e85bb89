//! Fault cases on a redis-server of the test's own (append-only file, SIGKILL on stop).

use std::sync::Arc;

use harbor_conformance::bus::faults::{self, CutProxy};
use harbor_conformance::bus::run;
use harbor_distributed::MessageBus;
use harbor_redis::RedisBus;
use harbor_test_support::redis::{RedisServer, random_prefix, with_prefix};

/// A factory of buses sharing one prefix on `url` (the fault cases open several).
fn factory(url: String) -> impl Fn() -> futures::future::BoxFuture<'static, Arc<dyn MessageBus>> {
    move || {
        let url = url.clone();
        Box::pin(async move {
            match RedisBus::connect_url(&url).await {
                Ok(bus) => Arc::new(bus) as Arc<dyn MessageBus>,
                Err(error) => panic!("cannot open the redis bus: {error}"),
            }
        })
    }
}

#[test]
fn restart_loses_nothing() {
    run(async {
        let Some(server) = RedisServer::start().await else {
            return;
        };
        let url = with_prefix(&server.url(), &random_prefix());
        faults::restart_loses_nothing(&factory(url), &server, 10_000).await;
    });
}

#[test]
fn dead_consumer_hands_over() {
    run(async {
        let Some(server) = RedisServer::start().await else {
            return;
        };
        let url = with_prefix(&server.url(), &random_prefix());
        faults::dead_consumer_hands_over(&factory(url)).await;
    });
}

#[test]
fn connection_cut_recovers() {
    run(async {
        let Some(server) = RedisServer::start().await else {
            return;
        };
        let proxy = match CutProxy::start(server.addr()).await {
            Ok(proxy) => proxy,
            Err(error) => panic!("cannot start the proxy: {error}"),
        };
        let url = with_prefix(&format!("redis://{}", proxy.addr()), &random_prefix());
        faults::connection_cut_recovers(&factory(url), &proxy).await;
    });
}
