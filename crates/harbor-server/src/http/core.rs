//! What every route of the JSON bindings shares: the [`Shared`] state, the request
//! [`Body`] and its errors, and the headers of an authentication failure. A leaf the
//! router and the route files import.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use harbor_distributed::{A2aHandler, Identity};
use tokio_util::sync::CancellationToken;

use super::deadline;

/// A request body, or why it could not be read (too large, too slow).
pub(crate) type Body = Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>;

/// The error for an unreadable body, with the HTTP status to answer it with.
pub(crate) fn body_error(
    rejection: &axum::extract::rejection::BytesRejection,
) -> (axum::http::StatusCode, harbor_a2a::A2aError) {
    let error =
        harbor_a2a::A2aError::new(harbor_a2a::ErrorKind::InvalidRequest, rejection.body_text());
    if deadline::is_deadline(rejection) {
        return (axum::http::StatusCode::REQUEST_TIMEOUT, error);
    }
    (rejection.status(), error)
}

/// Adds what an authentication failure's answer needs: the challenges with a 401, the
/// wait with a 429.
pub(crate) fn auth_headers(
    response: &mut axum::response::Response,
    shared: &Shared,
    error: &harbor_a2a::A2aError,
) {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    match error.kind() {
        harbor_a2a::ErrorKind::Unauthenticated => {
            for challenge in shared.auth.challenges() {
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    headers.append(header::WWW_AUTHENTICATE, value);
                }
            }
        }
        harbor_a2a::ErrorKind::RateLimited => {
            if let Some(value) = error
                .metadata()
                .get("retryAfterSeconds")
                .and_then(|s| HeaderValue::from_str(s).ok())
            {
                headers.insert(header::RETRY_AFTER, value);
            }
        }
        _ => {}
    }
}

/// What every route shares.
pub(crate) struct Shared {
    pub(super) shutdown: CancellationToken,
    pub(super) handler: Arc<dyn A2aHandler>,
    pub(super) identity: Identity,
    pub(super) trust_identity_headers: bool,
    pub(super) auth: crate::auth::Auth,
    pub(super) keep_alive: Duration,
    pub(super) max_event_bytes: usize,
    pub(super) card_max_age: Duration,
    pub(super) started: SystemTime,
}
