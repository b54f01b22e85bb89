//! Keys fetched over HTTP: a JWKS document, found directly or through OIDC discovery,
//! cached for a while and fetched again when a token names a key id the cache lacks (the
//! issuer has rotated its keys), at most once per `min_refresh`.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};

/// Largest discovery or JWKS document read, in bytes.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// One verification key.
#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) kid: Option<String>,
    pub(crate) alg: Option<Algorithm>,
    pub(crate) key: DecodingKey,
}

/// Where remote keys come from.
#[derive(Debug, Clone)]
pub(crate) enum Remote {
    /// A JWKS URL.
    Jwks(String),
    /// The issuer's `/.well-known/openid-configuration`, whose `jwks_uri` is the JWKS.
    Discovery(String),
}

struct Cached {
    keys: Vec<Key>,
    fetched: Instant,
}

/// The cache of one remote key source.
pub(crate) struct RemoteKeys {
    remote: Remote,
    issuer: String,
    client: reqwest::Client,
    ttl: Duration,
    min_refresh: Duration,
    cached: RwLock<Option<Cached>>,
    /// When a fetch was last tried; held while fetching so concurrent misses fetch once.
    last_try: Mutex<Option<Instant>>,
    /// The JWKS URL discovery found.
    jwks_uri: RwLock<Option<String>>,
}

impl std::fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteKeys")
            .field("remote", &self.remote)
            .finish_non_exhaustive()
    }
}

impl RemoteKeys {
    pub(crate) fn new(
        remote: Remote,
        issuer: &str,
        timeout: Duration,
        ttl: Duration,
        min_refresh: Duration,
    ) -> Result<Self, String> {
        let url = match &remote {
            Remote::Jwks(url) | Remote::Discovery(url) => url,
        };
        check_url(url)?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            remote,
            issuer: issuer.to_owned(),
            client,
            ttl,
            min_refresh,
            cached: RwLock::new(None),
            last_try: Mutex::new(None),
            jwks_uri: RwLock::new(None),
        })
    }

    /// The keys that may have signed a token naming `kid`: fetched when the cache is empty
    /// or stale, or lacks `kid` (rate limited by `min_refresh`).
    pub(crate) async fn keys(&self, kid: Option<&str>) -> Result<Vec<Key>, String> {
        let fresh = |c: &Option<Cached>| {
            c.as_ref().is_some_and(|c| {
                c.fetched.elapsed() < self.ttl
                    && kid.is_none_or(|kid| c.keys.iter().any(|k| k.kid.as_deref() == Some(kid)))
            })
        };
        if !fresh(&*self.cached.read().await) {
            let mut last_try = self.last_try.lock().await;
            // Another caller may have fetched while this one waited.
            let recently = last_try.is_some_and(|at| at.elapsed() < self.min_refresh);
            if !fresh(&*self.cached.read().await) && !recently {
                *last_try = Some(Instant::now());
                match self.fetch().await {
                    Ok(keys) => {
                        *self.cached.write().await = Some(Cached {
                            keys,
                            fetched: Instant::now(),
                        });
                    }
                    // Keep serving the keys we have: an issuer's outage must not lock
                    // every caller out.
                    Err(error) => {
                        tracing::warn!(%error, "cannot fetch the JWT verification keys");
                        if self.cached.read().await.is_none() {
                            return Err(error);
                        }
                    }
                }
            }
        }
        let cached = self.cached.read().await;
        Ok(cached
            .as_ref()
            .map(|c| {
                c.keys
                    .iter()
                    .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn fetch(&self) -> Result<Vec<Key>, String> {
        let url = match &self.remote {
            Remote::Jwks(url) => url.clone(),
            Remote::Discovery(issuer) => self.discover(issuer).await?,
        };
        let set: JwkSet = serde_json::from_slice(&get(&self.client, &url).await?)
            .map_err(|e| format!("the JWKS at {url} is not a key set: {e}"))?;
        let keys = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let key = DecodingKey::from_jwk(jwk).ok()?;
                Some(Key {
                    kid: jwk.common.key_id.clone(),
                    alg: jwk
                        .common
                        .key_algorithm
                        .and_then(|a| Algorithm::try_from(a).ok()),
                    key,
                })
            })
            .collect::<Vec<_>>();
        tracing::debug!(%url, keys = keys.len(), "fetched JWT verification keys");
        Ok(keys)
    }

    /// The `jwks_uri` of the issuer's discovery document (once found, kept).
    async fn discover(&self, issuer: &str) -> Result<String, String> {
        if let Some(uri) = self.jwks_uri.read().await.clone() {
            return Ok(uri);
        }
        let url = discovery_url(issuer);
        let document: serde_json::Value =
            serde_json::from_slice(&get(&self.client, &url).await?)
                .map_err(|e| format!("the discovery document at {url} is not JSON: {e}"))?;
        let claimed = document.get("issuer").and_then(|v| v.as_str());
        if claimed != Some(self.issuer.as_str()) {
            return Err(format!(
                "the discovery document at {url} names another issuer ({})",
                claimed.unwrap_or("none")
            ));
        }
        let uri = document
            .get("jwks_uri")
            .and_then(|v| v.as_str())
            .ok_or_else(|| format!("the discovery document at {url} has no jwks_uri"))?
            .to_owned();
        check_url(&uri)?;
        *self.jwks_uri.write().await = Some(uri.clone());
        Ok(uri)
    }
}

/// The OIDC discovery document of `issuer`.
pub(crate) fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// Keys must come over HTTPS; plain HTTP only from loopback (tests, local issuers).
fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url} is not a URL: {e}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!(
            "{url}: keys must be fetched over https (http only from loopback)"
        )),
    }
}

/// GETs `url`, refusing non-2xx answers and bodies over [`MAX_DOCUMENT_BYTES`].
async fn get(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let mut response = client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("cannot GET {url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("GET {url} answered {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("cannot read {url}: {e}"))?
    {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("{url} is larger than {MAX_DOCUMENT_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_over_https_or_from_loopback() {
        assert!(check_url("https://issuer.example/jwks").is_ok());
        assert!(check_url("http://127.0.0.1:8080/jwks").is_ok());
        assert!(check_url("http://localhost/jwks").is_ok());
        assert!(check_url("http://issuer.example/jwks").is_err());
        assert!(check_url("file:///etc/passwd").is_err());
        assert_eq!(
            discovery_url("https://issuer.example/"),
            "https://issuer.example/.well-known/openid-configuration"
        );
    }
}
