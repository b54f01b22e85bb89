//! The A2A server conformance suite, over HTTP, against any base URL.
//!
//! A [`ServerTarget`] fetches the card at `{base}/.well-known/agent-card.json` and takes
//! the `JSONRPC`, `HTTP+JSON` and `GRPC` interface URLs from its `supportedInterfaces`.
//! Each case in [`cases`] (and in [`grpc::cases`]) is a `pub async fn` returning
//! `Result<(), CaseFailure>`; cases that apply to both JSON bindings run once per binding,
//! the `grpc_*` cases check the same semantics over gRPC, and a failure names the
//! binding, the RPC and what differed. Every answer is checked on the way in: the binding's envelope
//! (JSON-RPC 2.0 with the same id and an error object of only `code`/`message`/`data`;
//! AIP-193 errors whose `code` is the HTTP status; `application/json`), one `data:` line
//! per SSE event, and the serialization rules (no snake_case keys, no `kind`, timestamps
//! ending in `Z`).
//!
//! The cases assume the agent behaves per the conformance kit's message-id prefix table,
//! as the built-in agent of `harbor serve` does. Cases that need a capability the card
//! does not declare are skipped with the reason, and push delivery runs only when
//! [`TargetOptions::allow_loopback_webhooks`] is set. Waits poll conditions with a
//! deadline ([`TargetOptions::deadline`]); none sleeps and hopes.
//!
//! Two ways to run it:
//!
//! - [`server_suite!`](crate::server_suite) expands to one `#[tokio::test]` per case and
//!   binding, given an async factory of targets (which may start a server in-process);
//! - [`run_all`] runs every case against one target and returns a [`Report`] (name,
//!   binding, pass, fail or skip with the reason) for a CLI to print:
//!
//! ```no_run
//! use harbor_conformance::server::{ServerTarget, run_all};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let target = ServerTarget::connect("http://127.0.0.1:8080").await?;
//! let report = run_all(&target).await;
//! println!("{report}");
//! assert!(report.is_success());
//! # Ok(())
//! # }
//! ```

mod areas;
mod binding;
pub mod cases;
pub mod checks;
mod failure;
pub mod grpc;
mod report;
pub mod rpc;
pub mod sse;
mod suite;
pub mod target;
pub mod webhook;

pub use areas::AREAS;
pub use binding::Binding;
pub use failure::{At, CaseFailure, conclude};
pub use report::{
    CASES, CaseEntry, CaseFn, CaseReport, Outcome, Report, run_all, run_case, run_matching,
};
pub use target::{ServerTarget, TargetError, TargetOptions};
