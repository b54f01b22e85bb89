//! The contract every authentication scheme implements: an [`Authenticator`] judges an
//! [`AuthRequest`] and answers a [`Verdict`], whose accepted caller is a [`Principal`].
//! A leaf the scheme files and [`Auth`](super::Auth) import; it imports no scheme.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use axum::http::HeaderMap;
use harbor_a2a::SecurityScheme;
use harbor_distributed::Identity;

use super::certificate::ClientCertificate;

/// Who an authenticated call is from.
#[derive(Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant the caller belongs to.
    pub tenant: Arc<str>,
    /// The caller within the tenant.
    pub user: Arc<str>,
    /// The session, when the credential names one (a JWT `sid`); else the user.
    pub session: Option<Arc<str>>,
    /// The name of the scheme that authenticated the caller (`apiKey`, `bearer`, `mtls`).
    pub scheme: &'static str,
}

impl Principal {
    /// A principal of `tenant` and `user`, authenticated by `scheme`.
    pub fn new(
        tenant: impl Into<Arc<str>>,
        user: impl Into<Arc<str>>,
        scheme: &'static str,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            user: user.into(),
            session: None,
            scheme,
        }
    }

    /// The call identity of this principal.
    pub fn identity(&self) -> Identity {
        Identity {
            tenant: Arc::clone(&self.tenant),
            user: Arc::clone(&self.user),
            session: self
                .session
                .clone()
                .unwrap_or_else(|| Arc::clone(&self.user)),
            run: None,
        }
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("tenant", &self.tenant)
            .field("user", &self.user)
            .field("scheme", &self.scheme)
            .finish()
    }
}

/// What an authenticator sees of a request.
#[derive(Clone, Copy)]
pub struct AuthRequest<'a> {
    /// The HTTP headers or gRPC metadata.
    pub headers: &'a HeaderMap,
    /// The address the connection comes from, when known.
    pub peer: Option<IpAddr>,
    /// The client certificate the TLS handshake verified, if any.
    pub client_certificate: Option<&'a ClientCertificate>,
}

/// What one scheme makes of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The request carries no credential of this scheme.
    Absent,
    /// The credential is good: the caller.
    Accepted(Principal),
    /// The credential is present but does not authenticate; the reason says why in general
    /// terms and never quotes the credential.
    Rejected(String),
    /// The credential authenticates, but does not allow calling this server (a scope is
    /// missing); the reason says what is missing.
    Forbidden(String),
}

/// One authentication scheme.
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync + fmt::Debug {
    /// The scheme's name on the agent card (`securitySchemes` key).
    fn name(&self) -> &str;

    /// How the agent card describes the scheme.
    fn security_scheme(&self) -> SecurityScheme;

    /// The `WWW-Authenticate` challenge of the scheme, if it has one.
    fn challenge(&self) -> Option<String>;

    /// Judges the request's credential of this scheme.
    async fn authenticate(&self, request: &AuthRequest<'_>) -> Verdict;
}
