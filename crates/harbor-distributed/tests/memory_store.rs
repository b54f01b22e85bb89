//! The in-memory task store runs the whole TaskStore and TaskLog conformance suites.

use std::sync::Arc;

use harbor_distributed::{MemoryTaskStore, TaskLog, TaskStore};

harbor_conformance::task_store_suite!(|| async {
    Arc::new(MemoryTaskStore::new()) as Arc<dyn TaskStore>
});

mod log {
    use super::*;

    harbor_conformance::task_log_suite!(|| async {
        Arc::new(MemoryTaskStore::new()) as Arc<dyn TaskLog>
    });
}
