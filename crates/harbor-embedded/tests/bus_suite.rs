//! The whole bus conformance suite, each case on a bus in a fresh temporary directory.

mod support;

harbor_conformance::bus_suite!(|| async {
    std::sync::Arc::new(support::TempBus::open())
        as std::sync::Arc<dyn harbor_distributed::MessageBus>
});
