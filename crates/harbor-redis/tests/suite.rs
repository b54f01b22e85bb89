//! The bus conformance suite against the Redis named by `HARBOR_REDIS_URL`.

use harbor_test_support::{redis, require};

harbor_conformance::bus_suite!({
    let url = require!(redis);
    move || {
        let url = url.clone();
        async move { redis::purging_bus(&url).await }
    }
});
