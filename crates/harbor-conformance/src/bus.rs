//! The MessageBus conformance suite.
//!
//! Every [`MessageBus`] driver runs the same cases. A [`BusFactory`] gives each case a fresh
//! bus, and each case also works in its own random namespace (edge prefix, group and tenant
//! names), so drivers backed by a shared server can run cases side by side. Every case is a
//! `pub async fn` in [`cases`] that panics with a clear message when the driver breaks the
//! contract; cases wait on conditions with deadlines ([`cases::WAIT`]), never on sleeps.
//!
//! Optional cases run only where the driver's [`Capabilities`] declare them; otherwise they
//! print why they skipped and pass. Declaring a capability makes its cases mandatory.
//!
//! [`bus_suite!`](crate::bus_suite) turns the whole suite into one `#[test]` per case in a
//! driver's integration tests (each on its own two-worker tokio runtime; the calling crate
//! needs no tokio of its own):
//!
//! ```text
//! harbor_conformance::bus_suite!(|| async {
//!     std::sync::Arc::new(harbor_distributed::memory::MemoryBus::default())
//!         as std::sync::Arc<dyn harbor_distributed::MessageBus>
//! });
//! ```
//!
//! A single case is an ordinary future:
//!
//! ```
//! use std::sync::Arc;
//! use harbor_conformance::bus::{cases, run};
//! use harbor_distributed::{MessageBus, memory::MemoryBus};
//!
//! let factory = || async { Arc::new(MemoryBus::default()) as Arc<dyn MessageBus> };
//! run(cases::delivers_to_subscribers(&factory));
//! ```
//!
//! [`MessageBus`]: harbor_distributed::MessageBus
//! [`Capabilities`]: harbor_distributed::Capabilities

pub mod cases;
mod factory;
pub mod faults;
mod namespace;
mod scoped;
mod suite;
mod support;

pub use factory::{BusFactory, run};
pub use namespace::Namespace;
pub use scoped::ScopedBus;
