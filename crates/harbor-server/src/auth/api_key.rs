//! API keys: a header holding a key, each key mapped to a tenant and a user. Only the
//! SHA-256 of each key is kept (keys are long random strings, so a fast hash is as good
//! as a slow one and costs nothing per request).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use harbor_a2a::SecurityScheme;
use harbor_a2a::pb::security_scheme::Scheme;
use sha2::{Digest, Sha256};

use super::scheme::{AuthRequest, Authenticator, Principal, Verdict};

/// The header that carries the key unless configured otherwise.
pub const DEFAULT_HEADER: &str = "x-api-key";

/// Keys shorter than this are refused when loaded: a short key can be guessed.
pub const MIN_KEY_BYTES: usize = 16;

/// An API key table that cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyError {
    /// The key file cannot be read.
    #[error("cannot read the API key file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line of the key file or variable is malformed.
    #[error("{origin} line {line}: {why}")]
    Malformed {
        /// The file or variable.
        origin: String,
        /// The 1-based line (or entry) number.
        line: usize,
        /// What is wrong (never the key itself).
        why: String,
    },
    /// The environment variable is not set.
    #[error("the environment variable {0} is not set")]
    MissingVariable(String),
}

/// The SHA-256 of `key` as the key file writes it: `sha256:` and 64 lower-case hex digits.
/// The same as `printf %s "$KEY" | sha256sum`.
pub fn hash_api_key(key: &str) -> String {
    format!("sha256:{}", hex(&Sha256::digest(key.as_bytes())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Key hashes to (tenant, user).
type KeyTable = HashMap<[u8; 32], (Arc<str>, Arc<str>)>;

/// API key authentication: a table from key hashes to principals.
#[derive(Clone)]
pub struct ApiKeys {
    header: String,
    keys: Arc<KeyTable>,
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeys")
            .field("header", &self.header)
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl Default for ApiKeys {
    fn default() -> Self {
        Self {
            header: DEFAULT_HEADER.to_owned(),
            keys: Arc::default(),
        }
    }
}

impl ApiKeys {
    /// An empty table read from header [`DEFAULT_HEADER`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the key from `header` instead (any case).
    #[must_use]
    pub fn header(mut self, header: &str) -> Self {
        self.header = header.to_ascii_lowercase();
        self
    }

    /// The header the key is read from.
    pub fn header_name(&self) -> &str {
        &self.header
    }

    /// How many keys the table holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the table holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds a key (given in clear, kept hashed) for `tenant` and `user`.
    ///
    /// # Errors
    ///
    /// A key shorter than [`MIN_KEY_BYTES`], or an empty tenant or user.
    pub fn add_key(self, tenant: &str, user: &str, key: &str) -> Result<Self, String> {
        if key.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the key is shorter than {MIN_KEY_BYTES} bytes: too easy to guess"
            ));
        }
        self.add_hash(tenant, user, Sha256::digest(key.as_bytes()).into())
    }

    fn add_hash(mut self, tenant: &str, user: &str, hash: [u8; 32]) -> Result<Self, String> {
        if tenant.is_empty() || user.is_empty() {
            return Err("the tenant and the user must not be empty".into());
        }
        Arc::make_mut(&mut self.keys).insert(hash, (tenant.into(), user.into()));
        Ok(self)
    }

    /// Adds the entries of a key file: one `TENANT USER sha256:HEX` per line (blank lines
    /// and lines starting with `#` are skipped). The file holds hashes only.
    ///
    /// # Errors
    ///
    /// The file cannot be read or a line is malformed.
    pub fn load_file(self, path: &Path) -> Result<Self, ApiKeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| ApiKeyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        self.parse_file(&text, &path.display().to_string())
    }

    /// [`load_file`](Self::load_file) from text; `origin` names it in errors.
    ///
    /// # Errors
    ///
    /// A malformed line.
    pub fn parse_file(mut self, text: &str, origin: &str) -> Result<Self, ApiKeyError> {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let malformed = |why: &str| ApiKeyError::Malformed {
                origin: origin.to_owned(),
                line: n + 1,
                why: why.to_owned(),
            };
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [tenant, user, hash] = fields[..] else {
                return Err(malformed("expected TENANT USER sha256:HEX"));
            };
            let hash = parse_hash(hash).ok_or_else(|| {
                malformed("the key must be given as sha256: and 64 hex digits (its SHA-256)")
            })?;
            self = self
                .add_hash(tenant, user, hash)
                .map_err(|why| malformed(&why))?;
        }
        Ok(self)
    }

    /// Adds the keys of environment variable `name`: `TENANT:USER:KEY` entries separated
    /// by commas or newlines, keys in clear (they are hashed at once).
    ///
    /// # Errors
    ///
    /// The variable is unset or an entry is malformed.
    pub fn load_env(self, name: &str) -> Result<Self, ApiKeyError> {
        let value =
            std::env::var(name).map_err(|_| ApiKeyError::MissingVariable(name.to_owned()))?;
        self.parse_env(&value, name)
    }

    /// [`load_env`](Self::load_env) from the variable's value.
    ///
    /// # Errors
    ///
    /// A malformed entry.
    pub fn parse_env(mut self, value: &str, name: &str) -> Result<Self, ApiKeyError> {
        for (n, entry) in value
            .split([',', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let malformed = |why: &str| ApiKeyError::Malformed {
                origin: format!("${name}"),
                line: n + 1,
                why: why.to_owned(),
            };
            let mut parts = entry.splitn(3, ':');
            let (Some(tenant), Some(user), Some(key)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(malformed("expected TENANT:USER:KEY"));
            };
            self = self
                .add_key(tenant, user, key)
                .map_err(|why| malformed(&why))?;
        }
        Ok(self)
    }
}

fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let digits = text.strip_prefix("sha256:")?;
    if digits.len() != 64 {
        return None;
    }
    let mut hash = [0u8; 32];
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(digits.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(hash)
}

#[async_trait::async_trait]
impl Authenticator for ApiKeys {
    fn name(&self) -> &str {
        "apiKey"
    }

    fn security_scheme(&self) -> SecurityScheme {
        SecurityScheme {
            scheme: Some(Scheme::ApiKeySecurityScheme(
                harbor_a2a::ApiKeySecurityScheme {
                    description: "an API key issued by the operator".into(),
                    location: "header".into(),
                    name: self.header.clone(),
                },
            )),
        }
    }

    fn challenge(&self) -> Option<String> {
        Some(format!("ApiKey header=\"{}\"", self.header))
    }

    async fn authenticate(&self, request: &AuthRequest<'_>) -> Verdict {
        let Some(value) = request.headers.get(self.header.as_str()) else {
            return Verdict::Absent;
        };
        let hash: [u8; 32] = Sha256::digest(value.as_bytes()).into();
        match self.keys.get(&hash) {
            Some((tenant, user)) => Verdict::Accepted(Principal {
                tenant: Arc::clone(tenant),
                user: Arc::clone(user),
                session: None,
                scheme: "apiKey",
            }),
            None => Verdict::Rejected("unknown API key".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::*;

    const KEY: &str = "k-0123456789abcdef-secret";

    fn request(headers: &HeaderMap) -> AuthRequest<'_> {
        AuthRequest {
            headers,
            peer: None,
            client_certificate: None,
        }
    }

    #[tokio::test]
    async fn a_hashed_key_from_a_file_maps_to_its_principal() {
        let file = format!(
            "# operators\n\nacme alice {}\nglobex bob {}\n",
            hash_api_key(KEY),
            hash_api_key("another-key-of-bob-0000")
        );
        let keys = ApiKeys::new().parse_file(&file, "keys").expect("parses");
        assert_eq!(keys.len(), 2);
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", HeaderValue::from_static(KEY));
        match keys.authenticate(&request(&headers)).await {
            Verdict::Accepted(p) => assert_eq!((&*p.tenant, &*p.user), ("acme", "alice")),
            other => panic!("expected alice, got {other:?}"),
        }
        headers.insert(
            "x-api-key",
            HeaderValue::from_static("wrong-key-0123456789"),
        );
        assert!(matches!(
            keys.authenticate(&request(&headers)).await,
            Verdict::Rejected(_)
        ));
        assert_eq!(
            keys.authenticate(&request(&HeaderMap::new())).await,
            Verdict::Absent
        );
    }

    #[test]
    fn hashes_match_sha256sum() {
        // printf %s abc | sha256sum
        assert_eq!(
            hash_api_key("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[tokio::test]
    async fn env_keys_are_hashed_and_never_shown() {
        let keys = ApiKeys::new()
            .header("Authorization-Key")
            .parse_env(
                &format!("acme:alice:{KEY}, acme:carol:carols-key-0123456789"),
                "K",
            )
            .expect("parses");
        let shown = format!("{keys:?}");
        assert!(!shown.contains(KEY) && !shown.contains("carols"), "{shown}");
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization-key",
            HeaderValue::from_static("carols-key-0123456789"),
        );
        assert!(
            matches!(keys.authenticate(&request(&headers)).await, Verdict::Accepted(p) if &*p.user == "carol")
        );
    }

    #[test]
    fn malformed_entries_name_the_line_but_not_the_key() {
        let error = ApiKeys::new()
            .parse_file("acme alice plain-text-key-123456\n", "keys.txt")
            .expect_err("plain keys are refused in files");
        let text = error.to_string();
        assert!(text.contains("keys.txt line 1"), "{text}");
        assert!(!text.contains("plain-text-key"), "{text}");
        let error = ApiKeys::new()
            .parse_env("acme:alice:short", "K")
            .expect_err("short keys are refused");
        assert!(error.to_string().contains("shorter"), "{error}");
        assert!(!error.to_string().contains("short,"), "{error}");
        let error = ApiKeys::new()
            .parse_env("acme-alice", "K")
            .expect_err("missing parts");
        assert!(error.to_string().contains("$K entry") || error.to_string().contains("$K line 1"));
    }
}
