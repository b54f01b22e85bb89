//! The bus conformance suite against the server in `HARBOR_NATS_URL`.
//!
//! Each case gets its own bus on a fresh stream and subject prefix, deleted when the case
//! closes its bus (`temporary=true`).

use std::sync::Arc;

use harbor_distributed::MessageBus;
use harbor_nats::NatsBus;
use harbor_test_support::{nats, require};

harbor_conformance::bus_suite!({
    let url = require!(nats);
    move || {
        let url = nats::scratch_url(&url);
        async move {
            let bus = NatsBus::connect_url(&url)
                .await
                .expect("connect to HARBOR_NATS_URL");
            Arc::new(bus) as Arc<dyn MessageBus>
        }
    }
});
