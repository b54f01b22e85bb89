//! HTTP plumbing shared by the card cache and the bindings: the headers of a call (bodies
//! are read in [`body`](crate::body)).

use harbor_distributed::{CallContext, Error};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::config::{IdentityPolicy, PeerConfig};

/// The protocol version this client speaks, sent as `A2A-Version` on every call.
pub const A2A_VERSION: &str = "1.0";

/// The identity headers of [`IdentityPolicy::Headers`]: tenant, user, session, run (the
/// names a Harbor server reads when it trusts them).
pub const IDENTITY_HEADERS: [&str; 4] = [
    "x-harbor-tenant",
    "x-harbor-user",
    "x-harbor-session",
    "x-harbor-run",
];

/// Caller headers passed on to the peer: W3C trace context only. Everything else in a
/// [`CallContext`] may be the upstream caller's (credentials included) and stays here.
const FORWARDED: [&str; 3] = ["traceparent", "tracestate", "baggage"];

/// A peer's settings, with its headers checked once at build time.
#[derive(Clone)]
pub(crate) struct PeerSettings {
    pub(crate) identity: IdentityPolicy,
    pub(crate) headers: HeaderMap,
    /// What is done with the peer's card signatures.
    pub(crate) signatures: crate::card::SignaturePolicy,
    /// The pinned keys its card signatures are checked with.
    pub(crate) trusted: crate::card::TrustedKeys,
    /// A JWKS URL of more trusted keys, fetched once (on the first card).
    pub(crate) jwks_url: Option<String>,
    pub(crate) jwks: std::sync::Arc<tokio::sync::OnceCell<crate::card::TrustedKeys>>,
    /// The OAuth2 grant and its cached token.
    pub(crate) oauth2: Option<(
        crate::oauth::OAuth2ClientCredentials,
        std::sync::Arc<crate::oauth::TokenCache>,
    )>,
}

impl PeerSettings {
    pub(crate) fn new(config: &PeerConfig) -> Result<Self, Error> {
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| Error::InvalidConfig(format!("header name {name:?}: {e}")))?;
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                Error::InvalidConfig(format!("the value of header {name} is not valid"))
            })?;
            value.set_sensitive(true);
            headers.append(name, value);
        }
        let trusted = crate::card::TrustedKeys::from_texts(
            config.card_signatures.keys.iter().map(String::as_str),
        )
        .map_err(|e| Error::InvalidConfig(e.to_string()))?;
        Ok(Self {
            identity: config.identity,
            headers,
            signatures: config.card_signatures.policy,
            trusted,
            jwks_url: config.card_signatures.jwks_url.clone(),
            jwks: std::sync::Arc::default(),
            oauth2: config
                .oauth2
                .clone()
                .map(|grant| (grant, std::sync::Arc::default())),
        })
    }
}

/// The headers of one call: the peer's own, the service parameters, forwarded trace
/// context and, when the peer's policy says so, the caller's identity.
pub(crate) fn call_headers(ctx: &CallContext, peer: &PeerSettings) -> Result<HeaderMap, Error> {
    let mut headers = peer.headers.clone();
    headers.insert("a2a-version", HeaderValue::from_static(A2A_VERSION));
    if !ctx.extensions.is_empty() {
        let joined = ctx.extensions.join(", ");
        let value = HeaderValue::from_str(&joined).map_err(|_| {
            Error::InvalidArgument(format!("extensions {joined:?} do not fit a header"))
        })?;
        headers.insert("a2a-extensions", value);
    }
    for name in FORWARDED {
        if let Some(value) = ctx
            .headers
            .get(name)
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(name, value);
        }
    }
    // With tracing on, the call continues the current span's trace (which the forwarded
    // context started, when this call serves an upstream one).
    harbor_distributed::trace_context::inject_with(&tracing::Span::current(), |name, value| {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(name, value);
        }
    });
    if peer.identity == IdentityPolicy::Headers {
        let identity = &ctx.identity;
        let [tenant, user, session, run] = IDENTITY_HEADERS;
        let parts = [
            (tenant, Some(&identity.tenant)),
            (user, Some(&identity.user)),
            (session, Some(&identity.session)),
            (run, identity.run.as_ref()),
        ];
        for (name, value) in parts {
            let Some(value) = value else { continue };
            let value = HeaderValue::from_str(value).map_err(|_| {
                Error::InvalidArgument(format!(
                    "the identity's {} is not printable ASCII, so it cannot be sent as a header",
                    name.trim_start_matches("x-harbor-")
                ))
            })?;
            headers.insert(name, value);
        }
    }
    Ok(headers)
}

/// Whether a response's content type is `text/event-stream`.
pub(crate) fn is_event_stream(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("text/event-stream"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use harbor_distributed::Identity;

    fn ctx() -> CallContext {
        let identity = Identity::new("t", "u", "s").map(|i| i.with_run("r"));
        let mut ctx = CallContext::new(identity.unwrap_or_default())
            .with_extension("urn:a")
            .with_extension("urn:b");
        ctx.headers
            .insert("traceparent".into(), "00-abc-def-01".into());
        ctx.headers
            .insert("authorization".into(), "Bearer upstream".into());
        ctx
    }

    #[test]
    fn identity_goes_out_only_when_the_policy_says_so() {
        let none = PeerSettings::new(&PeerConfig::default()).expect("valid");
        let headers = call_headers(&ctx(), &none).expect("headers");
        assert_eq!(headers["a2a-version"], "1.0");
        assert_eq!(headers["a2a-extensions"], "urn:a, urn:b");
        assert_eq!(headers["traceparent"], "00-abc-def-01");
        assert!(
            headers.get("authorization").is_none(),
            "upstream credentials stay here"
        );
        assert!(IDENTITY_HEADERS.iter().all(|h| headers.get(*h).is_none()));

        let send = PeerSettings::new(&PeerConfig {
            identity: IdentityPolicy::Headers,
            ..PeerConfig::default()
        })
        .expect("valid");
        let headers = call_headers(&ctx(), &send).expect("headers");
        let values: Vec<_> = IDENTITY_HEADERS.iter().map(|h| &headers[*h]).collect();
        assert_eq!(values, ["t", "u", "s", "r"]);
    }

    #[test]
    fn bad_peer_headers_fail_the_build() {
        let bad = PeerConfig {
            headers: [("bad name".to_owned(), "x".to_owned())].into(),
            ..PeerConfig::default()
        };
        assert!(matches!(
            PeerSettings::new(&bad),
            Err(Error::InvalidConfig(_))
        ));
    }
}
