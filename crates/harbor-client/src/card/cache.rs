//! Fetching agent cards with HTTP caching.
//!
//! A card is reused while it is fresh (`Cache-Control: max-age`, less `Age`; a default TTL
//! without one; never longer than the configured cap), then revalidated with
//! `If-None-Match` / `If-Modified-Since`: a `304` keeps the cached card for another period.
//! `no-cache` revalidates on every use and `no-store` keeps nothing. Fetches of one peer's
//! card are coalesced: callers that arrive while a fetch runs wait for it and share its
//! result, so a burst of calls to a new peer makes one request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use harbor_a2a::AgentCard;
use harbor_distributed::Error;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, AGE, CACHE_CONTROL, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use tokio::time::Instant;
use url::Url;

use super::ResolvedCard;
use crate::body::read_capped;
use crate::config::ClientConfig;
use crate::error::{ClientError, request_error, snippet};
use crate::url_policy;

/// A cached card and what revalidating it needs.
struct Entry {
    card: Arc<ResolvedCard>,
    etag: Option<String>,
    last_modified: Option<String>,
    expires: Instant,
}

type Slot = Arc<tokio::sync::Mutex<Option<Entry>>>;

/// The cards of every peer this client has called.
#[derive(Default)]
pub(crate) struct CardCache {
    slots: Mutex<HashMap<String, Slot>>,
}

/// What one fetch needs.
pub(crate) struct FetchContext<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) config: &'a ClientConfig,
    pub(crate) headers: &'a HeaderMap,
}

/// `Cache-Control` as it matters to a client cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freshness {
    Store(Duration),
    NoStore,
}

impl CardCache {
    /// The resolved card of `peer`, from the cache while it is fresh.
    pub(crate) async fn get(
        &self,
        fx: &FetchContext<'_>,
        peer: &Url,
    ) -> Result<Arc<ResolvedCard>, Error> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(slots.entry(peer.as_str().to_owned()).or_default())
        };
        // Holding the slot's lock across the fetch is what coalesces concurrent fetches.
        let mut cached = slot.lock().await;
        if let Some(entry) = cached.as_ref()
            && Instant::now() < entry.expires
        {
            return Ok(Arc::clone(&entry.card));
        }
        let url = url_policy::card_url(peer);
        let mut request = fx
            .http
            .get(url.clone())
            .headers(fx.headers.clone())
            .header(ACCEPT, "application/json")
            .timeout(fx.config.card_timeout);
        if let Some(entry) = cached.as_ref() {
            if let Some(etag) = &entry.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(date) = &entry.last_modified {
                request = request.header(IF_MODIFIED_SINCE, date);
            }
        }
        let timeout = fx.config.card_timeout;
        let response = request
            .send()
            .await
            .map_err(|e| request_error(url.as_str(), e, timeout))?;
        let status = response.status();
        let freshness = freshness(response.headers(), fx.config);
        if status == StatusCode::NOT_MODIFIED
            && let Some(entry) = cached.as_mut()
        {
            tracing::debug!(%url, "agent card revalidated");
            let card = Arc::clone(&entry.card);
            match freshness {
                Freshness::Store(ttl) => entry.expires = Instant::now() + ttl,
                Freshness::NoStore => *cached = None,
            }
            return Ok(card);
        }
        let validators = (
            header(response.headers(), ETAG),
            header(response.headers(), LAST_MODIFIED),
        );
        let body = read_capped(response, fx.config.max_card_bytes, "agent card", timeout).await?;
        if !status.is_success() {
            return Err(ClientError::Http {
                url: url.to_string(),
                status: status.as_u16(),
                body: snippet(&body),
            }
            .into_error());
        }
        let card: AgentCard = harbor_a2a::from_json_slice(&body).map_err(|e| {
            ClientError::InvalidCard {
                url: url.to_string(),
                reason: e.to_string(),
            }
            .into_error()
        })?;
        let card = Arc::new(ResolvedCard::new(card, peer, fx.config)?);
        tracing::debug!(%url, binding = %card.endpoint().binding, "agent card fetched");
        *cached = match freshness {
            Freshness::Store(ttl) => Some(Entry {
                card: Arc::clone(&card),
                etag: validators.0,
                last_modified: validators.1,
                expires: Instant::now() + ttl,
            }),
            Freshness::NoStore => None,
        };
        Ok(card)
    }
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// How long a response may be reused: `max-age` less `Age`, the default TTL without one,
/// zero for `no-cache`, never past the cap.
fn freshness(headers: &HeaderMap, config: &ClientConfig) -> Freshness {
    let mut max_age = None;
    let mut no_cache = false;
    for directive in headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let directive = directive.trim().to_ascii_lowercase();
        match directive.split_once('=') {
            _ if directive == "no-store" => return Freshness::NoStore,
            _ if directive == "no-cache" => no_cache = true,
            Some(("max-age", secs)) => {
                max_age = secs.trim_matches('"').parse::<u64>().ok().or(max_age);
            }
            _ => {}
        }
    }
    if no_cache {
        return Freshness::Store(Duration::ZERO);
    }
    let age = header(headers, AGE)
        .and_then(|a| a.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let ttl = max_age.map_or(config.card_default_ttl, |secs| {
        Duration::from_secs(secs.saturating_sub(age))
    });
    Freshness::Store(ttl.min(config.card_max_ttl))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn cache_control_decides_the_lifetime() {
        let config = ClientConfig::default();
        let secs = |s| Freshness::Store(Duration::from_secs(s));
        assert_eq!(freshness(&headers(&[]), &config), secs(60));
        assert_eq!(
            freshness(
                &headers(&[("cache-control", "public, max-age=300")]),
                &config
            ),
            secs(300)
        );
        assert_eq!(
            freshness(
                &headers(&[("cache-control", "max-age=300"), ("age", "100")]),
                &config
            ),
            secs(200)
        );
        assert_eq!(
            freshness(&headers(&[("cache-control", "max-age=999999")]), &config),
            secs(3600)
        );
        assert_eq!(
            freshness(
                &headers(&[("cache-control", "no-cache, max-age=60")]),
                &config
            ),
            secs(0)
        );
        assert_eq!(
            freshness(
                &headers(&[("cache-control", "private"), ("cache-control", "no-store")]),
                &config
            ),
            Freshness::NoStore
        );
    }
}
