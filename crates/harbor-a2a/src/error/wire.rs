//! The wire forms of an [`A2aError`] on the JSON bindings, and their parsers.
//!
//! JSON-RPC: `{"code", "message", "data": [ErrorInfo]}` (the `error` member of a response).
//! HTTP+JSON: AIP-193, `{"error": {"code": <http>, "status": "<gRPC name>", "message",
//! "details": [ErrorInfo]}}`. Both carry the `google.rpc.ErrorInfo` whose `reason` names the
//! row of [`ERROR_TABLE`](super::ERROR_TABLE), which is how the parsers tell apart errors
//! that share a code.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{A2aError, ERROR_DOMAIN, ERROR_TABLE, ErrorKind, GrpcCode, VersionErrorCode};

impl A2aError {
    /// The JSON-RPC error code of this error's kind.
    pub fn json_rpc_code(&self) -> i32 {
        self.mapping().json_rpc
    }

    /// The HTTP status of this error's kind on the HTTP+JSON binding.
    pub fn http_status(&self) -> u16 {
        self.mapping().http_status
    }

    /// The gRPC code, honouring the VersionNotSupported setting.
    pub fn grpc_code(&self, version_code: VersionErrorCode) -> GrpcCode {
        self.kind().grpc_code(version_code)
    }

    /// The `google.rpc.ErrorInfo` reason (`TASK_NOT_FOUND`).
    pub fn reason(&self) -> &'static str {
        self.mapping().reason
    }

    /// The JSON-RPC `error` object: `{"code", "message", "data": [ErrorInfo]}`.
    ///
    /// ```
    /// use harbor_a2a::A2aError;
    ///
    /// let wire = A2aError::task_not_found("t1").to_json_rpc_error();
    /// assert_eq!(wire["code"], -32001);
    /// assert_eq!(wire["data"][0]["reason"], "TASK_NOT_FOUND");
    /// assert_eq!(A2aError::from_json_rpc_error(&wire), Some(A2aError::task_not_found("t1")));
    /// ```
    pub fn to_json_rpc_error(&self) -> Value {
        json!({
            "code": self.json_rpc_code(),
            "message": self.message(),
            "data": [self.error_info_json()],
        })
    }

    /// The AIP-193 body of an HTTP+JSON error response; send it with [`Self::http_status`].
    pub fn to_rest_body(&self) -> Value {
        json!({
            "error": {
                "code": self.http_status(),
                "status": self.mapping().grpc.name(),
                "message": self.message(),
                "details": [self.error_info_json()],
            }
        })
    }

    /// Reads a JSON-RPC error: either the `error` object or a whole response holding one.
    ///
    /// The kind comes from an A2A ErrorInfo in `data` when there is one, else from `code`; a
    /// code outside the table gives an `Internal` error that keeps the message. Returns `None`
    /// when `value` has no integer `code`.
    pub fn from_json_rpc_error(value: &Value) -> Option<Self> {
        let error = value
            .get("error")
            .filter(|e| e.is_object())
            .unwrap_or(value);
        let code = i32::try_from(error.get("code")?.as_i64()?).ok()?;
        let message = message_of(error);
        let info = error.get("data").and_then(find_error_info);
        let kind = info
            .as_ref()
            .map(|(kind, _)| *kind)
            .or_else(|| ErrorKind::from_json_rpc(code))
            .unwrap_or(ErrorKind::Internal);
        Some(build(kind, message, info))
    }

    /// Reads an HTTP+JSON error response from its status and body.
    ///
    /// The kind comes from an A2A ErrorInfo in `error.details`; without one, from the HTTP
    /// status and `error.status` when exactly one table row has both; otherwise `Internal`
    /// (keeping the message). A body that is not AIP-193 still gives an error.
    pub fn from_rest_body(http_status: u16, body: &Value) -> Self {
        let error = body.get("error").unwrap_or(body);
        let message = match error {
            Value::String(text) => Some(text.clone()),
            _ => message_of(error),
        };
        let info = error.get("details").and_then(find_error_info);
        let kind = info.as_ref().map(|(kind, _)| *kind).unwrap_or_else(|| {
            let status = error.get("status").and_then(Value::as_str);
            unique_row(http_status, status).unwrap_or(ErrorKind::Internal)
        });
        let message = message.or_else(|| Some(format!("HTTP status {http_status}")));
        build(kind, message, info)
    }
}

fn message_of(error: &Value) -> Option<String> {
    error
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn build(
    kind: ErrorKind,
    message: Option<String>,
    info: Option<(ErrorKind, BTreeMap<String, String>)>,
) -> A2aError {
    let message = message.unwrap_or_else(|| kind.mapping().default_message.to_owned());
    let mut error = A2aError::new(kind, message);
    for (key, value) in info.map(|(_, metadata)| metadata).unwrap_or_default() {
        error = error.with_metadata(key, value);
    }
    error
}

/// The first ErrorInfo of the A2A domain with a known reason, and its metadata.
fn find_error_info(details: &Value) -> Option<(ErrorKind, BTreeMap<String, String>)> {
    details.as_array()?.iter().find_map(|detail| {
        let type_ok = detail
            .get("@type")
            .and_then(Value::as_str)
            .is_none_or(|t| t.ends_with("google.rpc.ErrorInfo"));
        let domain_ok = detail
            .get("domain")
            .and_then(Value::as_str)
            .is_none_or(|d| d == ERROR_DOMAIN);
        if !(type_ok && domain_ok) {
            return None;
        }
        let kind = ErrorKind::from_reason(detail.get("reason")?.as_str()?)?;
        let metadata = detail
            .get("metadata")
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .map(|(k, v)| {
                        let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        (k.clone(), text)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some((kind, metadata))
    })
}

/// The kind of the only row with this HTTP status (and gRPC status name, when given).
fn unique_row(http_status: u16, status: Option<&str>) -> Option<ErrorKind> {
    let mut rows = ERROR_TABLE.iter().filter(|m| {
        m.http_status == http_status && status.is_none_or(|name| m.grpc.name() == name)
    });
    match (rows.next(), rows.next()) {
        (Some(row), None) => Some(row.kind),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_json_rpc_codes_become_internal_with_the_message() {
        let error = A2aError::from_json_rpc_error(&json!({"code": -32099, "message": "odd"}))
            .expect("an error");
        assert_eq!(error.kind(), ErrorKind::Internal);
        assert_eq!(error.message(), "odd");
    }

    #[test]
    fn a_whole_response_is_accepted() {
        let response =
            json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "m"}});
        let error = A2aError::from_json_rpc_error(&response).expect("an error");
        assert_eq!(error.kind(), ErrorKind::MethodNotFound);
    }

    #[test]
    fn values_without_a_code_are_not_errors() {
        assert_eq!(
            A2aError::from_json_rpc_error(&json!({"message": "m"})),
            None
        );
        assert_eq!(A2aError::from_json_rpc_error(&json!(null)), None);
    }

    #[test]
    fn foreign_error_infos_are_skipped() {
        let wire = json!({"code": -32603, "message": "m", "data": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "TASK_NOT_FOUND", "domain": "example.com"},
            {"@type": "type.googleapis.com/google.rpc.BadRequest"},
        ]});
        let error = A2aError::from_json_rpc_error(&wire).expect("an error");
        assert_eq!(error.kind(), ErrorKind::Internal);
    }

    #[test]
    fn rest_bodies_without_error_info_fall_back_to_the_status() {
        let body = json!({"error": {"code": 404, "status": "NOT_FOUND", "message": "gone"}});
        assert_eq!(
            A2aError::from_rest_body(404, &body).kind(),
            ErrorKind::TaskNotFound
        );
        let shared =
            json!({"error": {"code": 400, "status": "FAILED_PRECONDITION", "message": "m"}});
        assert_eq!(
            A2aError::from_rest_body(400, &shared).kind(),
            ErrorKind::Internal
        );
        let plain = A2aError::from_rest_body(502, &json!("bad gateway"));
        assert_eq!(plain.kind(), ErrorKind::Internal);
        assert_eq!(plain.message(), "bad gateway");
        assert_eq!(
            A2aError::from_rest_body(503, &Value::Null).message(),
            "HTTP status 503"
        );
    }
}
