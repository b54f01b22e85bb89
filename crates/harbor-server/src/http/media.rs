//! The JSON media types of the bindings: which request Content-Types are JSON, which media
//! type an answer takes, and the AIP-193 error responses of the HTTP+JSON binding and the
//! agent card. A leaf.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use harbor_a2a::A2aError;
use serde_json::Value;

/// Whether a Content-Type names JSON (`application/json`, `application/a2a+json`, with
/// parameters). A missing Content-Type is accepted.
pub(super) fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return true;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let mime = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || mime == "application/a2a+json"
}

/// An AIP-193 error response, as `application/json`.
pub(super) fn error_response(error: &A2aError) -> Response {
    error_as(error, JSON)
}

/// An AIP-193 error response in the media type `media`.
pub(super) fn error_as(error: &A2aError, media: &'static str) -> Response {
    let status =
        StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error_with_status(error, status, media)
}

pub(super) const JSON: &str = "application/json";
pub(super) const A2A_JSON: &str = "application/a2a+json";

/// The media type of a JSON answer: `application/a2a+json` when the request's body is of
/// that type or its `Accept` asks for it (at least as much as for `application/json`),
/// else `application/json`. Both are in use: spec v1.0.1 prefers the first, v1.0.0 peers
/// and the conformance kit expect the second.
pub(super) fn response_media(headers: &HeaderMap) -> &'static str {
    let mime = |value: &str| {
        value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    let sent = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(mime);
    if sent.as_deref() == Some(A2A_JSON) {
        return A2A_JSON;
    }
    // The q-value of each of the two types in Accept (missing: not asked for).
    let (mut a2a, mut json) = (None::<f32>, None::<f32>);
    for range in headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let q = range
            .split(';')
            .skip(1)
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match mime(range).as_str() {
            A2A_JSON => a2a = Some(q),
            JSON => json = Some(q),
            _ => {}
        }
    }
    match a2a {
        Some(q) if q > 0.0 && q >= json.unwrap_or(0.0) => A2A_JSON,
        _ => JSON,
    }
}

/// An error response whose status differs from the table.
pub(super) fn error_with_status(
    error: &A2aError,
    status: StatusCode,
    media: &'static str,
) -> Response {
    let mut body = error.to_rest_body();
    body["error"]["code"] = Value::from(status.as_u16());
    (status, [(header::CONTENT_TYPE, media)], body.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, header::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn answers_a2a_json_only_when_the_request_sends_or_asks_for_it() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], JSON),
            (&[("content-type", "application/json")], JSON),
            (&[("content-type", "application/a2a+json")], A2A_JSON),
            (
                &[("content-type", "Application/A2A+JSON; charset=utf-8")],
                A2A_JSON,
            ),
            (&[("accept", "application/a2a+json")], A2A_JSON),
            (
                &[("accept", "text/html, application/a2a+json;q=0.5")],
                A2A_JSON,
            ),
            (
                &[("accept", "application/json, application/a2a+json")],
                A2A_JSON,
            ),
            (
                &[("accept", "application/json;q=1, application/a2a+json;q=0.5")],
                JSON,
            ),
            (&[("accept", "application/a2a+json;q=0")], JSON),
            (&[("accept", "*/*")], JSON),
            (&[("accept", "application/json")], JSON),
            (
                &[("accept", "text/plain"), ("accept", "application/a2a+json")],
                A2A_JSON,
            ),
            (
                &[
                    ("content-type", "application/json"),
                    ("accept", "application/a2a+json"),
                ],
                A2A_JSON,
            ),
        ];
        for (pairs, want) in cases {
            assert_eq!(response_media(&headers(pairs)), *want, "{pairs:?}");
        }
    }
}
