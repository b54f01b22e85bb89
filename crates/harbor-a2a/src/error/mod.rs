//! Protocol errors and the one table that maps each to every binding's wire form.
//!
//! [`ERROR_TABLE`] is the single source: the JSON-RPC, HTTP+JSON and gRPC forms (see
//! [`A2aError::to_json_rpc_error`], [`A2aError::to_rest_body`], [`A2aError::grpc_code`] with
//! [`A2aError::to_grpc_status_details`]) and their parsers all read it.

mod grpc;
mod wire;

pub use grpc::{RpcAny, RpcErrorInfo, RpcStatus};

use std::collections::BTreeMap;
use std::fmt;

/// The most bytes of a caller's value (an id, say) that an error message quotes.
pub const QUOTED_BYTES: usize = 128;

/// `value` as an error message may quote it: whole up to [`QUOTED_BYTES`], else its start
/// and how long it was (a huge id sent by a client is not echoed back at it).
///
/// ```
/// use harbor_a2a::error::clip;
///
/// assert_eq!(clip("t-1"), "t-1");
/// assert_eq!(clip(&"x".repeat(1000)), format!("{}… (1000 bytes)", "x".repeat(128)));
/// ```
pub fn clip(value: &str) -> std::borrow::Cow<'_, str> {
    if value.len() <= QUOTED_BYTES {
        return value.into();
    }
    let mut end = QUOTED_BYTES;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &value[..end], value.len()).into()
}

/// The ErrorInfo `domain` of every A2A error.
pub const ERROR_DOMAIN: &str = "a2a-protocol.org";

/// The `@type` of a `google.rpc.ErrorInfo` detail in JSON.
pub const ERROR_INFO_TYPE: &str = "type.googleapis.com/google.rpc.ErrorInfo";

/// What kind of protocol error this is: one row of the mapping table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No such task, or not visible to the caller.
    TaskNotFound,
    /// The task is in a state that cannot be canceled.
    TaskNotCancelable,
    /// The agent does not support push notifications.
    PushNotificationNotSupported,
    /// The operation is not supported (capability off, terminal task, ...).
    UnsupportedOperation,
    /// A media type is not supported by the agent.
    ContentTypeNotSupported,
    /// The agent produced an invalid response.
    InvalidAgentResponse,
    /// The extended card is declared but not configured.
    ExtendedAgentCardNotConfigured,
    /// The agent requires an extension the client did not declare.
    ExtensionSupportRequired,
    /// The requested `A2A-Version` is not supported.
    VersionNotSupported,
    /// JSON-RPC -32700: the payload is not JSON.
    JsonParse,
    /// JSON-RPC -32600: the payload is not a valid request.
    InvalidRequest,
    /// JSON-RPC -32601: no such method.
    MethodNotFound,
    /// JSON-RPC -32602: the parameters are invalid.
    InvalidParams,
    /// JSON-RPC -32603: an internal error.
    Internal,
    /// No credentials, or credentials that do not authenticate (HTTP 401, gRPC
    /// UNAUTHENTICATED). Not in the A2A table, which leaves authentication to the
    /// transport; Harbor's JSON-RPC code is -32041.
    Unauthenticated,
    /// Authenticated, but not allowed to do this (HTTP 403, gRPC PERMISSION_DENIED; JSON-RPC
    /// -32043). Never used to hide a task: a task another caller owns is TaskNotFound.
    PermissionDenied,
    /// Too many failed authentication attempts from one source (HTTP 429, gRPC
    /// RESOURCE_EXHAUSTED; JSON-RPC -32029): retry later.
    RateLimited,
}

/// gRPC status codes used by the table (the numeric values of `google.rpc.Code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrpcCode {
    /// 3
    InvalidArgument = 3,
    /// 5
    NotFound = 5,
    /// 7
    PermissionDenied = 7,
    /// 8
    ResourceExhausted = 8,
    /// 9
    FailedPrecondition = 9,
    /// 12
    Unimplemented = 12,
    /// 13
    Internal = 13,
    /// 16
    Unauthenticated = 16,
}

impl GrpcCode {
    /// Every code the table uses.
    pub const ALL: [GrpcCode; 8] = [
        Self::InvalidArgument,
        Self::NotFound,
        Self::PermissionDenied,
        Self::ResourceExhausted,
        Self::FailedPrecondition,
        Self::Unimplemented,
        Self::Internal,
        Self::Unauthenticated,
    ];

    /// The numeric value (`google.rpc.Code`).
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The code with this numeric value, if the table uses it.
    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The code with this upper-case name, if the table uses it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The canonical upper-case name (`NOT_FOUND`), as used in AIP-193 `status`.
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidArgument => "INVALID_ARGUMENT",
            Self::NotFound => "NOT_FOUND",
            Self::PermissionDenied => "PERMISSION_DENIED",
            Self::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Self::FailedPrecondition => "FAILED_PRECONDITION",
            Self::Unimplemented => "UNIMPLEMENTED",
            Self::Internal => "INTERNAL",
            Self::Unauthenticated => "UNAUTHENTICATED",
        }
    }
}

/// One row of the error table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorMapping {
    /// The kind this row describes.
    pub kind: ErrorKind,
    /// JSON-RPC error code.
    pub json_rpc: i32,
    /// HTTP status of the HTTP+JSON binding.
    pub http_status: u16,
    /// gRPC status code.
    pub grpc: GrpcCode,
    /// `google.rpc.ErrorInfo.reason`.
    pub reason: &'static str,
    /// The standard message, used when no better one is given.
    pub default_message: &'static str,
}

/// The table, as of A2A v1.0.1 (every binding reads it, nothing else).
pub const ERROR_TABLE: &[ErrorMapping] = &[
    row(
        ErrorKind::TaskNotFound,
        -32001,
        404,
        GrpcCode::NotFound,
        "TASK_NOT_FOUND",
        "task not found",
    ),
    row(
        ErrorKind::TaskNotCancelable,
        -32002,
        400,
        GrpcCode::FailedPrecondition,
        "TASK_NOT_CANCELABLE",
        "task cannot be canceled",
    ),
    row(
        ErrorKind::PushNotificationNotSupported,
        -32003,
        400,
        GrpcCode::FailedPrecondition,
        "PUSH_NOTIFICATION_NOT_SUPPORTED",
        "push notifications are not supported",
    ),
    row(
        ErrorKind::UnsupportedOperation,
        -32004,
        400,
        GrpcCode::FailedPrecondition,
        "UNSUPPORTED_OPERATION",
        "this operation is not supported",
    ),
    row(
        ErrorKind::ContentTypeNotSupported,
        -32005,
        400,
        GrpcCode::InvalidArgument,
        "CONTENT_TYPE_NOT_SUPPORTED",
        "content type not supported",
    ),
    row(
        ErrorKind::InvalidAgentResponse,
        -32006,
        500,
        GrpcCode::Internal,
        "INVALID_AGENT_RESPONSE",
        "the agent returned an invalid response",
    ),
    row(
        ErrorKind::ExtendedAgentCardNotConfigured,
        -32007,
        400,
        GrpcCode::FailedPrecondition,
        "EXTENDED_AGENT_CARD_NOT_CONFIGURED",
        "the extended agent card is not configured",
    ),
    row(
        ErrorKind::ExtensionSupportRequired,
        -32008,
        400,
        GrpcCode::FailedPrecondition,
        "EXTENSION_SUPPORT_REQUIRED",
        "a required extension was not declared",
    ),
    row(
        ErrorKind::VersionNotSupported,
        -32009,
        400,
        GrpcCode::FailedPrecondition,
        "VERSION_NOT_SUPPORTED",
        "this A2A version is not supported",
    ),
    row(
        ErrorKind::JsonParse,
        -32700,
        400,
        GrpcCode::InvalidArgument,
        "JSON_PARSE_ERROR",
        "invalid JSON payload",
    ),
    row(
        ErrorKind::InvalidRequest,
        -32600,
        400,
        GrpcCode::InvalidArgument,
        "INVALID_REQUEST",
        "request payload validation error",
    ),
    row(
        ErrorKind::MethodNotFound,
        -32601,
        404,
        GrpcCode::Unimplemented,
        "METHOD_NOT_FOUND",
        "method not found",
    ),
    row(
        ErrorKind::InvalidParams,
        -32602,
        400,
        GrpcCode::InvalidArgument,
        "INVALID_PARAMS",
        "invalid parameters",
    ),
    row(
        ErrorKind::Internal,
        -32603,
        500,
        GrpcCode::Internal,
        "INTERNAL_ERROR",
        "internal error",
    ),
    // Authentication is the transport's business in A2A: these rows are Harbor's, with codes
    // from the JSON-RPC range for implementation-defined server errors.
    row(
        ErrorKind::Unauthenticated,
        -32041,
        401,
        GrpcCode::Unauthenticated,
        "UNAUTHENTICATED",
        "authentication required",
    ),
    row(
        ErrorKind::PermissionDenied,
        -32043,
        403,
        GrpcCode::PermissionDenied,
        "PERMISSION_DENIED",
        "permission denied",
    ),
    row(
        ErrorKind::RateLimited,
        -32029,
        429,
        GrpcCode::ResourceExhausted,
        "RATE_LIMITED",
        "too many failed authentication attempts; retry later",
    ),
];

#[rustfmt::skip]
const fn row(kind: ErrorKind, json_rpc: i32, http_status: u16, grpc: GrpcCode, reason: &'static str, default_message: &'static str) -> ErrorMapping {
    ErrorMapping { kind, json_rpc, http_status, grpc, reason, default_message }
}

/// How the gRPC code of `VersionNotSupported` is chosen.
///
/// The v1.0.1 table says FAILED_PRECONDITION; the v1.0.0 table and the official
/// conformance kit expect UNIMPLEMENTED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersionErrorCode {
    /// FAILED_PRECONDITION, as the current specification says (the default).
    #[default]
    Spec,
    /// UNIMPLEMENTED, for peers that follow v1.0.0.
    Compat,
}

impl ErrorKind {
    /// This kind's row of [`ERROR_TABLE`].
    pub fn mapping(self) -> &'static ErrorMapping {
        ERROR_TABLE
            .iter()
            .find(|m| m.kind == self)
            .unwrap_or(&ERROR_TABLE[13])
    }

    /// The kind for a JSON-RPC error code, if the code is in the table.
    pub fn from_json_rpc(code: i32) -> Option<Self> {
        ERROR_TABLE
            .iter()
            .find(|m| m.json_rpc == code)
            .map(|m| m.kind)
    }

    /// The kind for an ErrorInfo reason, if the reason is in the table.
    pub fn from_reason(reason: &str) -> Option<Self> {
        ERROR_TABLE
            .iter()
            .find(|m| m.reason == reason)
            .map(|m| m.kind)
    }

    /// The gRPC code, honouring the VersionNotSupported setting.
    pub fn grpc_code(self, version_code: VersionErrorCode) -> GrpcCode {
        match (self, version_code) {
            (Self::VersionNotSupported, VersionErrorCode::Compat) => GrpcCode::Unimplemented,
            _ => self.mapping().grpc,
        }
    }
}

/// A protocol error: a kind from the table, a message and ErrorInfo metadata.
#[derive(Clone, PartialEq, Eq)]
pub struct A2aError {
    kind: ErrorKind,
    message: String,
    metadata: BTreeMap<String, String>,
}

impl A2aError {
    /// An error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            metadata: BTreeMap::new(),
        }
    }

    /// Adds an ErrorInfo metadata entry (for example `taskId`).
    #[must_use]
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// TaskNotFound for `task_id` (a long id is [clipped](clip)).
    pub fn task_not_found(task_id: &str) -> Self {
        let task_id = clip(task_id);
        Self::new(ErrorKind::TaskNotFound, format!("task {task_id} not found"))
            .with_metadata("taskId", task_id)
    }

    /// InvalidParams with a reason.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParams, message)
    }

    /// UnsupportedOperation with a reason.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnsupportedOperation, message)
    }

    /// Internal error with a reason.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The ErrorInfo metadata.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The table row of this error's kind.
    pub fn mapping(&self) -> &'static ErrorMapping {
        self.kind.mapping()
    }

    /// The `google.rpc.ErrorInfo` detail in ProtoJSON, with its `@type` (an empty
    /// `metadata` map is omitted, as ProtoJSON omits default values).
    pub fn error_info_json(&self) -> serde_json::Value {
        let mut info = serde_json::json!({
            "@type": ERROR_INFO_TYPE,
            "reason": self.mapping().reason,
            "domain": ERROR_DOMAIN,
        });
        if !self.metadata.is_empty() {
            info["metadata"] = serde_json::json!(self.metadata);
        }
        info
    }
}

impl fmt::Debug for A2aError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("A2aError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("metadata", &self.metadata)
            .finish()
    }
}

impl fmt::Display for A2aError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            self.mapping().reason.to_ascii_lowercase(),
            self.message
        )
    }
}

impl std::error::Error for A2aError {}
