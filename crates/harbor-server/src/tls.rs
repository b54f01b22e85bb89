//! TLS for the HTTP bindings (rustls): the server's certificate and key, and optionally a
//! client CA for mutual TLS, whose verified client certificates name the caller
//! ([`MtlsAuthenticator`](crate::auth::MtlsAuthenticator)).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

/// Where the server's TLS material comes from. Data only; `Debug` shows paths, never keys.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// The certificate chain (leaf first), PEM.
    pub cert: PathBuf,
    /// The private key, PEM.
    pub key: PathBuf,
    /// CA certificates (PEM) that client certificates must chain to; `None`: no client
    /// certificates are asked for. Default `None`.
    pub client_ca: Option<PathBuf>,
    /// Refuse connections without a client certificate (otherwise a client without one
    /// may still authenticate with another scheme). Default false.
    pub require_client_cert: bool,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .field("client_ca", &self.client_ca)
            .field("require_client_cert", &self.require_client_cert)
            .finish()
    }
}

fn invalid(what: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, what)
}

fn certificates(path: &Path, what: &str) -> std::io::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| invalid(format!("cannot read the {what} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(invalid(format!(
            "the {what} {} holds no certificate",
            path.display()
        )));
    }
    Ok(certs)
}

impl TlsConfig {
    /// The rustls server settings (ALPN h2 and http/1.1).
    ///
    /// # Errors
    ///
    /// A file that cannot be read or does not hold what it should (`InvalidInput`, naming
    /// the file, never its contents).
    pub fn server_config(&self) -> std::io::Result<Arc<rustls::ServerConfig>> {
        let chain = certificates(&self.cert, "TLS certificate")?;
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|e| {
            invalid(format!(
                "cannot read the TLS key {}: {e}",
                self.key.display()
            ))
        })?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(format!("TLS: {e}")))?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in certificates(ca, "client CA")? {
                    roots
                        .add(cert)
                        .map_err(|e| invalid(format!("client CA {}: {e}", ca.display())))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let verifier = if self.require_client_cert {
                    verifier
                } else {
                    verifier.allow_unauthenticated()
                };
                builder.with_client_cert_verifier(
                    verifier
                        .build()
                        .map_err(|e| invalid(format!("client CA {}: {e}", ca.display())))?,
                )
            }
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(|e| invalid(format!("TLS certificate and key: {e}")))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}
