//! The embedded bus (placeholder until the bus lands).

use std::sync::Arc;

use harbor_distributed::Error;
use redb::Database;

/// Settings of the embedded bus.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BusConfig {}

/// The embedded bus.
#[derive(Debug)]
pub struct EmbeddedBus {
    _db: Arc<Database>,
}

impl EmbeddedBus {
    /// Opens the bus tables of `db`.
    pub fn new(db: Arc<Database>, _config: BusConfig) -> Result<Self, Error> {
        Ok(Self { _db: db })
    }
}
