//! Authentication and TLS of `harbor serve`: API keys, JWT bearer tokens, mutual TLS, and
//! what the agent card says about them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use harbor_a2a::{AgentCard, AgentSkill};
use harbor_server::auth::{
    ApiKeys, Auth, Authenticator, DEFAULT_API_KEY_HEADER, FailureLimit, JwtAuthenticator,
    JwtConfig, JwtKeySource, MtlsAuthenticator,
};
use harbor_server::card_signing::CardSigner;
use harbor_server::tls::TlsConfig;
use jsonwebtoken::Algorithm;

use crate::duration::parse_duration;

/// Authentication and TLS flags of `harbor serve`.
#[derive(Debug, Args)]
pub(crate) struct AuthArgs {
    /// API keys: a file of `TENANT USER sha256:HEX` lines, each key given by its SHA-256
    /// (`printf %s "$KEY" | sha256sum`); the caller sends the key in --api-key-header.
    #[arg(long, value_name = "FILE", help_heading = "Authentication")]
    api_keys: Option<PathBuf>,
    /// API keys from an environment variable: `TENANT:USER:KEY` entries separated by
    /// commas or newlines (keys in clear, hashed at once; at least 16 bytes each).
    #[arg(long, value_name = "NAME", help_heading = "Authentication")]
    api_key_env: Option<String>,
    /// The header API keys are sent in.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_API_KEY_HEADER, help_heading = "Authentication")]
    api_key_header: String,
    /// JWT bearer tokens from this issuer (`iss`). Keys: --jwt-key, else --jwt-jwks-url,
    /// else the issuer's OIDC discovery (ISSUER/.well-known/openid-configuration).
    #[arg(
        long,
        value_name = "URL",
        requires = "jwt_audience",
        help_heading = "Authentication"
    )]
    jwt_issuer: Option<String>,
    /// An accepted JWT audience (`aud`); repeat for several.
    #[arg(
        long,
        value_name = "AUD",
        requires = "jwt_issuer",
        help_heading = "Authentication"
    )]
    jwt_audience: Vec<String>,
    /// A public key (PEM: RSA, EC or Ed25519) that signs JWTs; repeat for several.
    #[arg(
        long,
        value_name = "FILE",
        requires = "jwt_issuer",
        conflicts_with = "jwt_jwks_url",
        help_heading = "Authentication"
    )]
    jwt_key: Vec<PathBuf>,
    /// The JWKS URL of the issuer's keys (https, or http on loopback); fetched again when
    /// a token names an unknown key id (rotation), at most every 10 s, and every 10 min.
    #[arg(
        long,
        value_name = "URL",
        requires = "jwt_issuer",
        help_heading = "Authentication"
    )]
    jwt_jwks_url: Option<String>,
    /// Accepted JWT algorithms, comma-separated (asymmetric only; `none` is never accepted).
    #[arg(long, value_name = "ALGS", default_value = "ES256,EdDSA,RS256,PS256", value_delimiter = ',', value_parser = parse_algorithm, help_heading = "Authentication")]
    jwt_algorithms: Vec<Algorithm>,
    /// The JWT claim naming the caller's tenant.
    #[arg(
        long,
        value_name = "CLAIM",
        default_value = "tenant",
        help_heading = "Authentication"
    )]
    jwt_tenant_claim: String,
    /// The tenant of tokens without the tenant claim (default: such tokens are refused).
    #[arg(long, value_name = "TENANT", help_heading = "Authentication")]
    jwt_default_tenant: Option<String>,
    /// A scope every JWT must grant (`scope` or `scp` claim); repeat for several. A valid
    /// token without it is answered 403 (gRPC PERMISSION_DENIED).
    #[arg(
        long,
        value_name = "SCOPE",
        requires = "jwt_issuer",
        help_heading = "Authentication"
    )]
    jwt_required_scope: Vec<String>,
    /// The JWT claim naming the user.
    #[arg(
        long,
        value_name = "CLAIM",
        default_value = "sub",
        help_heading = "Authentication"
    )]
    jwt_user_claim: String,
    /// Failed authentication attempts one address may make per --auth-failure-window;
    /// past it the address is answered 429 (gRPC RESOURCE_EXHAUSTED) until the window ends.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 20,
        help_heading = "Authentication"
    )]
    auth_max_failures: u32,
    /// The window of --auth-max-failures.
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = parse_duration, help_heading = "Authentication")]
    auth_failure_window: Duration,
    /// TLS certificate chain (PEM, leaf first) for the HTTP bindings, and for gRPC unless
    /// --grpc-tls-cert is given. Needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key", help_heading = "TLS")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert", help_heading = "TLS")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Mutual TLS: CA certificates (PEM) that client certificates must chain to, on HTTP
    /// and gRPC. A client certificate's subject names the caller: CN the user, O the tenant
    /// (--mtls-default-tenant without O). Needs TLS (--tls-cert).
    #[arg(long, value_name = "FILE", requires = "tls_cert", help_heading = "TLS")]
    client_ca: Option<PathBuf>,
    /// The tenant of client certificates whose subject has no organization (O).
    #[arg(
        long,
        value_name = "TENANT",
        default_value = "default",
        help_heading = "TLS"
    )]
    mtls_default_tenant: String,
    /// Sign the agent card (and the extended card) with this private key: PKCS#8 PEM, P-256
    /// (ES256) or Ed25519 (EdDSA). The JWS covers the card's RFC 8785 canonical form.
    #[arg(
        long,
        value_name = "FILE",
        requires = "sign_card_kid",
        help_heading = "Card signing"
    )]
    sign_card_key: Option<PathBuf>,
    /// The key id (`kid`) of --sign-card-key, which verifiers look the key up by.
    #[arg(
        long,
        value_name = "KID",
        requires = "sign_card_key",
        help_heading = "Card signing"
    )]
    sign_card_kid: Option<String>,
    /// The URL of the JWKS that holds the signing key's public half (`jku`), if published.
    #[arg(
        long,
        value_name = "URL",
        requires = "sign_card_key",
        help_heading = "Card signing"
    )]
    sign_card_jku: Option<String>,
}

fn parse_algorithm(name: &str) -> Result<Algorithm, String> {
    name.trim()
        .parse()
        .map_err(|_| format!("unknown JWT algorithm {name:?}"))
}

impl AuthArgs {
    /// The authentication the flags configure (none: anonymous).
    pub(crate) fn auth(&self) -> anyhow::Result<Auth> {
        let mut schemes: Vec<Arc<dyn Authenticator>> = Vec::new();
        if self.api_keys.is_some() || self.api_key_env.is_some() {
            let mut keys = ApiKeys::new().header(&self.api_key_header);
            if let Some(path) = &self.api_keys {
                keys = keys.load_file(path)?;
            }
            if let Some(name) = &self.api_key_env {
                keys = keys.load_env(name)?;
            }
            if keys.is_empty() {
                anyhow::bail!("--api-keys/--api-key-env name no key");
            }
            schemes.push(Arc::new(keys));
        }
        if let Some(issuer) = &self.jwt_issuer {
            let keys = if !self.jwt_key.is_empty() {
                JwtKeySource::Pem(
                    self.jwt_key
                        .iter()
                        .map(|path| {
                            std::fs::read_to_string(path).with_context(|| {
                                format!("cannot read the JWT key {}", path.display())
                            })
                        })
                        .collect::<anyhow::Result<_>>()?,
                )
            } else if let Some(url) = &self.jwt_jwks_url {
                JwtKeySource::Jwks(url.clone())
            } else {
                JwtKeySource::OidcDiscovery
            };
            let config = JwtConfig {
                audiences: self.jwt_audience.clone(),
                keys,
                algorithms: self.jwt_algorithms.clone(),
                tenant_claim: self.jwt_tenant_claim.clone(),
                default_tenant: self.jwt_default_tenant.clone(),
                user_claim: self.jwt_user_claim.clone(),
                required_scopes: self.jwt_required_scope.clone(),
                ..JwtConfig::new(issuer.clone(), String::new())
            };
            let jwt = JwtAuthenticator::new(config).map_err(|e| anyhow::anyhow!("JWT: {e}"))?;
            schemes.push(Arc::new(jwt));
        }
        if self.client_ca.is_some() {
            schemes.push(Arc::new(MtlsAuthenticator::new(
                self.mtls_default_tenant.clone(),
            )));
        }
        Ok(Auth::new(
            schemes,
            FailureLimit {
                max_failures: self.auth_max_failures.max(1),
                window: self.auth_failure_window,
                ..FailureLimit::default()
            },
        ))
    }

    /// TLS of the HTTP bindings, if asked for.
    pub(crate) fn http_tls(&self) -> Option<TlsConfig> {
        let (cert, key) = (self.tls_cert.clone()?, self.tls_key.clone()?);
        Some(TlsConfig {
            cert,
            key,
            client_ca: self.client_ca.clone(),
            require_client_cert: false,
        })
    }

    /// The card signer the flags name, if any.
    pub(crate) fn card_signer(&self) -> anyhow::Result<Option<CardSigner>> {
        let (Some(path), Some(kid)) = (&self.sign_card_key, &self.sign_card_kid) else {
            return Ok(None);
        };
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the card signing key {}", path.display()))?;
        CardSigner::from_pem(&pem, kid, self.sign_card_jku.clone())
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// The client CA of mutual TLS, if any.
    pub(crate) fn client_ca(&self) -> Option<PathBuf> {
        self.client_ca.clone()
    }
}

/// Says on the card what `auth` asks of callers, and makes `card`'s extended form: declared
/// only when callers authenticate (the extended card is for authenticated callers), with
/// one more skill. Returns the extended card, if any.
pub(crate) fn secure_card(card: &mut AgentCard, auth: &Auth, declare: bool) -> Option<AgentCard> {
    card.security_schemes = auth.security_schemes();
    card.security_requirements = auth.security_requirements();
    let extended = declare && !auth.is_anonymous();
    if let Some(capabilities) = card.capabilities.as_mut() {
        capabilities.extended_agent_card = Some(extended);
    }
    extended.then(|| {
        let mut full = card.clone();
        full.skills.push(AgentSkill {
            id: "authenticated".into(),
            name: "Authenticated tasks".into(),
            description: "Tasks of an authenticated caller are its own: no other user or \
                          tenant sees, lists, cancels or follows them."
                .into(),
            tags: vec!["authenticated".into()],
            ..AgentSkill::default()
        });
        full
    })
}

/// The startup line about authentication.
pub(crate) fn describe(auth: &Auth) -> String {
    if auth.is_anonymous() {
        "none: every caller is the anonymous principal (tenant default, user anonymous); \
         see --api-keys, --jwt-issuer, --client-ca"
            .to_owned()
    } else {
        auth.scheme_names().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        auth: AuthArgs,
    }

    #[test]
    fn no_flag_is_anonymous_and_the_card_declares_no_extended_card() {
        let cli = Cli::try_parse_from(["x"]).expect("parses");
        let auth = cli.auth.auth().expect("auth");
        assert!(auth.is_anonymous());
        let mut card = AgentCard {
            capabilities: Some(harbor_a2a::AgentCapabilities::default()),
            ..AgentCard::default()
        };
        assert!(secure_card(&mut card, &auth, true).is_none());
        assert!(card.security_schemes.is_empty());
        assert_eq!(
            card.capabilities.and_then(|c| c.extended_agent_card),
            Some(false)
        );
        assert!(describe(&auth).starts_with("none"));
    }

    #[test]
    fn configured_schemes_reach_the_card() {
        let dir = tempfile::tempdir().expect("dir");
        let keys = dir.path().join("keys");
        std::fs::write(
            &keys,
            format!(
                "acme alice {}\n",
                harbor_server::auth::hash_api_key("alice-key-0123456789")
            ),
        )
        .expect("write");
        let cli = Cli::try_parse_from([
            "x",
            "--api-keys",
            keys.to_str().expect("utf-8"),
            "--jwt-issuer",
            "https://issuer.example",
            "--jwt-audience",
            "harbor",
        ])
        .expect("parses");
        let auth = cli.auth.auth().expect("auth");
        assert_eq!(auth.scheme_names(), ["apiKey", "oidc"]);
        let mut card = AgentCard {
            capabilities: Some(harbor_a2a::AgentCapabilities::default()),
            ..AgentCard::default()
        };
        let extended = secure_card(&mut card, &auth, true).expect("an extended card");
        assert_eq!(
            card.security_schemes.keys().collect::<Vec<_>>(),
            ["apiKey", "oidc"]
        );
        assert_eq!(card.security_requirements.len(), 2);
        assert_eq!(extended.skills.len(), card.skills.len() + 1);
        let json = harbor_a2a::to_json(&card).expect("json");
        assert_eq!(
            json["securitySchemes"]["oidc"]["openIdConnectSecurityScheme"]["openIdConnectUrl"],
            "https://issuer.example/.well-known/openid-configuration"
        );
        assert_eq!(
            json["securitySchemes"]["apiKey"]["apiKeySecurityScheme"]["name"],
            "x-api-key"
        );
    }

    #[test]
    fn bad_algorithms_and_symmetric_ones_are_refused() {
        assert!(Cli::try_parse_from(["x", "--jwt-algorithms", "none"]).is_err());
        let cli = Cli::try_parse_from([
            "x",
            "--jwt-issuer",
            "https://i.example",
            "--jwt-audience",
            "a",
            "--jwt-algorithms",
            "HS256",
        ])
        .expect("parses");
        let error = cli.auth.auth().expect_err("HS256 refused");
        assert!(error.to_string().contains("symmetric"), "{error}");
    }
}
