//! The bus conformance suite against the Redis named by `HARBOR_REDIS_URL`.

mod support;

harbor_conformance::bus_suite!(env = "HARBOR_REDIS_URL", |url: String| async move {
    support::open_purging(&url).await
});
