//! Helpers shared by the integration tests of the `harbor` binary.

pub mod run;
pub mod serve;
