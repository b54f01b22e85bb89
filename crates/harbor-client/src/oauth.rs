//! OAuth2 client credentials (RFC 6749 §4.4) for a peer: the client fetches an access
//! token from the token endpoint, sends it as `Authorization: Bearer …` on every call, keeps
//! it while it is valid and fetches a new one shortly before it expires (or after the peer
//! answered Unauthenticated).

use std::fmt;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, HeaderValue};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::error::ClientError;
use harbor_distributed::Error;

/// Largest token response read, in bytes.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

/// A token is renewed this long before it expires (or at half its life, if shorter).
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// The client-credentials grant of one peer. Data only; `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OAuth2ClientCredentials {
    /// The token endpoint (https, or http on loopback).
    pub token_url: String,
    /// The client id.
    pub client_id: String,
    /// The client secret, sent with HTTP Basic authentication.
    pub client_secret: String,
    /// Scopes to ask for. Default none.
    pub scopes: Vec<String>,
    /// An `audience` parameter, for token endpoints that take one. Default none.
    pub audience: Option<String>,
}

impl fmt::Debug for OAuth2ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2ClientCredentials")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

struct Token {
    header: HeaderValue,
    renew_at: Instant,
}

/// The cached token of one peer.
#[derive(Default)]
pub(crate) struct TokenCache {
    token: Mutex<Option<Token>>,
}

impl TokenCache {
    /// The `Authorization` value to send: the cached token while it is fresh, else a new
    /// one (concurrent callers wait for one fetch). The token URL follows the rules of peer
    /// URLs (`allow_insecure_http`); `timeout` bounds the fetch (the card timeout).
    pub(crate) async fn authorization(
        &self,
        http: &reqwest::Client,
        grant: &OAuth2ClientCredentials,
        allow_insecure_http: bool,
        timeout: Duration,
    ) -> Result<HeaderValue, Error> {
        let mut token = self.token.lock().await;
        if let Some(current) = token.as_ref()
            && Instant::now() < current.renew_at
        {
            return Ok(current.header.clone());
        }
        let fresh = fetch(http, grant, allow_insecure_http, timeout).await?;
        let header = fresh.header.clone();
        *token = Some(fresh);
        Ok(header)
    }

    /// Forgets the token (the peer refused it).
    pub(crate) async fn invalidate(&self) {
        *self.token.lock().await = None;
    }
}

async fn fetch(
    http: &reqwest::Client,
    grant: &OAuth2ClientCredentials,
    allow_insecure_http: bool,
    timeout: Duration,
) -> Result<Token, Error> {
    let url = crate::url_policy::peer_url(&grant.token_url, allow_insecure_http)
        .map_err(ClientError::into_error)?;
    let mut form: Vec<(&str, String)> = vec![("grant_type", "client_credentials".into())];
    if !grant.scopes.is_empty() {
        form.push(("scope", grant.scopes.join(" ")));
    }
    if let Some(audience) = &grant.audience {
        form.push(("audience", audience.clone()));
    }
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let started = Instant::now();
    let response = http
        .post(url.clone())
        .basic_auth(
            form_encode(&grant.client_id),
            Some(form_encode(&grant.client_secret)),
        )
        .header(ACCEPT, "application/json")
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| crate::error::request_error(url.as_str(), e, timeout))?;
    let status = response.status();
    let body =
        crate::body::read_capped(response, MAX_TOKEN_RESPONSE, "token response", timeout).await?;
    let refused = |reason: String| {
        ClientError::Credentials {
            url: url.to_string(),
            reason,
        }
        .into_error()
    };
    if !status.is_success() {
        // The body may say why (`invalid_client`), never holds our secret.
        let error = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_default();
        return Err(refused(format!(
            "the token endpoint answered HTTP {status} {error}"
        )));
    }
    let token: TokenResponse = serde_json::from_slice(&body)
        .map_err(|e| refused(format!("the token response is not a token: {e}")))?;
    if token
        .token_type
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        return Err(refused(
            "the token endpoint issued a non-Bearer token".into(),
        ));
    }
    let mut header = HeaderValue::from_str(&format!("Bearer {}", token.access_token))
        .map_err(|_| refused("the access token is not a valid header value".into()))?;
    header.set_sensitive(true);
    let lifetime = Duration::from_secs(token.expires_in.unwrap_or(3600));
    let renew_at = started + lifetime - RENEW_BEFORE.min(lifetime / 2);
    tracing::debug!(token_url = %url, lifetime = ?lifetime, "fetched an OAuth2 access token");
    Ok(Token { header, renew_at })
}

/// `application/x-www-form-urlencoded` of one value (RFC 6749 appendix B also applies it
/// to the Basic credentials).
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_stays_out_of_debug() {
        let grant = OAuth2ClientCredentials {
            token_url: "https://auth.example/token".into(),
            client_id: "harbor".into(),
            client_secret: "s3cret-value".into(),
            ..OAuth2ClientCredentials::default()
        };
        let shown = format!("{grant:?}");
        assert!(
            shown.contains("harbor") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert_eq!(form_encode("a b&c"), "a+b%26c");
    }
}
