//! Helpers shared by the integration tests of the `harbor` binary.

pub mod cluster;
pub mod interop;
pub mod jsonrpc;
pub mod run;
pub mod serve;
pub mod worker;
