//! The call context on any binding: who calls (the principal authentication finds, never an
//! identity the caller picks unless told to trust its headers) and the A2A service
//! parameters, from HTTP headers or the gRPC metadata that carries the same names.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::HeaderMap;
use harbor_a2a::A2aError;
use harbor_distributed::{CallContext, Identity};

use crate::auth::{Auth, AuthRequest, ClientCertificate};

/// What the accept loop knows of a request's connection: where it comes from and the
/// client certificate its TLS handshake verified. A request extension.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub(crate) peer: SocketAddr,
    pub(crate) certificate: Option<Arc<ClientCertificate>>,
}

/// The `A2A-Version` header.
pub(crate) const VERSION_HEADER: &str = "a2a-version";
/// The `A2A-Extensions` header.
pub(crate) const EXTENSIONS_HEADER: &str = "a2a-extensions";

/// Identity headers, honoured only with `HttpConfig::trust_identity_headers`.
pub const IDENTITY_HEADERS: [&str; 4] = [
    "x-harbor-tenant",
    "x-harbor-user",
    "x-harbor-session",
    "x-harbor-run",
];

/// Who a call is from, on any binding: the principal `auth` authenticates when it has
/// schemes (identity headers are then never trusted), else the anonymous principal or,
/// when trusted, the identity headers.
pub(crate) async fn identify(
    auth: &Auth,
    anonymous: &Identity,
    trust_identity_headers: bool,
    headers: &HeaderMap,
    connection: Option<&Connection>,
) -> Result<Identity, A2aError> {
    if auth.is_anonymous() {
        return Ok(trust_identity_headers
            .then(|| from_headers(headers))
            .flatten()
            .unwrap_or_else(|| anonymous.clone()));
    }
    let request = AuthRequest {
        headers,
        peer: connection.map(|c| c.peer.ip()),
        client_certificate: connection.and_then(|c| c.certificate.as_deref()),
    };
    Ok(auth.authenticate(&request).await?.identity())
}

/// The principal every call acts as while a binding runs without authentication: tenant
/// `default`, user and session `anonymous` (the default of both bindings' configs).
pub(crate) fn anonymous() -> Identity {
    Identity {
        tenant: "default".into(),
        user: "anonymous".into(),
        session: "anonymous".into(),
        run: None,
    }
}

/// The context of a call from its headers (HTTP) or metadata (gRPC): `anonymous` unless
/// `trust_identity_headers` and the identity headers name a complete identity.
pub(crate) fn context_from_headers(
    anonymous: &Identity,
    trust_identity_headers: bool,
    headers: &HeaderMap,
    query_version: Option<String>,
) -> CallContext {
    let identity = trust_identity_headers
        .then(|| from_headers(headers))
        .flatten()
        .unwrap_or_else(|| anonymous.clone());
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let version = header(VERSION_HEADER).or(query_version);
    let extensions = headers
        .get_all(EXTENSIONS_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|uri| !uri.is_empty())
        .map(str::to_owned)
        .collect();
    let headers: BTreeMap<String, String> = headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    CallContext {
        identity,
        version,
        extensions,
        headers,
    }
}

/// The identity named by trusted headers, when tenant, user and session are all present.
fn from_headers(headers: &HeaderMap) -> Option<Identity> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(std::sync::Arc::<str>::from)
    };
    let [tenant, user, session, run] = IDENTITY_HEADERS;
    let identity = Identity {
        tenant: get(tenant)?,
        user: get(user)?,
        session: get(session)?,
        run: get(run),
    };
    identity.validate().ok().map(|()| identity)
}
