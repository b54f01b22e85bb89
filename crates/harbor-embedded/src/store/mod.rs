//! The embedded task store (placeholder until the store lands).

use std::sync::Arc;

use harbor_distributed::Error;
use redb::Database;

/// Settings of the embedded task store.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreConfig {}

/// The embedded task store.
#[derive(Debug)]
pub struct EmbeddedTaskStore {
    _db: Arc<Database>,
}

impl EmbeddedTaskStore {
    /// Opens the task tables of `db`.
    pub fn new(db: Arc<Database>, _config: StoreConfig) -> Result<Self, Error> {
        Ok(Self { _db: db })
    }
}
