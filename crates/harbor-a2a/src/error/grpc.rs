//! The gRPC wire form of an [`A2aError`]: a `google.rpc.Status` (code, message, details)
//! whose details hold a `google.rpc.ErrorInfo`, protobuf-encoded as gRPC carries it in the
//! `grpc-status-details-bin` trailer.
//!
//! The three messages are declared here with prost (their field numbers are those of
//! `google/rpc/status.proto`, `error_details.proto` and `google/protobuf/any.proto`), so the
//! form needs neither tonic nor a second proto set. A binding puts [`A2aError::grpc_code`]
//! and [`A2aError::to_grpc_status_details`] into its status type; a client reads them back
//! with [`A2aError::from_grpc_status`].

use std::collections::HashMap;

use prost::Message as _;

use super::{A2aError, ERROR_DOMAIN, ERROR_INFO_TYPE, ErrorKind, GrpcCode, VersionErrorCode};

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    /// The `google.rpc.Code`.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// The developer-facing message.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Details, each a packed message.
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<RpcAny>,
}

/// `google.protobuf.Any`: a type URL and the encoded message.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcAny {
    /// `type.googleapis.com/<full message name>`.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// The encoded message.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.rpc.ErrorInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcErrorInfo {
    /// The reason, UPPER_SNAKE (`TASK_NOT_FOUND`).
    #[prost(string, tag = "1")]
    pub reason: String,
    /// The domain (`a2a-protocol.org` for A2A errors).
    #[prost(string, tag = "2")]
    pub domain: String,
    /// Extra facts, such as the `taskId`.
    #[prost(map = "string, string", tag = "3")]
    pub metadata: HashMap<String, String>,
}

impl A2aError {
    /// The `google.rpc.Status` of this error, with its ErrorInfo in `details`.
    pub fn to_grpc_status(&self, version_code: VersionErrorCode) -> RpcStatus {
        let info = RpcErrorInfo {
            reason: self.reason().to_owned(),
            domain: ERROR_DOMAIN.to_owned(),
            metadata: self
                .metadata()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        RpcStatus {
            code: self.grpc_code(version_code).code(),
            message: self.message().to_owned(),
            details: vec![RpcAny {
                type_url: ERROR_INFO_TYPE.to_owned(),
                value: info.encode_to_vec(),
            }],
        }
    }

    /// The encoded `google.rpc.Status`: the value of the `grpc-status-details-bin` trailer.
    ///
    /// ```
    /// use harbor_a2a::{A2aError, GrpcCode, VersionErrorCode};
    ///
    /// let error = A2aError::task_not_found("t1");
    /// let code = error.grpc_code(VersionErrorCode::Spec);
    /// assert_eq!(code, GrpcCode::NotFound);
    /// let details = error.to_grpc_status_details(VersionErrorCode::Spec);
    /// let back = A2aError::from_grpc_status(code.code(), error.message(), &details);
    /// assert_eq!(back, Some(error));
    /// ```
    pub fn to_grpc_status_details(&self, version_code: VersionErrorCode) -> Vec<u8> {
        self.to_grpc_status(version_code).encode_to_vec()
    }

    /// Reads a gRPC error from its code, message and `grpc-status-details-bin` bytes.
    ///
    /// The kind comes from an A2A ErrorInfo in the details when there is one. Without one,
    /// only the codes an application sends count: NOT_FOUND is TaskNotFound, UNIMPLEMENTED
    /// MethodNotFound, INVALID_ARGUMENT InvalidParams, FAILED_PRECONDITION (shared by many
    /// rows) `Internal` keeping the message. Any other code without an A2A ErrorInfo
    /// (UNAVAILABLE, CANCELLED, a bare INTERNAL, ...) gives `None`: the transport or
    /// something in front of the agent failed, and the caller may want to retry.
    pub fn from_grpc_status(code: i32, message: &str, details: &[u8]) -> Option<Self> {
        let status = RpcStatus::decode(details).ok();
        let info = status.as_ref().and_then(|s| find_error_info(&s.details));
        let kind = match &info {
            Some((kind, _)) => *kind,
            None => unique_row(code)?,
        };
        let message = if message.is_empty() {
            kind.mapping().default_message.to_owned()
        } else {
            message.to_owned()
        };
        let mut error = A2aError::new(kind, message);
        let mut metadata: Vec<(String, String)> = info
            .map(|(_, m)| m.into_iter().collect())
            .unwrap_or_default();
        metadata.sort();
        for (key, value) in metadata {
            error = error.with_metadata(key, value);
        }
        Some(error)
    }
}

/// The first ErrorInfo of the A2A domain with a known reason, and its metadata.
fn find_error_info(details: &[RpcAny]) -> Option<(ErrorKind, HashMap<String, String>)> {
    details.iter().find_map(|any| {
        if !any.type_url.ends_with("google.rpc.ErrorInfo") {
            return None;
        }
        let info = RpcErrorInfo::decode(any.value.as_slice()).ok()?;
        if info.domain != ERROR_DOMAIN {
            return None;
        }
        Some((ErrorKind::from_reason(&info.reason)?, info.metadata))
    })
}

/// The kind a status without an A2A ErrorInfo stands for, if its code is one only an
/// application sends.
fn unique_row(code: i32) -> Option<ErrorKind> {
    match GrpcCode::from_code(code)? {
        GrpcCode::NotFound => Some(ErrorKind::TaskNotFound),
        GrpcCode::Unimplemented => Some(ErrorKind::MethodNotFound),
        GrpcCode::InvalidArgument => Some(ErrorKind::InvalidParams),
        GrpcCode::FailedPrecondition => Some(ErrorKind::Internal),
        GrpcCode::Internal => None,
        GrpcCode::Unauthenticated => Some(ErrorKind::Unauthenticated),
        GrpcCode::PermissionDenied => Some(ErrorKind::PermissionDenied),
        GrpcCode::ResourceExhausted => Some(ErrorKind::RateLimited),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ERROR_TABLE;

    #[test]
    fn every_row_round_trips_through_the_status() {
        for row in ERROR_TABLE {
            let error = A2aError::new(row.kind, "m").with_metadata("taskId", "t");
            let details = error.to_grpc_status_details(VersionErrorCode::Spec);
            let back = A2aError::from_grpc_status(row.grpc.code(), "m", &details);
            assert_eq!(back.as_ref(), Some(&error), "{:?}", row.kind);
        }
    }

    #[test]
    fn the_version_code_is_configurable() {
        let error = A2aError::new(ErrorKind::VersionNotSupported, "no");
        let status = error.to_grpc_status(VersionErrorCode::Compat);
        assert_eq!(status.code, GrpcCode::Unimplemented.code());
        let back = A2aError::from_grpc_status(status.code, "no", &status.encode_to_vec());
        assert_eq!(back.map(|e| e.kind()), Some(ErrorKind::VersionNotSupported));
    }

    #[test]
    fn statuses_without_error_info_fall_back_to_the_code() {
        let not_found = A2aError::from_grpc_status(GrpcCode::NotFound.code(), "gone", &[]);
        assert_eq!(not_found.map(|e| e.kind()), Some(ErrorKind::TaskNotFound));
        let shared = A2aError::from_grpc_status(GrpcCode::FailedPrecondition.code(), "", &[]);
        assert_eq!(shared.map(|e| e.kind()), Some(ErrorKind::Internal));
        // UNAVAILABLE (14) and a bare INTERNAL are the transport's failures.
        assert_eq!(A2aError::from_grpc_status(14, "down", b"garbage"), None);
        assert_eq!(A2aError::from_grpc_status(13, "h2 error", &[]), None);
    }

    #[test]
    fn foreign_error_infos_are_skipped() {
        let info = RpcErrorInfo {
            reason: "TASK_NOT_FOUND".into(),
            domain: "example.com".into(),
            metadata: HashMap::new(),
        };
        let status = RpcStatus {
            code: 5,
            message: "m".into(),
            details: vec![RpcAny {
                type_url: ERROR_INFO_TYPE.into(),
                value: info.encode_to_vec(),
            }],
        };
        let error = A2aError::from_grpc_status(5, "m", &status.encode_to_vec());
        assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::TaskNotFound));
        let odd = A2aError::from_grpc_status(13, "m", &status.encode_to_vec());
        assert_eq!(odd, None);
    }
}
