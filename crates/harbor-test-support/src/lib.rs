//! What Harbor's integration tests share (`publish = false`, a dev-dependency only).
//!
//! - **Skipping**: a test that needs a service reads its URL from `HARBOR_<ENGINE>_URL`
//!   ([`Engine`]); [`require!`] gives the URL or skips. Every skip goes through [`skip()`],
//!   which prints one line to stderr, `skipped: <test>: <reason>`, and the test passes.
//! - **Server harnesses** (one feature per engine, so a crate pulls in only the engines it
//!   tests): [`nats`], [`redis`], [`postgres`]. Each has the CI/dev server named by its
//!   variable and a throwaway server started from the installed binary on a free port,
//!   which fault tests stop (abruptly) and start again through
//!   [`ServiceControl`](harbor_conformance::bus::faults::ServiceControl).
//! - **Fixtures**: [`cards`] (the agent cards tests serve) and [`forward::Forward`] (a
//!   handler that hands every RPC to another, counting streams or rewriting the card).
//!
//! ```no_run
//! # async fn open(_: &str) {}
//! #[tokio::test]
//! async fn reads_from_redis() {
//!     let url = harbor_test_support::require!(redis); // or: skipped, with the reason
//!     open(&url).await;
//! }
//! ```

pub mod cards;
pub mod forward;
#[cfg(feature = "nats")]
pub mod nats;
#[cfg(feature = "postgres")]
pub mod postgres;
mod process;
#[cfg(feature = "redis")]
pub mod redis;
mod skip;
mod url;

pub use process::{free_port, wait_until};
pub use skip::{Engine, server_url, skip, test_name};
pub use url::with_query;
