//! The RemoteTransport conformance suite.
//!
//! Every [`RemoteTransport`] driver runs the same cases against the same
//! [`ConformanceAgent`]: a [`TransportFactory`] gives each case a fresh [`Fixture`] (a
//! transport and the peers hosting new agents), and each case in [`cases`] is a `pub async
//! fn` that panics with a clear message when the transport breaks the contract. Cases that
//! need an optional capability ([`TransportCapabilities`]) pass without checking anything
//! when the factory does not declare it; declaring one makes its cases mandatory.
//!
//! [`transport_suite!`](crate::transport_suite) turns the whole suite into one
//! `#[tokio::test]` per case, in a driver's integration tests (the calling crate needs
//! `tokio` with the `macros` and `rt-multi-thread` features):
//!
//! ```text
//! harbor_conformance::transport_suite!(harbor_conformance::transport::LoopbackFactory);
//! ```
//!
//! A single case is an ordinary future:
//!
//! ```
//! use harbor_conformance::transport::{LoopbackFactory, cases};
//!
//! let runtime = tokio::runtime::Runtime::new()?;
//! runtime.block_on(cases::send_round_trip(&LoopbackFactory));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The agent's behaviour is keyed by the prefix of each message id (see [`agent`]); cases
//! wait on conditions with deadlines ([`DEADLINE`]), never on sleeps.
//!
//! [`RemoteTransport`]: harbor_distributed::RemoteTransport

pub mod agent;
pub mod cases;
mod factory;
mod loopback;
pub(crate) mod model;
mod suite;

pub use agent::{ConformanceAgent, RecordedCall};
pub use cases::DEADLINE;
pub use factory::{Fixture, HostedAgent, TransportCapabilities, TransportFactory};
pub use loopback::LoopbackFactory;
