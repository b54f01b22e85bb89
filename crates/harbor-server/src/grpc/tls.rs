//! TLS for the gRPC server (rustls): a certificate chain and its private key, as PEM files
//! or PEM text.

use std::fmt;
use std::path::PathBuf;

use tonic::transport::{Identity, ServerTlsConfig};

/// Where the server's certificate and key come from. Data only.
///
/// `Debug` never shows key material, only where it comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum GrpcTlsConfig {
    /// PEM files: the certificate chain and the private key.
    Files {
        /// The certificate chain (leaf first).
        cert: PathBuf,
        /// The private key.
        key: PathBuf,
    },
    /// PEM text, for tests and keys held in memory.
    Pem {
        /// The certificate chain (leaf first).
        cert: String,
        /// The private key.
        key: String,
    },
}

impl GrpcTlsConfig {
    /// Reads the certificate and key into tonic's server TLS settings.
    pub(crate) fn load(&self) -> std::io::Result<ServerTlsConfig> {
        let (cert, key) = match self {
            Self::Files { cert, key } => {
                let read = |path: &PathBuf, what: &str| {
                    std::fs::read(path).map_err(|e| {
                        std::io::Error::new(
                            e.kind(),
                            format!("cannot read the TLS {what} {}: {e}", path.display()),
                        )
                    })
                };
                (read(cert, "certificate")?, read(key, "key")?)
            }
            Self::Pem { cert, key } => (cert.as_bytes().to_vec(), key.as_bytes().to_vec()),
        };
        Ok(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))
    }
}

impl fmt::Debug for GrpcTlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Files { cert, key } => f
                .debug_struct("Files")
                .field("cert", cert)
                .field("key", key)
                .finish(),
            Self::Pem { .. } => f.debug_struct("Pem").finish_non_exhaustive(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_out_of_debug() {
        let pem = GrpcTlsConfig::Pem {
            cert: "CERT".into(),
            key: "-----BEGIN PRIVATE KEY----- s3cret".into(),
        };
        let shown = format!("{pem:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn missing_files_say_which() {
        let files = GrpcTlsConfig::Files {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        };
        let error = files.load().expect_err("no such file");
        assert!(
            error.to_string().contains("/nonexistent/cert.pem"),
            "{error}"
        );
    }
}
