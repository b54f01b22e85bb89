//! The bus conformance suite against the server in `HARBOR_NATS_URL`.
//!
//! Each case gets its own bus on a fresh stream and subject prefix, deleted when the case
//! closes its bus (`temporary=true`).

use std::sync::Arc;

use harbor_distributed::MessageBus;
use harbor_nats::NatsBus;

/// `url` with a fresh stream and prefix of its own, removed on close.
fn scratch(url: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}stream=T{id}&prefix=t{id}&temporary=true")
}

harbor_conformance::bus_suite!(env = "HARBOR_NATS_URL", |url: String| async move {
    let bus = NatsBus::connect_url(&scratch(&url))
        .await
        .expect("connect to HARBOR_NATS_URL");
    Arc::new(bus) as Arc<dyn MessageBus>
});
