//! Conformance suites as a library.
//!
//! Every driver of a contract runs the same cases: [`bus`] for [`MessageBus`] drivers and
//! [`transport`] for [`RemoteTransport`] drivers, and [`server`] checks an A2A server over HTTP
//! at any base URL. Each case is a plain async function that
//! panics with a clear message when the driver breaks the contract; the macros in each module
//! turn the whole suite into one `#[tokio::test]` per case for a driver's test crate, and run
//! optional cases only where the driver declares the capability.
//!
//! [`MessageBus`]: harbor_distributed::MessageBus
//! [`RemoteTransport`]: harbor_distributed::RemoteTransport

pub mod bus;
pub mod server;
pub mod store;
pub mod transport;
