//! Harbor's embedded durable engine: the default [`MessageBus`] and [`TaskStore`], in one
//! data directory, with no server to install.
//!
//! (Crate documentation is completed as the bus and the store land.)
//!
//! [`MessageBus`]: harbor_distributed::MessageBus
//! [`TaskStore`]: harbor_distributed::TaskStore

pub mod bus;
mod engine;
pub mod store;

pub use bus::{BusConfig, EmbeddedBus};
pub use engine::{Embedded, EmbeddedConfig, FILE_NAME};
pub use store::{EmbeddedTaskStore, StoreConfig};
