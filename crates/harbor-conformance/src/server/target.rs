//! The server under test: its base URL, its card and the interface URL of each binding.

use std::time::Duration;

use serde_json::Value;

use super::{Binding, CaseFailure};

/// How the suite may treat a target. Data only.
#[derive(Debug, Clone)]
pub struct TargetOptions {
    /// Whether the push-delivery case may start a webhook receiver on this host and ask the
    /// server to call it (the server must allow loopback webhooks). Default false: the case
    /// is skipped with the reason.
    pub allow_loopback_webhooks: bool,
    /// The host the webhook receiver binds and the server is told to call. Default
    /// `127.0.0.1`.
    pub webhook_host: String,
    /// The longest any single wait of a case may take. Default 15 s.
    pub deadline: Duration,
    /// The `A2A-Version` sent on every call. Default `1.0`.
    pub version: String,
}

impl Default for TargetOptions {
    fn default() -> Self {
        Self {
            allow_loopback_webhooks: false,
            webhook_host: "127.0.0.1".into(),
            deadline: Duration::from_secs(15),
            version: "1.0".into(),
        }
    }
}

/// Why a target could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// The card could not be fetched.
    #[error("cannot fetch the agent card from {url}: {source}")]
    Fetch {
        /// The card URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The card answered, but not with a usable card.
    #[error("the agent card at {url} is unusable: {why}")]
    Card {
        /// The card URL.
        url: String,
        /// What is wrong.
        why: String,
    },
}

/// A server under test, found from its base URL.
///
/// [`connect`](Self::connect) fetches `{base_url}/.well-known/agent-card.json` and takes the
/// first `JSONRPC`, `HTTP+JSON` and `GRPC` interfaces of `supportedInterfaces`; cases for a
/// binding the card does not declare are skipped.
#[derive(Debug, Clone)]
pub struct ServerTarget {
    /// The base URL the card was fetched from (no trailing slash).
    pub base_url: String,
    /// The public card as served.
    pub card: Value,
    /// The URL of the first `JSONRPC` interface.
    pub jsonrpc_url: Option<String>,
    /// The URL of the first `HTTP+JSON` interface (no trailing slash).
    pub http_json_url: Option<String>,
    /// The URL of the first `GRPC` interface (`host:port`, as cards write it).
    pub grpc_url: Option<String>,
    /// What the suite may do.
    pub options: TargetOptions,
    pub(crate) client: reqwest::Client,
}

/// The well-known path of the public card.
pub const CARD_PATH: &str = "/.well-known/agent-card.json";

impl ServerTarget {
    /// Connects with the default options.
    pub async fn connect(base_url: impl Into<String>) -> Result<Self, TargetError> {
        Self::connect_with(base_url, TargetOptions::default()).await
    }

    /// Fetches the card at `base_url` and reads the interface URLs from it.
    pub async fn connect_with(
        base_url: impl Into<String>,
        options: TargetOptions,
    ) -> Result<Self, TargetError> {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        let client = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .connect_timeout(options.deadline)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(TargetError::Client)?;
        let url = format!("{base_url}{CARD_PATH}");
        let fetch = |source| TargetError::Fetch {
            url: url.clone(),
            source,
        };
        let response = client.get(&url).send().await.map_err(fetch)?;
        let status = response.status();
        let card: Value = response.json().await.map_err(fetch)?;
        let bad = |why: String| TargetError::Card {
            url: url.clone(),
            why,
        };
        if !status.is_success() {
            return Err(bad(format!("HTTP status {status}")));
        }
        let interfaces = card
            .get("supportedInterfaces")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no supportedInterfaces array".into()))?;
        let find = |binding: Binding| {
            interfaces
                .iter()
                .find(|i| {
                    i.get("protocolBinding").and_then(Value::as_str)
                        == Some(binding.protocol_binding())
                })
                .and_then(|i| i.get("url").and_then(Value::as_str))
                .map(|u| u.trim_end_matches('/').to_owned())
        };
        let jsonrpc_url = find(Binding::JsonRpc);
        let http_json_url = find(Binding::HttpJson);
        let grpc_url = find(Binding::Grpc);
        Ok(Self {
            base_url,
            card,
            jsonrpc_url,
            http_json_url,
            grpc_url,
            options,
            client,
        })
    }

    /// The interface URL of `binding`, or a skip when the card declares none.
    pub fn url(&self, binding: Binding) -> Result<&str, CaseFailure> {
        let url = match binding {
            Binding::JsonRpc => self.jsonrpc_url.as_deref(),
            Binding::HttpJson => self.http_json_url.as_deref(),
            Binding::Grpc => self.grpc_url.as_deref(),
        };
        url.ok_or_else(|| {
            CaseFailure::skipped(format!(
                "the card declares no {} interface",
                binding.protocol_binding()
            ))
        })
    }

    /// Whether `capabilities.<name>` is `true` in the card (`streaming`,
    /// `pushNotifications`, `extendedAgentCard`).
    pub fn declares(&self, capability: &str) -> bool {
        self.card
            .pointer(&format!("/capabilities/{capability}"))
            .and_then(Value::as_bool)
            == Some(true)
    }

    /// The HTTP client the suite uses (no proxy, no redirects, TCP_NODELAY).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}
