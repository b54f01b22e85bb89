//! The call context of an HTTP request: the caller the authentication layer found, and the
//! A2A service parameters from the headers (or the query, for the version); what both
//! bindings share is in [`crate::call`].

use axum::http::HeaderMap;
use harbor_distributed::{CallContext, Identity};

use super::core::Shared;
use crate::auth::is_credential_header;
use crate::call::context_from_headers;

/// The identity a request acts as, found by the authentication layer before routing.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub(crate) Identity);

/// Builds the context of a request from its caller, its headers and, for the version, its
/// query. Credential headers are left out.
pub(crate) fn call_context(
    shared: &Shared,
    headers: &HeaderMap,
    caller: &Caller,
    query_version: Option<String>,
) -> CallContext {
    let mut ctx = context_from_headers(&caller.0, false, headers, query_version);
    ctx.headers
        .retain(|name, _| !is_credential_header(name, &shared.auth));
    ctx
}

/// The `A2A-Version` query parameter, which the specification allows instead of the header.
pub(crate) fn query_version(query: &[(String, String)]) -> Option<String> {
    query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("a2a-version"))
        .map(|(_, v)| v.clone())
}
