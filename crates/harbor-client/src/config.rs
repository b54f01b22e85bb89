//! The client's settings: plain data with documented defaults. The builder
//! ([`A2aTransportBuilder`](crate::A2aTransportBuilder)) checks them.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A protocol binding this client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Binding {
    /// JSON-RPC 2.0 over HTTP (`JSONRPC` on the card).
    #[serde(rename = "JSONRPC")]
    JsonRpc,
    /// HTTP+JSON, the REST binding (`HTTP+JSON` on the card).
    #[serde(rename = "HTTP+JSON")]
    HttpJson,
    /// gRPC, `lf.a2a.v1.A2AService` (`GRPC` on the card; the interface URL is `host:port`).
    /// Needs the `grpc` feature (on by default).
    #[serde(rename = "GRPC")]
    Grpc,
}

impl Binding {
    /// Every binding this build of the client speaks.
    pub const SUPPORTED: &'static [Binding] = &[
        Self::JsonRpc,
        Self::HttpJson,
        #[cfg(feature = "grpc")]
        Self::Grpc,
    ];

    /// The `protocolBinding` string of an agent card interface.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JsonRpc => "JSONRPC",
            Self::HttpJson => "HTTP+JSON",
            Self::Grpc => "GRPC",
        }
    }

    /// The binding a card's `protocolBinding` names, if this client speaks it.
    pub fn from_card(name: &str) -> Option<Self> {
        Self::SUPPORTED
            .iter()
            .copied()
            .find(|b| b.as_str().eq_ignore_ascii_case(name))
    }
}

impl std::str::FromStr for Binding {
    type Err = String;

    /// Reads a binding as a user writes it: the card names (`JSONRPC`, `HTTP+JSON`,
    /// `GRPC`) in any case, or `jsonrpc`, `rest`, `http-json`, `grpc`.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.trim().to_ascii_lowercase().as_str() {
            "jsonrpc" | "json-rpc" => Ok(Self::JsonRpc),
            "http+json" | "http-json" | "rest" => Ok(Self::HttpJson),
            "grpc" => Ok(Self::Grpc),
            other => Err(format!(
                "unknown binding {other:?}; known: jsonrpc, http+json (rest), grpc"
            )),
        }
    }
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a peer learns of the caller's [`Identity`](harbor_distributed::Identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IdentityPolicy {
    /// Nothing (the default): third-party agents do not learn who calls.
    #[default]
    None,
    /// The `x-harbor-tenant`, `x-harbor-user`, `x-harbor-session` (and `x-harbor-run`)
    /// headers, which a Harbor server trusts only when told to. For peers of your own.
    Headers,
}

/// Settings for calls to one peer (or to every peer, as
/// [`ClientConfig::default_peer`]).
///
/// `Debug` shows header names only: their values are usually credentials.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeerConfig {
    /// What the peer learns of our identity. Default [`IdentityPolicy::None`].
    pub identity: IdentityPolicy,
    /// Extra headers on every request to the peer, card fetches included (for example
    /// `authorization`). Default none.
    pub headers: BTreeMap<String, String>,
    /// How the peer's card signatures are checked. Default: not at all.
    pub card_signatures: crate::card::verify::CardSignatureConfig,
    /// OAuth2 client credentials: every call carries a Bearer token from this grant,
    /// cached and renewed before it expires. Default none.
    pub oauth2: Option<crate::oauth::OAuth2ClientCredentials>,
}

impl fmt::Debug for PeerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerConfig")
            .field("identity", &self.identity)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("card_signatures", &self.card_signatures)
            .field("oauth2", &self.oauth2)
            .finish()
    }
}

/// How a stream that drops before its task ends is picked up again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResumeConfig {
    /// Reconnects in a row before the stream fails (a received event resets the count).
    /// 0 turns resuming off. Default 3.
    pub max_attempts: u32,
    /// Wait before the first reconnect; doubled each time. A server's SSE `retry:` replaces
    /// it. Default 250 ms.
    pub initial_backoff: Duration,
    /// Longest wait between reconnects. Default 5 s.
    pub max_backoff: Duration,
}

impl Default for ResumeConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Everything the client can be told. Data only, with [`Default`]s fit for calling agents
/// on the internet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientConfig {
    /// The bindings this client may use. Default: all it speaks, `[JsonRpc, HttpJson, Grpc]`
    /// (`Grpc` only with the `grpc` feature).
    pub bindings: Vec<Binding>,
    /// The binding to use whenever the card offers it (among [`bindings`](Self::bindings)),
    /// whatever the card's order. Default none: the card's order decides.
    pub preferred_binding: Option<Binding>,
    /// Rank a card's interfaces by the order of [`bindings`](Self::bindings) instead of the
    /// card's own order. Default false: the first interface on the card that we speak wins,
    /// as the specification says.
    pub prefer_own_binding_order: bool,
    /// Allow `http://` peers and endpoints that are not on the loopback interface.
    /// Default false (HTTPS, or HTTP to loopback only).
    pub allow_insecure_http: bool,
    /// Connecting (TCP and TLS). Default 10 s.
    pub connect_timeout: Duration,
    /// A whole non-streaming call, response body included. Default 300 s, since a blocking
    /// `SendMessage` lasts as long as the agent works.
    pub request_timeout: Duration,
    /// Silence on an open stream (keep-alive comments count as traffic) before the
    /// connection is taken for dead and the stream resumes. Default 120 s.
    pub stream_idle_timeout: Duration,
    /// Fetching an agent card. Default 30 s.
    pub card_timeout: Duration,
    /// Largest response body of a non-streaming call. Default 16 MiB.
    pub max_response_bytes: usize,
    /// Largest agent card. Default 1 MiB.
    pub max_card_bytes: usize,
    /// Largest SSE line or event. Default 16 MiB.
    pub max_event_bytes: usize,
    /// How long a card without `Cache-Control: max-age` is reused. Default 60 s.
    pub card_default_ttl: Duration,
    /// Longest a card is reused without revalidation, whatever its `max-age`. Default 1 h.
    pub card_max_ttl: Duration,
    /// Picking up dropped streams. Default [`ResumeConfig::default`].
    pub resume: ResumeConfig,
    /// How long `close` waits for calls and streams to unwind. Default 5 s.
    pub close_deadline: Duration,
    /// Settings for peers not listed in [`peers`](Self::peers). Default
    /// [`PeerConfig::default`] (no identity disclosed, no extra headers).
    pub default_peer: PeerConfig,
    /// Settings per peer URL (as written in [`Peer`](harbor_distributed::Peer), without a
    /// trailing slash). Default empty.
    pub peers: BTreeMap<String, PeerConfig>,
    /// The `User-Agent` header. Default `harbor-client/<version>`.
    pub user_agent: String,
    /// TLS: more trusted CAs and a client certificate (mutual TLS), on every binding.
    /// Default: the system's roots, no client certificate.
    pub tls: TlsSettings,
}

/// TLS settings of the client. Data only; `Debug` never shows the private key.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsSettings {
    /// More trusted CA certificates (PEM), besides the system's roots. Default none.
    pub ca_pem: Option<String>,
    /// A client certificate chain (PEM) for mutual TLS; needs [`key_pem`](Self::key_pem).
    /// Default none.
    pub cert_pem: Option<String>,
    /// The private key (PEM) of [`cert_pem`](Self::cert_pem). Default none.
    pub key_pem: Option<String>,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("ca_pem", &self.ca_pem.is_some())
            .field("cert_pem", &self.cert_pem.is_some())
            .field("key_pem", &self.key_pem.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            bindings: Binding::SUPPORTED.to_vec(),
            preferred_binding: None,
            prefer_own_binding_order: false,
            allow_insecure_http: false,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(300),
            stream_idle_timeout: Duration::from_secs(120),
            card_timeout: Duration::from_secs(30),
            max_response_bytes: 16 * 1024 * 1024,
            max_card_bytes: 1024 * 1024,
            max_event_bytes: 16 * 1024 * 1024,
            card_default_ttl: Duration::from_secs(60),
            card_max_ttl: Duration::from_secs(3600),
            resume: ResumeConfig::default(),
            close_deadline: Duration::from_secs(5),
            default_peer: PeerConfig::default(),
            peers: BTreeMap::new(),
            user_agent: concat!("harbor-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            tls: TlsSettings::default(),
        }
    }
}

impl ClientConfig {
    /// The settings for `peer_url` (a peer's own entry, else the default).
    pub fn peer(&self, peer_url: &str) -> &PeerConfig {
        self.peers
            .get(peer_url.trim_end_matches('/'))
            .unwrap_or(&self.default_peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_headers_stay_out_of_debug() {
        let config = ClientConfig {
            default_peer: PeerConfig {
                identity: IdentityPolicy::Headers,
                headers: BTreeMap::from([("authorization".into(), "Bearer s3cret".into())]),
                ..PeerConfig::default()
            },
            ..ClientConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(shown.contains("authorization"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn bindings_use_card_names() {
        assert_eq!(Binding::from_card("JSONRPC"), Some(Binding::JsonRpc));
        assert_eq!(Binding::from_card("http+json"), Some(Binding::HttpJson));
        assert_eq!(
            Binding::from_card("GRPC"),
            cfg!(feature = "grpc").then_some(Binding::Grpc)
        );
        assert_eq!("rest".parse(), Ok(Binding::HttpJson));
        assert_eq!("GRPC".parse(), Ok(Binding::Grpc));
        assert!("soap".parse::<Binding>().is_err());
        let json = serde_json::to_string(&[Binding::JsonRpc, Binding::HttpJson]).ok();
        assert_eq!(json.as_deref(), Some(r#"["JSONRPC","HTTP+JSON"]"#));
    }

    #[test]
    fn peers_are_found_with_or_without_a_trailing_slash() {
        let mut config = ClientConfig::default();
        config.peers.insert(
            "https://a.example".into(),
            PeerConfig {
                identity: IdentityPolicy::Headers,
                ..PeerConfig::default()
            },
        );
        assert_eq!(
            config.peer("https://a.example/").identity,
            IdentityPolicy::Headers
        );
        assert_eq!(
            config.peer("https://b.example").identity,
            IdentityPolicy::None
        );
    }
}
