//! Helpers shared by the integration tests of the `harbor` binary.

pub mod cluster;
pub mod interop;
pub mod run;
pub mod serve;
