//! Authentication: who a call is from, decided before the handler sees it.
//!
//! An [`Auth`] holds the configured schemes, each an [`Authenticator`]: API keys
//! ([`ApiKeys`]), JWT bearer tokens ([`JwtAuthenticator`], static keys, a JWKS URL or OIDC
//! discovery) and mutual TLS ([`MtlsAuthenticator`]). Every binding asks it for the
//! caller's [`Principal`], whose tenant and user become the call's
//! [`harbor_distributed::Identity`]; since the stores scope every task by that
//! owner, another caller's task is TaskNotFound on every RPC.
//!
//! Several schemes may be on at once: the first whose credentials are present decides
//! (credentials that are present but wrong are refused, never passed on to the next scheme).
//! No credentials at all is Unauthenticated (HTTP 401 with `WWW-Authenticate`, gRPC
//! UNAUTHENTICATED); failed attempts are counted per source address and past a limit
//! refused as RateLimited (429 / RESOURCE_EXHAUSTED) before any check runs.
//!
//! With no scheme configured (`Auth::default()`) every call acts as the bindings'
//! configured anonymous principal, as before.
//!
//! Credentials never reach logs, `Debug` output or error messages: errors say which scheme
//! refused and why in general terms (expired, wrong audience, unknown key), nothing more.

mod api_key;
mod certificate;
mod jwks;
mod jwt;
mod limit;
mod mtls;
mod scheme;

use std::fmt;
use std::sync::Arc;

use harbor_a2a::{A2aError, ErrorKind, SecurityRequirement, SecurityScheme};

pub use api_key::{
    ApiKeyError, ApiKeys, DEFAULT_HEADER as DEFAULT_API_KEY_HEADER, MIN_KEY_BYTES, hash_api_key,
};
pub use certificate::ClientCertificate;
pub use jwt::{JwtAuthenticator, JwtConfig, JwtKeySource};
pub use limit::FailureLimit;
pub use mtls::MtlsAuthenticator;
pub use scheme::{AuthRequest, Authenticator, Principal, Verdict};

/// The authentication of a server: its schemes (none: anonymous) and the limit on failed
/// attempts.
#[derive(Clone)]
pub struct Auth {
    schemes: Vec<Arc<dyn Authenticator>>,
    limit: Arc<limit::FailureLimiter>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("schemes", &self.schemes)
            .finish_non_exhaustive()
    }
}

impl Default for Auth {
    fn default() -> Self {
        Self::new(Vec::new(), FailureLimit::default())
    }
}

impl Auth {
    /// Authentication by `schemes`, tried in order; failed attempts limited by `limit`.
    /// With no scheme the bindings act as before: every call is their configured
    /// anonymous principal.
    pub fn new(schemes: Vec<Arc<dyn Authenticator>>, limit: FailureLimit) -> Self {
        Self {
            schemes,
            limit: Arc::new(limit::FailureLimiter::new(limit)),
        }
    }

    /// Whether no scheme is configured (every call is the anonymous principal).
    pub fn is_anonymous(&self) -> bool {
        self.schemes.is_empty()
    }

    /// The names of the configured schemes.
    pub fn scheme_names(&self) -> Vec<&str> {
        self.schemes.iter().map(|s| s.name()).collect()
    }

    /// The card's `securitySchemes`: each configured scheme by name.
    pub fn security_schemes(&self) -> std::collections::BTreeMap<String, SecurityScheme> {
        self.schemes
            .iter()
            .map(|s| (s.name().to_owned(), s.security_scheme()))
            .collect()
    }

    /// The card's `securityRequirements`: any one of the schemes (alternatives).
    pub fn security_requirements(&self) -> Vec<SecurityRequirement> {
        self.schemes
            .iter()
            .map(|s| SecurityRequirement {
                schemes: [(s.name().to_owned(), harbor_a2a::StringList::default())]
                    .into_iter()
                    .collect(),
            })
            .collect()
    }

    /// The `WWW-Authenticate` challenges of the configured schemes.
    pub fn challenges(&self) -> Vec<String> {
        self.schemes.iter().filter_map(|s| s.challenge()).collect()
    }

    /// The principal of `request`: that of the first scheme whose credential is present.
    /// Without schemes, always Unauthenticated: nobody is authenticated.
    ///
    /// # Errors
    ///
    /// Unauthenticated (no or a bad credential), PermissionDenied (a good credential that
    /// does not allow this), or RateLimited (too many failures from the request's source).
    pub async fn authenticate(&self, request: &AuthRequest<'_>) -> Result<Principal, A2aError> {
        if let Some(retry) = self.limit.blocked(request.peer) {
            return Err(A2aError::new(
                ErrorKind::RateLimited,
                format!(
                    "too many failed authentication attempts; retry in {} s",
                    retry.as_secs().max(1)
                ),
            )
            .with_metadata("retryAfterSeconds", retry.as_secs().max(1).to_string()));
        }
        for scheme in &self.schemes {
            match scheme.authenticate(request).await {
                Verdict::Absent => {}
                Verdict::Accepted(principal) => return Ok(principal),
                Verdict::Forbidden(reason) => {
                    tracing::info!(scheme = scheme.name(), peer = ?request.peer, %reason, "caller not allowed");
                    return Err(A2aError::new(ErrorKind::PermissionDenied, reason));
                }
                Verdict::Rejected(reason) => {
                    self.limit.failed(request.peer);
                    tracing::info!(scheme = scheme.name(), peer = ?request.peer, %reason, "authentication failed");
                    return Err(A2aError::new(
                        ErrorKind::Unauthenticated,
                        format!("{} authentication failed: {reason}", scheme.name()),
                    ));
                }
            }
        }
        if !self.schemes.is_empty() {
            self.limit.failed(request.peer);
        }
        let names = self.scheme_names().join(", ");
        Err(A2aError::new(
            ErrorKind::Unauthenticated,
            if names.is_empty() {
                "this server authenticates nobody".to_owned()
            } else {
                format!("authentication required ({names})")
            },
        ))
    }
}

/// Headers that carry credentials: removed from the call context the handler and the agent
/// see, so no credential travels further than authentication.
pub(crate) fn is_credential_header(name: &str, auth: &Auth) -> bool {
    matches!(name, "authorization" | "proxy-authorization" | "cookie")
        || auth
            .schemes
            .iter()
            .filter_map(|s| match s.security_scheme().scheme {
                Some(harbor_a2a::pb::security_scheme::Scheme::ApiKeySecurityScheme(k)) => {
                    Some(k.name)
                }
                _ => None,
            })
            .any(|header| header.eq_ignore_ascii_case(name))
}
