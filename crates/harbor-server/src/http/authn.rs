//! The authentication layer of the JSON bindings: every request to them is authenticated
//! once it matches a route, before its body is read or its handler runs, and answered in
//! its binding's error form when it cannot be (a JSON-RPC error body, or an AIP-193 body),
//! with the HTTP status of the error table (401 with `WWW-Authenticate`, 403, or 429 with
//! `Retry-After`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use harbor_a2a::A2aError;
use serde_json::json;

use super::context::Caller;
use super::core::{Shared, auth_headers};
use crate::call::{Connection, identify};
use crate::telemetry::Binding;

/// The middleware: finds the caller and hands the request on with it, or answers.
pub(crate) async fn authenticate(
    State((shared, jsonrpc_path)): State<(Arc<Shared>, String)>,
    mut request: Request,
    next: Next,
) -> Response {
    let connection = request.extensions().get::<Connection>().cloned();
    match identify(
        &shared.auth,
        &shared.identity,
        shared.trust_identity_headers,
        request.headers(),
        connection.as_ref(),
    )
    .await
    {
        Ok(identity) => {
            request.extensions_mut().insert(Caller(identity));
            next.run(request).await
        }
        Err(error) => {
            let path = request.uri().path().trim_end_matches('/');
            let jsonrpc = path == jsonrpc_path.trim_end_matches('/');
            refusal(&shared, &error, jsonrpc)
        }
    }
}

/// The answer to a request that did not authenticate.
fn refusal(shared: &Shared, error: &A2aError, jsonrpc: bool) -> Response {
    let binding = if jsonrpc {
        Binding::JsonRpc
    } else {
        Binding::HttpJson
    };
    crate::telemetry::refused(binding, error);
    let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let body = if jsonrpc {
        json!({"jsonrpc": "2.0", "id": null, "error": error.to_json_rpc_error()})
    } else {
        error.to_rest_body()
    };
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    auth_headers(&mut response, shared, error);
    response
}
