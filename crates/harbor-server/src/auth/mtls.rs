//! Mutual TLS: the TLS handshake has verified the client's certificate against the
//! configured client CA; its subject names the caller (common name: the user;
//! organization: the tenant).

use harbor_a2a::SecurityScheme;
use harbor_a2a::pb::security_scheme::Scheme;

use super::{AuthRequest, Authenticator, Principal, Verdict};

/// The subject of a verified client certificate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientCertificate {
    /// The subject's common name (CN), if any.
    pub common_name: Option<String>,
    /// The subject's organization (O), if any.
    pub organization: Option<String>,
}

impl ClientCertificate {
    /// The subject of a DER certificate; `None` when it does not parse.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let subject = cert.subject();
        let text = |a: Option<&x509_parser::x509::AttributeTypeAndValue<'_>>| {
            a.and_then(|a| a.as_str().ok())
                .map(str::to_owned)
                .filter(|s| !s.is_empty())
        };
        Some(Self {
            common_name: text(subject.iter_common_name().next()),
            organization: text(subject.iter_organization().next()),
        })
    }
}

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
