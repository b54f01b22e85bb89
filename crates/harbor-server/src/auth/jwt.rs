//! JWT bearer tokens (`Authorization: Bearer …`): signature by a static public key, a JWKS
//! URL or the issuer's OIDC discovery; issuer, audience, expiry and not-before checked;
//! only allow-listed algorithms (asymmetric ones: an `alg` of `none` or `HS*` never passes).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use harbor_a2a::SecurityScheme;
use harbor_a2a::pb::security_scheme::Scheme;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde_json::Value;

use super::jwks::{Key, Remote, RemoteKeys, discovery_url};
use super::scheme::{AuthRequest, Authenticator, Principal, Verdict};

/// Where the verification keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtKeySource {
    /// Public keys in PEM (RSA, EC P-256/P-384 or Ed25519), tried in turn.
    Pem(Vec<String>),
    /// A JWKS URL (https, or http on loopback).
    Jwks(String),
    /// The issuer's OIDC discovery document names the JWKS.
    OidcDiscovery,
}

/// Settings of JWT authentication. Data only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfig {
    /// The required `iss`. No default: required.
    pub issuer: String,
    /// Accepted `aud` values; a token must name one. No default: required.
    pub audiences: Vec<String>,
    /// The keys. Default [`JwtKeySource::OidcDiscovery`].
    pub keys: JwtKeySource,
    /// Accepted `alg`s. Default ES256, EdDSA, RS256, PS256. Symmetric (`HS*`) algorithms
    /// are refused.
    pub algorithms: Vec<Algorithm>,
    /// The claim naming the caller's tenant. Default `tenant`.
    pub tenant_claim: String,
    /// The tenant of tokens without [`tenant_claim`](Self::tenant_claim); `None` refuses
    /// them. Default `None`.
    pub default_tenant: Option<String>,
    /// The claim naming the user. Default `sub`.
    pub user_claim: String,
    /// Clock skew allowed on `exp` and `nbf`. Default 30 s.
    pub leeway: Duration,
    /// How long fetched keys are used before they are fetched again. Default 10 min.
    pub jwks_ttl: Duration,
    /// The least time between two fetches triggered by unknown key ids. Default 10 s.
    pub jwks_min_refresh: Duration,
    /// Timeout of one discovery or JWKS fetch. Default 5 s.
    pub fetch_timeout: Duration,
    /// Scopes a token must grant (in its `scope` claim, space-separated, or `scp`); a
    /// valid token without them is PermissionDenied. Default none.
    pub required_scopes: Vec<String>,
}

impl JwtConfig {
    /// Settings for `issuer` and `audience`, everything else default.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audiences: vec![audience.into()],
            keys: JwtKeySource::OidcDiscovery,
            algorithms: vec![
                Algorithm::ES256,
                Algorithm::EdDSA,
                Algorithm::RS256,
                Algorithm::PS256,
            ],
            tenant_claim: "tenant".into(),
            default_tenant: None,
            user_claim: "sub".into(),
            leeway: Duration::from_secs(30),
            jwks_ttl: Duration::from_secs(600),
            jwks_min_refresh: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(5),
            required_scopes: Vec::new(),
        }
    }
}

enum Keys {
    Static(Vec<Key>),
    Remote(Box<RemoteKeys>),
}

/// JWT bearer authentication. Build with [`JwtAuthenticator::new`].
#[derive(Clone)]
pub struct JwtAuthenticator {
    config: Arc<JwtConfig>,
    keys: Arc<Keys>,
}

impl fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuthenticator")
            .field("issuer", &self.config.issuer)
            .field("audiences", &self.config.audiences)
            .field("algorithms", &self.config.algorithms)
            .finish_non_exhaustive()
    }
}

impl JwtAuthenticator {
    /// Checks `config` and loads static keys (remote keys are fetched on first use).
    ///
    /// # Errors
    ///
    /// No issuer or audience, no or a symmetric algorithm, a PEM key that does not parse,
    /// a key URL that is neither https nor loopback http.
    pub fn new(config: JwtConfig) -> Result<Self, String> {
        if config.issuer.is_empty() {
            return Err("a JWT issuer is required".into());
        }
        if config.audiences.iter().all(String::is_empty) {
            return Err("a JWT audience is required".into());
        }
        if config.algorithms.is_empty() {
            return Err("at least one JWT algorithm must be allowed".into());
        }
        if let Some(alg) = config
            .algorithms
            .iter()
            .find(|a| a.family() == AlgorithmFamily::Hmac)
        {
            return Err(format!(
                "{alg:?} is symmetric: only public-key algorithms are accepted"
            ));
        }
        let keys = match &config.keys {
            JwtKeySource::Pem(pems) => {
                if pems.is_empty() {
                    return Err("no JWT public key given".into());
                }
                Keys::Static(
                    pems.iter()
                        .enumerate()
                        .map(|(i, pem)| {
                            parse_pem(pem).map_err(|e| format!("JWT key {}: {e}", i + 1))
                        })
                        .collect::<Result<_, _>>()?,
                )
            }
            JwtKeySource::Jwks(url) => Keys::Remote(Box::new(RemoteKeys::new(
                Remote::Jwks(url.clone()),
                &config.issuer,
                config.fetch_timeout,
                config.jwks_ttl,
                config.jwks_min_refresh,
            )?)),
            JwtKeySource::OidcDiscovery => Keys::Remote(Box::new(RemoteKeys::new(
                Remote::Discovery(config.issuer.clone()),
                &config.issuer,
                config.fetch_timeout,
                config.jwks_ttl,
                config.jwks_min_refresh,
            )?)),
        };
        Ok(Self {
            config: Arc::new(config),
            keys: Arc::new(keys),
        })
    }

    /// The required scopes `claims` lack.
    fn missing_scopes(&self, claims: &Value) -> Vec<&str> {
        let mut granted: Vec<&str> = Vec::new();
        for name in ["scope", "scp"] {
            match claims.get(name) {
                Some(Value::String(s)) => granted.extend(s.split_whitespace()),
                Some(Value::Array(items)) => granted.extend(items.iter().filter_map(Value::as_str)),
                _ => {}
            }
        }
        self.config
            .required_scopes
            .iter()
            .map(String::as_str)
            .filter(|s| !granted.contains(s))
            .collect()
    }

    async fn verify(&self, token: &str) -> Result<(Principal, Value), String> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| "the token is malformed or its algorithm is not supported".to_owned())?;
        if !self.config.algorithms.contains(&header.alg) {
            return Err(format!("algorithm {:?} is not allowed", header.alg));
        }
        let candidates: Vec<Key> = match &*self.keys {
            Keys::Static(keys) => keys.clone(),
            Keys::Remote(remote) => remote.keys(header.kid.as_deref()).await?,
        };
        let candidates: Vec<&Key> = candidates
            .iter()
            .filter(|k| k.key.family() == header.alg.family())
            .filter(|k| k.alg.is_none_or(|a| a == header.alg))
            .collect();
        if candidates.is_empty() {
            return Err(match header.kid {
                Some(_) => "the token's key id is not one of the issuer's keys".into(),
                None => "no key of the token's algorithm is configured".into(),
            });
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&self.config.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = self.config.leeway.as_secs();
        let mut last = "the signature does not verify".to_owned();
        for key in candidates {
            match jsonwebtoken::decode::<Value>(token, &key.key, &validation) {
                Ok(data) => return Ok((self.principal(&data.claims)?, data.claims)),
                Err(e) => {
                    last = describe(e.kind());
                    if !matches!(e.kind(), JwtErrorKind::InvalidSignature) {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }

    fn principal(&self, claims: &Value) -> Result<Principal, String> {
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let user = text(&self.config.user_claim)
            .ok_or_else(|| format!("the token has no {} claim", self.config.user_claim))?;
        let tenant = text(&self.config.tenant_claim)
            .or(self.config.default_tenant.as_deref())
            .ok_or_else(|| format!("the token has no {} claim", self.config.tenant_claim))?;
        Ok(Principal {
            tenant: tenant.into(),
            user: user.into(),
            session: text("sid").map(Into::into),
            scheme: "bearer",
        })
    }
}

fn parse_pem(pem: &str) -> Result<Key, String> {
    let bytes = pem.as_bytes();
    let key = DecodingKey::from_ec_pem(bytes)
        .or_else(|_| DecodingKey::from_ed_pem(bytes))
        .or_else(|_| DecodingKey::from_rsa_pem(bytes))
        .map_err(|_| "not an RSA, EC or Ed25519 public key in PEM".to_owned())?;
    Ok(Key {
        kid: None,
        alg: None,
        key,
    })
}

fn describe(kind: &JwtErrorKind) -> String {
    match kind {
        JwtErrorKind::ExpiredSignature => "the token has expired",
        JwtErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
        JwtErrorKind::InvalidAudience => "the token is for another audience",
        JwtErrorKind::InvalidIssuer => "the token is from another issuer",
        JwtErrorKind::MissingRequiredClaim(_) => "the token lacks exp, iss or aud",
        JwtErrorKind::InvalidAlgorithm => "the token's algorithm does not match the key",
        JwtErrorKind::InvalidSignature => "the signature does not verify",
        _ => "the token is malformed",
    }
    .to_owned()
}

#[async_trait::async_trait]
impl Authenticator for JwtAuthenticator {
    fn name(&self) -> &str {
        match self.config.keys {
            JwtKeySource::OidcDiscovery => "oidc",
            _ => "bearer",
        }
    }

    fn security_scheme(&self) -> SecurityScheme {
        let scheme = match self.config.keys {
            JwtKeySource::OidcDiscovery => {
                Scheme::OpenIdConnectSecurityScheme(harbor_a2a::OpenIdConnectSecurityScheme {
                    description: "an OpenID Connect ID or access token as a Bearer token".into(),
                    open_id_connect_url: discovery_url(&self.config.issuer),
                })
            }
            _ => Scheme::HttpAuthSecurityScheme(harbor_a2a::HttpAuthSecurityScheme {
                description: format!("a JWT issued by {}", self.config.issuer),
                scheme: "Bearer".into(),
                bearer_format: "JWT".into(),
            }),
        };
        SecurityScheme {
            scheme: Some(scheme),
        }
    }

    fn challenge(&self) -> Option<String> {
        Some("Bearer realm=\"a2a\"".into())
    }

    async fn authenticate(&self, request: &AuthRequest<'_>) -> Verdict {
        let Some(value) = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        else {
            return Verdict::Absent;
        };
        let Some((scheme, token)) = value.trim().split_once(' ') else {
            return Verdict::Absent;
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Verdict::Absent;
        }
        match self.verify(token.trim()).await {
            Ok((principal, claims)) => {
                let missing = self.missing_scopes(&claims);
                if missing.is_empty() {
                    Verdict::Accepted(principal)
                } else {
                    Verdict::Forbidden(format!(
                        "the token lacks the scope(s) {}",
                        missing.join(", ")
                    ))
                }
            }
            Err(reason) => Verdict::Rejected(reason),
        }
    }
}
