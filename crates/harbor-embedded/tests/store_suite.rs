//! The TaskStore and TaskLog conformance suites against a fresh embedded store in a
//! temporary directory.

use std::sync::Arc;

use harbor_conformance::store::ScopedLog;
use harbor_distributed::{TaskLog, TaskStore};
use harbor_embedded::{Embedded, EmbeddedConfig};

/// The store of an engine in its own directory: the engine (and its file) is closed after
/// the store, and the directory deleted after that.
fn fresh() -> Arc<ScopedLog> {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Embedded::open(EmbeddedConfig::new(dir.path())).expect("open");
    Arc::new(
        ScopedLog::new(engine.task_store())
            .keeping(engine)
            .keeping(dir),
    )
}

harbor_conformance::task_store_suite!(|| async { fresh() as Arc<dyn TaskStore> });

mod log {
    use super::*;

    harbor_conformance::task_log_suite!(|| async { fresh() as Arc<dyn TaskLog> });
}
