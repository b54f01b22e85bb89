//! The in-memory task store runs the whole TaskStore conformance suite.

use std::sync::Arc;

use harbor_distributed::{MemoryTaskStore, TaskStore};

harbor_conformance::task_store_suite!(|| async {
    Arc::new(MemoryTaskStore::new()) as Arc<dyn TaskStore>
});
