//! The memory bus runs the whole bus conformance suite.

use std::sync::Arc;

use harbor_distributed::MessageBus;
use harbor_distributed::memory::{MemoryBus, MemoryBusConfig};

harbor_conformance::bus_suite!(|| async {
    Arc::new(MemoryBus::new(MemoryBusConfig::default())) as Arc<dyn MessageBus>
});

/// The same driver opened through the registry, by URL, with a group buffer of 8 and
/// batches of 3, so the concurrency cases run through the backpressure paths. (Cases that
/// publish dozens of envelopes before consuming any would wait on that buffer forever.)
mod small_buffer {
    use super::*;

    harbor_conformance::bus_suite!(@cases || async {
        let mut registry = harbor_distributed::Registry::new();
        registry
            .register_bus(Arc::new(harbor_distributed::memory::MemoryBusDriver))
            .expect("register the memory driver");
        registry
            .open_bus("memory://?group_buffer=8&delivery_batch=3")
            .await
            .expect("open memory://")
    };
        delivers_to_subscribers,
        multiple_edges_concurrently,
        publisher_close_delivers_all,
        concurrent_publishers_lose_nothing,
        concurrent_subscribe,
        consumer_groups_each_get_all,
        group_members_share_without_loss,
        per_edge_order_single_subscriber,
        dead_letter_with_reason_and_count,
    );
}

/// The metered wrapper `harbor serve` puts around a bus when metrics are on keeps every
/// promise of the driver it wraps.
mod metered {
    use super::*;

    harbor_conformance::bus_suite!(|| async {
        let bus = Arc::new(MemoryBus::new(MemoryBusConfig::default())) as Arc<dyn MessageBus>;
        Arc::new(harbor_distributed::MeteredBus::new(bus, "memory")) as Arc<dyn MessageBus>
    });
}
