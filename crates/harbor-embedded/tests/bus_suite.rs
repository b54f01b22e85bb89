//! The whole bus conformance suite, each case on a bus in a fresh temporary directory.

use std::sync::Arc;

use harbor_conformance::bus::ScopedBus;
use harbor_distributed::MessageBus;
use harbor_embedded::{Embedded, EmbeddedConfig};

/// A bus that owns its engine and its directory (dropped in that order, after the bus).
fn open() -> Arc<dyn MessageBus> {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Embedded::open(EmbeddedConfig::new(dir.path())).expect("open the engine");
    Arc::new(ScopedBus::new(engine.bus()).holding((engine, dir)))
}

harbor_conformance::bus_suite!(|| async { open() });
