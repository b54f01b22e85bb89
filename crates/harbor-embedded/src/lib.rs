//! Harbor's embedded durable engine: the default [`MessageBus`] and [`TaskStore`], in one
//! data directory, with no server to install.
//!
//! (Crate documentation is completed as the bus and the store land.)
//!
//! # Message bus
//!
//! [`EmbeddedBus`] is a durable log with consumer groups: `publish` returns once the
//! envelope is on disk (concurrent publishes share one fsync'd commit), acks are durable
//! when `ack` returns, unsettled deliveries come back after a restart or a crash with
//! their attempt counters continuing, and settled entries are kept for replay as long as
//! [`EmbeddedBusConfig`] says. Its [module docs](bus) describe the log, the tables and the
//! guarantees; [`raw`] holds the plain-redb baselines `harbor bench bus` compares it with.
//!
//! The registry driver [`EmbeddedBusDriver`] (name and scheme `embedded`) opens a
//! directory by URL; the URL form, its parameters, the capabilities and the limits are in
//! the [URL](#url), [Capabilities](#capabilities) and [Limits](#limits) sections below (the
//! crate's `docs.md`).
//!
//! ```no_run
//! # async fn example() -> Result<(), harbor_distributed::Error> {
//! use std::sync::Arc;
//! use harbor_distributed::Registry;
//! use harbor_embedded::EmbeddedBusDriver;
//!
//! let mut registry = Registry::new();
//! registry.register_bus(Arc::new(EmbeddedBusDriver))?;
//! let bus = registry
//!     .open_bus("embedded:///var/lib/harbor?retain_for=10m")
//!     .await?;
//! # bus.close().await
//! # }
//! ```
//!
//! # Task store
//!
//! [`EmbeddedTaskStore`] keeps tasks and push configs durably: every write is on disk when
//! the call returns, concurrent writes share a commit (group commit), ListTasks reads a
//! real index (newest status first, by context, by state), and terminal tasks and their
//! logs can expire ([`StoreConfig::retention`]). Its [module docs](store) show the tables
//! and an example.
//!
//! [`MessageBus`]: harbor_distributed::MessageBus
//! [`TaskStore`]: harbor_distributed::TaskStore

#![doc = include_str!("../docs.md")]

mod blocking;
pub mod bus;
mod driver;
mod engine;
mod errors;
pub mod raw;
pub mod store;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use bus::{EmbeddedBus, EmbeddedBusConfig};

/// The old name of [`EmbeddedBusConfig`].
#[deprecated(note = "renamed `EmbeddedBusConfig`, as every driver's config is `<Engine>BusConfig`")]
pub type BusConfig = EmbeddedBusConfig;
pub use driver::EmbeddedBusDriver;
pub use engine::{Embedded, EmbeddedConfig, FILE_NAME};
pub use store::{EmbeddedTaskStore, Retention, StoreConfig};
