//! Mutual TLS: the TLS handshake has verified the client's certificate against the
//! configured client CA; its subject names the caller (common name: the user;
//! organization: the tenant).

use harbor_a2a::SecurityScheme;
use harbor_a2a::pb::security_scheme::Scheme;

use super::scheme::{AuthRequest, Authenticator, Principal, Verdict};

/// Mutual-TLS authentication: the principal of a verified client certificate.
#[derive(Debug, Clone)]
pub struct MtlsAuthenticator {
    default_tenant: String,
}

impl MtlsAuthenticator {
    /// Certificates without an organization belong to `default_tenant`.
    pub fn new(default_tenant: impl Into<String>) -> Self {
        Self {
            default_tenant: default_tenant.into(),
        }
    }
}

#[async_trait::async_trait]
impl Authenticator for MtlsAuthenticator {
    fn name(&self) -> &str {
        "mtls"
    }

    fn security_scheme(&self) -> SecurityScheme {
        SecurityScheme {
            scheme: Some(Scheme::MtlsSecurityScheme(
                harbor_a2a::MutualTlsSecurityScheme {
                    description: "a client certificate from the operator's CA; subject CN is \
                                  the user, O the tenant"
                        .into(),
                },
            )),
        }
    }

    fn challenge(&self) -> Option<String> {
        None
    }

    async fn authenticate(&self, request: &AuthRequest<'_>) -> Verdict {
        let Some(cert) = request.client_certificate else {
            return Verdict::Absent;
        };
        let Some(user) = &cert.common_name else {
            return Verdict::Rejected("the client certificate has no common name".into());
        };
        let tenant = cert
            .organization
            .clone()
            .unwrap_or_else(|| self.default_tenant.clone());
        Verdict::Accepted(Principal::new(tenant, user.as_str(), "mtls"))
    }
}
