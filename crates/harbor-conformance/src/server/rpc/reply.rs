//! What one call answered: a result or an error as the binding carried it.

use harbor_a2a::{ERROR_DOMAIN, ErrorKind};
use serde_json::Value;

use crate::server::{At, Binding, CaseFailure};

/// An error answer, as the binding carried it.
#[derive(Debug, Clone, PartialEq)]
pub struct WireError {
    /// JSON-RPC `error.code`, or the HTTP status on HTTP+JSON.
    pub code: i64,
    /// The `reason` of the first `google.rpc.ErrorInfo` of the A2A domain in `data` /
    /// `details`, if there is one.
    pub reason: Option<String>,
    /// The HTTP status of the response.
    pub http_status: u16,
    /// The error object: the JSON-RPC `error` member, or the AIP-193 `error` member.
    pub body: Value,
}

impl WireError {
    /// The error's `message`.
    pub fn message(&self) -> &str {
        self.body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// The reason of the first A2A ErrorInfo in a `data` or `details` array.
pub(crate) fn error_info_reason(details: Option<&Value>) -> Option<String> {
    details?.as_array()?.iter().find_map(|d| {
        let is_info = d
            .get("@type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with("google.rpc.ErrorInfo"));
        let in_domain = d.get("domain").and_then(Value::as_str) == Some(ERROR_DOMAIN);
        (is_info && in_domain)
            .then(|| d.get("reason").and_then(Value::as_str).map(str::to_owned))
            .flatten()
    })
}

/// What a call answered, and where it was made (for failure messages).
#[derive(Debug)]
pub struct Reply<T = Value> {
    /// The binding and RPC of the call.
    pub at: At,
    /// The result, or the error the server answered.
    pub result: Result<T, WireError>,
}

impl<T> Reply<T> {
    /// The result; fails when the server answered an error.
    pub fn ok(self) -> Result<T, CaseFailure> {
        match self.result {
            Ok(value) => Ok(value),
            Err(error) => Err(self.at.fail(format!(
                "expected success, got error {} (HTTP {}): {}",
                error.code, error.http_status, error.body
            ))),
        }
    }

    /// The error; fails when the call succeeded.
    pub fn error(self) -> Result<WireError, CaseFailure> {
        match self.result {
            Ok(_) => Err(self.at.fail("expected an error, but the call succeeded")),
            Err(error) => Ok(error),
        }
    }

    /// The error, which must be `kind`: its JSON-RPC code or HTTP status from the error
    /// table, and for A2A errors an ErrorInfo with the table's reason.
    pub fn expect_error(self, kind: ErrorKind) -> Result<WireError, CaseFailure> {
        let at = self.at.clone();
        let error = self.error()?;
        check_error(&at, &error, kind)?;
        Ok(error)
    }
}

/// Checks that `error` is `kind` on the binding of `at`.
pub(crate) fn check_error(at: &At, error: &WireError, kind: ErrorKind) -> Result<(), CaseFailure> {
    let mapping = kind.mapping();
    let (want, what) = match at.binding {
        Some(Binding::HttpJson) => (i64::from(mapping.http_status), "HTTP status"),
        _ => (i64::from(mapping.json_rpc), "JSON-RPC code"),
    };
    at.ensure(error.code == want, || {
        format!(
            "expected {kind:?} ({what} {want}), got {} with body {}",
            error.code, error.body
        )
    })?;
    if (-32099..=-32001).contains(&mapping.json_rpc) {
        at.ensure(error.reason.as_deref() == Some(mapping.reason), || {
            format!(
                "expected an ErrorInfo (domain {ERROR_DOMAIN}) with reason {}, got {:?} in {}",
                mapping.reason, error.reason, error.body
            )
        })?;
    }
    Ok(())
}
