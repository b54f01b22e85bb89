//! The subject of the client certificate a TLS handshake verified ([`ClientCertificate`]):
//! what the bindings hand to authentication and [mutual TLS](super::MtlsAuthenticator)
//! reads. A leaf.

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
