//! What can go wrong on the client side, and how each failure becomes a
//! [`harbor_distributed::Error`].
//!
//! | what happened | the `Error` |
//! |---|---|
//! | the call's identity is incomplete | `IdentityRequired` (nothing is sent) |
//! | the transport was closed | `Closed` |
//! | the peer answered with a JSON-RPC error, or an AIP-193 error body | `Protocol(A2aError)` |
//! | the peer's answer is not a valid A2A response | `Protocol` with `InvalidAgentResponse` |
//! | a non-2xx answer that is not an A2A error (a proxy's `502 Bad Gateway` text) | `Backend` with [`ClientError::Http`]: retryable for 408, 425, 429, 500, 502, 503, 504 |
//! | connecting failed, or the connection broke | `Backend` with [`ClientError::Request`], retryable |
//! | a gRPC status with an A2A `ErrorInfo` (or NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION, UNIMPLEMENTED) | `Protocol(A2aError)` |
//! | any other gRPC status (UNAVAILABLE, a bare INTERNAL, ...) | `Backend` with [`ClientError::Grpc`]: retryable for UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE |
//! | no answer in time | `Timeout` |
//! | a body, card, SSE line or event over its size cap | `Backend` with [`ClientError::TooLarge`] |
//! | the card offers nothing we speak, or an endpoint we refuse | `Backend` with [`ClientError::NoUsableInterface`] / [`ClientError::InsecureUrl`] |
//!
//! A bare HTTP failure is *not* turned into a protocol error: an intermediary said it, not
//! the agent, and the caller needs to know that a retry may help. The status is in the
//! message. The typed [`ClientError`] is the `source()` of every `Backend` error.

use std::time::Duration;

use harbor_a2a::{A2aError, ErrorKind};
use harbor_distributed::Error;
use serde_json::Value;

use crate::sse::SseError;

/// The name the `a2a` driver gives its `Backend` errors.
pub const DRIVER: &str = "a2a";

/// How much of an unparsed error body is kept in a message.
pub const BODY_SNIPPET_BYTES: usize = 512;

/// A client-side failure; the `source` of [`Error::Backend`] errors of this driver.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The peer (or something in front of it) answered with an HTTP status that carries no
    /// A2A error.
    #[error("{url} answered HTTP {status}: {body}")]
    Http {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the body, lossily decoded.
        body: String,
    },
    /// The request could not be sent or its answer could not be read.
    #[error("request to {url} failed")]
    Request {
        /// The URL called.
        url: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// A response was larger than allowed.
    #[error("{what} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// What was too large (`response body`, `agent card`).
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// An SSE stream broke the framing rules or a cap.
    #[error("event stream: {0}")]
    Sse(#[from] SseError),
    /// A URL (the peer's or one on its card) is refused.
    #[error("refused URL {url}: {reason}")]
    InsecureUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The agent card lists no interface this client speaks.
    #[error("the agent card offers no interface this client speaks (offered: {})", offered.join(", "))]
    NoUsableInterface {
        /// What the card offered, as `binding protocolVersion`.
        offered: Vec<String>,
    },
    /// No credential could be had for the peer (its OAuth2 token endpoint failed).
    #[error("cannot get a token from {url}: {reason}")]
    Credentials {
        /// The token endpoint.
        url: String,
        /// Why (never the secret or the token).
        reason: String,
    },
    /// The agent card could not be read.
    #[error("invalid agent card from {url}: {reason}")]
    InvalidCard {
        /// Where it came from.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A gRPC call ended with a status that carries no A2A error (the connection, or
    /// something in front of the agent, failed).
    #[error("{url} answered gRPC status {code}: {message}")]
    Grpc {
        /// The endpoint called.
        url: String,
        /// The gRPC status code.
        code: i32,
        /// The status message.
        message: String,
    },
    /// The chosen binding was compiled out.
    #[error(
        "the {binding} binding is not compiled in; enable the `{feature}` feature of harbor-client"
    )]
    BindingDisabled {
        /// The binding (`GRPC`).
        binding: &'static str,
        /// The cargo feature that turns it on.
        feature: &'static str,
    },
    /// A stream dropped before its task ended, and picking it up again failed.
    #[error("the stream dropped before the task ended; {attempts} reconnect(s) failed")]
    StreamInterrupted {
        /// Reconnects tried.
        attempts: u32,
        /// The last reconnect's error, if one was tried.
        #[source]
        last: Option<Box<Error>>,
    },
}

impl ClientError {
    /// Whether trying again can help.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http { status, .. } => matches!(status, 408 | 425 | 429 | 500 | 502 | 503 | 504),
            Self::Request { .. } | Self::StreamInterrupted { .. } => true,
            // UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE.
            Self::Grpc { code, .. } => matches!(code, 2 | 4 | 8 | 10 | 13 | 14),
            _ => false,
        }
    }

    /// This failure as the transport's error.
    pub fn into_error(self) -> Error {
        Error::Backend {
            driver: DRIVER,
            retryable: self.is_retryable(),
            source: Box::new(self),
        }
    }
}

impl From<ClientError> for Error {
    fn from(e: ClientError) -> Self {
        e.into_error()
    }
}

/// A failed request: `Timeout` when it ran out of time, otherwise a retryable `Backend`.
pub(crate) fn request_error(url: &str, source: reqwest::Error, timeout: Duration) -> Error {
    if source.is_timeout() {
        return Error::Timeout(timeout);
    }
    ClientError::Request {
        url: url.to_owned(),
        source,
    }
    .into_error()
}

/// A response that is not a valid A2A answer.
pub(crate) fn invalid_response(message: impl Into<String>) -> Error {
    Error::Protocol(A2aError::new(ErrorKind::InvalidAgentResponse, message))
}

/// The error an unsuccessful HTTP answer stands for.
///
/// A JSON-RPC error (a whole response or its `error` object) or an AIP-193 body
/// (`{"error": {...}}`) is the peer's protocol error; anything else (an empty body, HTML, a
/// proxy's text, JSON of another shape) is [`ClientError::Http`] with `status` and the
/// start of the body. Never panics, whatever `body` holds.
///
/// ```
/// use harbor_a2a::ErrorKind;
/// use harbor_client::error_from_response;
/// use harbor_distributed::Error;
///
/// let body = br#"{"error":{"code":404,"status":"NOT_FOUND","message":"gone"}}"#;
/// match error_from_response("https://agent.example/tasks/t1", 404, body) {
///     Error::Protocol(e) => assert_eq!(e.kind(), ErrorKind::TaskNotFound),
///     other => panic!("{other:?}"),
/// }
/// let bare = error_from_response("https://agent.example/", 502, b"Bad Gateway");
/// assert!(bare.is_retryable());
/// assert!(std::error::Error::source(&bare).is_some_and(|s| s.to_string().contains("502")));
/// ```
pub fn error_from_response(url: &str, status: u16, body: &[u8]) -> Error {
    if let Ok(value) = serde_json::from_slice::<Value>(body)
        && let Some(error) = protocol_error(status, &value)
    {
        return Error::Protocol(error);
    }
    ClientError::Http {
        url: url.to_owned(),
        status,
        body: snippet(body),
    }
    .into_error()
}

/// The A2A error a JSON error body carries, if it has one of the two shapes.
pub(crate) fn protocol_error(status: u16, value: &Value) -> Option<A2aError> {
    let error = value.get("error").unwrap_or(value);
    if !error.is_object() {
        return None;
    }
    // JSON-RPC errors have an integer code below zero; AIP-193 codes are HTTP statuses.
    let code = error.get("code").and_then(Value::as_i64);
    if value.get("jsonrpc").is_some() || code.is_some_and(|c| c < 0) {
        return A2aError::from_json_rpc_error(value);
    }
    if value.get("error").is_some_and(Value::is_object) {
        let status = code
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| (400..600).contains(c))
            .unwrap_or(status);
        return Some(A2aError::from_rest_body(status, value));
    }
    None
}

/// The start of a body, lossily decoded, at most [`BODY_SNIPPET_BYTES`] bytes of it.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_SNIPPET_BYTES)]);
    // Lossy decoding can triple the size (U+FFFD is 3 bytes): cut again, on a char boundary.
    let mut end = text.len().min(BODY_SNIPPET_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = text[..end].trim();
    if text.is_empty() {
        "(empty body)".to_owned()
    } else if body.len() > end {
        format!("{text}…")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(error: Error) -> Option<ErrorKind> {
        match error {
            Error::Protocol(e) => Some(e.kind()),
            _ => None,
        }
    }

    #[test]
    fn json_rpc_errors_are_protocol_errors() {
        let wire = A2aError::task_not_found("t1").to_json_rpc_error();
        let response = serde_json::json!({"jsonrpc": "2.0", "id": 1, "error": wire});
        let body = response.to_string();
        assert_eq!(
            kind(error_from_response("u", 200, body.as_bytes())),
            Some(ErrorKind::TaskNotFound)
        );
        // The bare error object too (as some servers put in an SSE error event).
        let body = A2aError::unsupported("no").to_json_rpc_error().to_string();
        assert_eq!(
            kind(error_from_response("u", 200, body.as_bytes())),
            Some(ErrorKind::UnsupportedOperation)
        );
    }

    #[test]
    fn aip_193_bodies_are_protocol_errors() {
        let body = A2aError::new(ErrorKind::TaskNotCancelable, "done")
            .to_rest_body()
            .to_string();
        assert_eq!(
            kind(error_from_response("u", 400, body.as_bytes())),
            Some(ErrorKind::TaskNotCancelable)
        );
    }

    #[test]
    fn other_bodies_keep_the_status() {
        for (status, body, retryable) in [
            (502_u16, &b"<html>Bad Gateway</html>"[..], true),
            (404, b"", false),
            (500, br#"{"detail": "boom"}"#, true),
            (403, b"\xff\xfe not utf-8", false),
        ] {
            let error = error_from_response("https://x.example/a", status, body);
            assert_eq!(error.is_retryable(), retryable, "{status}");
            match &error {
                Error::Backend { source, .. } => {
                    assert!(source.to_string().contains(&status.to_string()), "{source}");
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[test]
    fn snippets_are_capped() {
        for long in [vec![b'x'; 10_000], vec![0xff; 10_000]] {
            assert!(snippet(&long).len() <= BODY_SNIPPET_BYTES + '…'.len_utf8());
        }
    }
}
