//! The error table against the spec, and every row through both JSON wire forms.

use std::collections::HashSet;

use harbor_a2a::{A2aError, ERROR_TABLE, ErrorKind, GrpcCode, VersionErrorCode};
use serde_json::json;

/// Digest §5.1, the v1.0.1 table: (kind, JSON-RPC, gRPC, HTTP, reason).
const A2A_ROWS: [(ErrorKind, i32, GrpcCode, u16, &str); 9] = [
    (
        ErrorKind::TaskNotFound,
        -32001,
        GrpcCode::NotFound,
        404,
        "TASK_NOT_FOUND",
    ),
    (
        ErrorKind::TaskNotCancelable,
        -32002,
        GrpcCode::FailedPrecondition,
        400,
        "TASK_NOT_CANCELABLE",
    ),
    (
        ErrorKind::PushNotificationNotSupported,
        -32003,
        GrpcCode::FailedPrecondition,
        400,
        "PUSH_NOTIFICATION_NOT_SUPPORTED",
    ),
    (
        ErrorKind::UnsupportedOperation,
        -32004,
        GrpcCode::FailedPrecondition,
        400,
        "UNSUPPORTED_OPERATION",
    ),
    (
        ErrorKind::ContentTypeNotSupported,
        -32005,
        GrpcCode::InvalidArgument,
        400,
        "CONTENT_TYPE_NOT_SUPPORTED",
    ),
    (
        ErrorKind::InvalidAgentResponse,
        -32006,
        GrpcCode::Internal,
        500,
        "INVALID_AGENT_RESPONSE",
    ),
    (
        ErrorKind::ExtendedAgentCardNotConfigured,
        -32007,
        GrpcCode::FailedPrecondition,
        400,
        "EXTENDED_AGENT_CARD_NOT_CONFIGURED",
    ),
    (
        ErrorKind::ExtensionSupportRequired,
        -32008,
        GrpcCode::FailedPrecondition,
        400,
        "EXTENSION_SUPPORT_REQUIRED",
    ),
    (
        ErrorKind::VersionNotSupported,
        -32009,
        GrpcCode::FailedPrecondition,
        400,
        "VERSION_NOT_SUPPORTED",
    ),
];

/// Digest §5.2: (kind, JSON-RPC code, HTTP analogue, gRPC where the digest names one).
const JSON_RPC_ROWS: [(ErrorKind, i32, u16); 5] = [
    (ErrorKind::JsonParse, -32700, 400),
    (ErrorKind::InvalidRequest, -32600, 400),
    (ErrorKind::MethodNotFound, -32601, 404),
    (ErrorKind::InvalidParams, -32602, 400),
    (ErrorKind::Internal, -32603, 500),
];

/// Harbor's transport-level rows (authentication), outside the A2A table.
const AUTH_ROWS: [(ErrorKind, i32, GrpcCode, u16, &str); 3] = [
    (
        ErrorKind::Unauthenticated,
        -32041,
        GrpcCode::Unauthenticated,
        401,
        "UNAUTHENTICATED",
    ),
    (
        ErrorKind::PermissionDenied,
        -32043,
        GrpcCode::PermissionDenied,
        403,
        "PERMISSION_DENIED",
    ),
    (
        ErrorKind::RateLimited,
        -32029,
        GrpcCode::ResourceExhausted,
        429,
        "RATE_LIMITED",
    ),
];

#[test]
fn auth_rows_use_the_generic_transport_codes() {
    for (kind, code, grpc, http, reason) in AUTH_ROWS {
        let row = kind.mapping();
        assert_eq!(row.kind, kind);
        assert_eq!(
            (row.json_rpc, row.grpc, row.http_status, row.reason),
            (code, grpc, http, reason)
        );
    }
}

#[test]
fn a2a_rows_match_the_v1_0_1_table() {
    for (kind, code, grpc, http, reason) in A2A_ROWS {
        let row = kind.mapping();
        assert_eq!(row.kind, kind);
        assert_eq!(
            (row.json_rpc, row.grpc, row.http_status, row.reason),
            (code, grpc, http, reason)
        );
    }
}

#[test]
fn json_rpc_rows_match_the_standard_codes() {
    for (kind, code, http) in JSON_RPC_ROWS {
        let row = kind.mapping();
        assert_eq!((row.json_rpc, row.http_status), (code, http), "{kind:?}");
    }
    assert_eq!(
        ErrorKind::InvalidParams.mapping().grpc,
        GrpcCode::InvalidArgument
    );
    assert_eq!(ErrorKind::Internal.mapping().grpc, GrpcCode::Internal);
}

#[test]
fn the_table_has_seventeen_rows_with_unique_kinds_codes_and_reasons() {
    assert_eq!(
        ERROR_TABLE.len(),
        A2A_ROWS.len() + JSON_RPC_ROWS.len() + AUTH_ROWS.len()
    );
    let kinds: HashSet<_> = ERROR_TABLE.iter().map(|m| m.kind).collect();
    let codes: HashSet<_> = ERROR_TABLE.iter().map(|m| m.json_rpc).collect();
    let reasons: HashSet<_> = ERROR_TABLE.iter().map(|m| m.reason).collect();
    assert_eq!(kinds.len(), ERROR_TABLE.len());
    assert_eq!(codes.len(), ERROR_TABLE.len());
    assert_eq!(reasons.len(), ERROR_TABLE.len());
    for row in ERROR_TABLE {
        assert_eq!(ErrorKind::from_json_rpc(row.json_rpc), Some(row.kind));
        assert_eq!(ErrorKind::from_reason(row.reason), Some(row.kind));
        assert!(
            row.reason
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_')
        );
        assert_eq!(GrpcCode::from_name(row.grpc.name()), Some(row.grpc));
        assert_eq!(GrpcCode::from_code(row.grpc.code()), Some(row.grpc));
    }
}

#[test]
fn version_not_supported_is_unimplemented_under_compat() {
    let err = A2aError::new(ErrorKind::VersionNotSupported, "99.0");
    assert_eq!(
        err.grpc_code(VersionErrorCode::Spec),
        GrpcCode::FailedPrecondition
    );
    assert_eq!(
        err.grpc_code(VersionErrorCode::Compat),
        GrpcCode::Unimplemented
    );
    assert_eq!(VersionErrorCode::default(), VersionErrorCode::Spec);
    // Compat changes nothing else.
    for row in ERROR_TABLE
        .iter()
        .filter(|m| m.kind != ErrorKind::VersionNotSupported)
    {
        assert_eq!(row.kind.grpc_code(VersionErrorCode::Compat), row.grpc);
    }
}

fn sample(kind: ErrorKind) -> A2aError {
    A2aError::new(kind, format!("{kind:?} happened")).with_metadata("taskId", "t-1")
}

#[test]
fn every_row_round_trips_through_json_rpc() {
    for row in ERROR_TABLE {
        let error = sample(row.kind);
        let wire = error.to_json_rpc_error();
        assert_eq!(
            wire,
            json!({
                "code": row.json_rpc,
                "message": format!("{:?} happened", row.kind),
                "data": [{
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": row.reason,
                    "domain": "a2a-protocol.org",
                    "metadata": {"taskId": "t-1"},
                }],
            })
        );
        assert_eq!(A2aError::from_json_rpc_error(&wire), Some(error.clone()));
        // Without ErrorInfo the code alone still gives the kind.
        let bare = json!({"code": row.json_rpc, "message": "m"});
        let parsed = A2aError::from_json_rpc_error(&bare).expect("an error");
        assert_eq!(parsed.kind(), row.kind);
    }
}

#[test]
fn every_row_round_trips_through_rest() {
    for row in ERROR_TABLE {
        let error = sample(row.kind);
        let body = error.to_rest_body();
        assert_eq!(body["error"]["code"], row.http_status);
        assert_eq!(body["error"]["status"], row.grpc.name());
        assert_eq!(body["error"]["message"], error.message());
        assert_eq!(body["error"]["details"][0], error.error_info_json());
        let mut members: Vec<&String> = body["error"].as_object().expect("object").keys().collect();
        members.sort();
        assert_eq!(members, ["code", "details", "message", "status"]);
        assert_eq!(A2aError::from_rest_body(error.http_status(), &body), error);
    }
}

#[test]
fn the_json_rpc_error_has_only_code_message_and_data() {
    let wire = A2aError::task_not_found("x").to_json_rpc_error();
    let mut members: Vec<&String> = wire.as_object().expect("object").keys().collect();
    members.sort();
    assert_eq!(members, ["code", "data", "message"]);
}

#[test]
fn empty_metadata_is_omitted_from_error_info() {
    let info = A2aError::internal("boom").error_info_json();
    assert_eq!(
        info,
        json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "INTERNAL_ERROR",
            "domain": "a2a-protocol.org",
        })
    );
}
