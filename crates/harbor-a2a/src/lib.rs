//! The A2A (Agent2Agent) protocol v1.0 data model.
//!
//! Every message and enum of `lf.a2a.v1`, generated from our own `proto/lf/a2a/v1/a2a.proto`
//! at build time by a pure-Rust pipeline (protox, prost, pbjson; tonic with the `grpc`
//! feature), with ProtoJSON serde, validation, task-state rules and the protocol error table.
//! This crate does no I/O.

#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod pb {
    //! The generated protobuf types of package `lf.a2a.v1`.
    include!(concat!(env!("OUT_DIR"), "/lf.a2a.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/lf.a2a.v1.serde.rs"));
}

pub mod error;

pub use error::{A2aError, ERROR_TABLE, ErrorKind, ErrorMapping, GrpcCode, VersionErrorCode};
pub use pb::*;
