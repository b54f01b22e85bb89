//! The A2A (Agent2Agent) protocol v1.0 data model.
//!
//! Every message and enum of `lf.a2a.v1`, generated from our own `proto/lf/a2a/v1/a2a.proto`
//! at build time by a pure-Rust pipeline (protox, prost, pbjson; tonic with the `grpc`
//! feature), and around them what every binding and both sides of a call need:
//!
//! - [`json`]: ProtoJSON exactly as A2A uses it (camelCase out, both name styles in, enums as
//!   names, no `kind`, base64 bytes, `Z` timestamps, REQUIRED fields kept), with
//!   [`to_json`]/[`from_json`] helpers that return typed errors;
//! - [`validate`]: the [`Validate`] trait (REQUIRED fields, one member per oneof, paging and
//!   history ranges), with errors that name the field;
//! - [`state`]: the task lifecycle rules ([`TaskState::is_terminal`],
//!   [`TaskState::can_transition_to`], [`state::check_transition`]);
//! - [`for_each_rpc!`]: the one list of the 11 RPCs, which every binding's per-RPC code is
//!   generated from; [`methods`]: their JSON-RPC names, gRPC paths and HTTP+JSON routes;
//! - [`error`]: [`A2aError`] and [`ERROR_TABLE`], the one table that maps each protocol error
//!   to its JSON-RPC code, HTTP status, gRPC code and ErrorInfo reason, with the wire forms
//!   (JSON-RPC `error`, AIP-193 body, `google.rpc.Status` with ErrorInfo for gRPC);
//! - [`builders`]: small constructors such as [`Part::text`], [`Message::user`] and
//!   [`TaskStatus::now`].
//!
//! This crate does no I/O.
//!
//! # Features
//!
//! - `grpc` (off by default): generates the tonic client and server stubs of
//!   `lf.a2a.v1.A2AService` (`pb::a2a_service_client`, `pb::a2a_service_server`).
//!
//! # Example
//!
//! Parse a request as a JSON-RPC `params` or an HTTP body would carry it, then validate it:
//!
//! ```
//! use harbor_a2a::{ErrorKind, SendMessageRequest, Validate, from_json};
//!
//! let request: SendMessageRequest = from_json(
//!     r#"{"message": {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "hi"}]},
//!         "configuration": {"history_length": 2}}"#,
//! )?;
//! request.validate()?;
//! assert_eq!(request.message.as_ref().map(|m| m.text()).as_deref(), Some("hi"));
//!
//! // An empty part is not text "": it breaks the one-of rule, and the error says where.
//! let bad: SendMessageRequest =
//!     from_json(r#"{"message": {"messageId": "m1", "role": "ROLE_USER", "parts": [{}]}}"#)?;
//! let err = bad.validate().unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::InvalidParams);
//! assert_eq!(err.message(), "message.parts[0]: exactly one of text, raw, url, data must be set");
//! assert_eq!(err.to_json_rpc_error()["code"], -32602);
//! # Ok::<(), harbor_a2a::A2aError>(())
//! ```

#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod pb {
    //! The generated protobuf types of package `lf.a2a.v1`.
    include!(concat!(env!("OUT_DIR"), "/lf.a2a.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/lf.a2a.v1.serde.rs"));
}

pub mod builders;
pub mod canonical;
pub mod error;
#[cfg(feature = "grpc")]
pub mod grpc_codec;
pub mod json;
pub mod methods;
mod redact;
mod rpcs;
pub mod state;
pub mod validate;

pub use builders::TimestampExt;
pub use error::{
    A2aError, ERROR_DOMAIN, ERROR_INFO_TYPE, ERROR_TABLE, ErrorKind, ErrorMapping, GrpcCode,
    RpcAny, RpcErrorInfo, RpcStatus, VersionErrorCode,
};
pub use json::{from_json, from_json_slice, from_json_value, to_json, to_json_string};
pub use methods::{HttpVerb, Method, RestRoute, RouteFields};
pub use pb::*;
pub use validate::Validate;

/// The well-known types (`Timestamp`, `Struct`, `Value`, `Empty`) the generated messages use.
pub use pbjson_types;

/// The compiled `FileDescriptorSet` of `a2a.proto` (for gRPC reflection, or to check the
/// method table against the proto).
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/a2a_descriptor.bin"));
