//! One invocation's client: the transport built from the common options, the peer, the
//! local identity, and the deadline every call runs under.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use harbor_client::{A2aTransport, Binding, ClientConfig, Error, IdentityPolicy, PeerConfig};
use harbor_distributed::{CallContext, Identity, Peer, RemoteTransport};
use serde::Serialize;

use super::args::Common;
use super::exit::{Failure, Outcome};
use super::output;

/// Longest wait for a TCP/TLS connection, even with a longer `--timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a command needs to call the agent.
pub(crate) struct Session {
    pub(crate) transport: A2aTransport,
    pub(crate) peer: Peer,
    pub(crate) ctx: CallContext,
    pub(crate) json: bool,
    timeout: Duration,
}

impl Session {
    /// Builds the transport and the identity from the options; nothing is sent yet.
    pub(crate) fn open(common: &Common) -> Result<Self, Failure> {
        Self::open_with(common, None)
    }

    /// [`open`](Self::open), with the API key (if any) in header `api_key_header`.
    fn open_with(common: &Common, api_key_header: Option<&str>) -> Result<Self, Failure> {
        let identity = local_identity(common).map_err(|e| Failure::Usage(e.to_string()))?;
        let mut ctx = CallContext::new(identity);
        for uri in &common.extensions {
            ctx = ctx.with_extension(uri.clone());
        }
        let mut config = client_config(common, api_key_header);
        config.tls = tls_settings(common)?;
        let transport = A2aTransport::builder()
            .config(config)
            .build()
            .map_err(|e| Failure::Usage(e.to_string()))?;
        Ok(Self {
            transport,
            peer: Peer::new(common.url.clone()),
            ctx,
            json: common.json,
            timeout: common.timeout,
        })
    }

    /// Runs a call (or the opening of a stream) under `--timeout`.
    pub(crate) async fn call<T>(
        &self,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result.map_err(Failure::Call),
            Err(_) => Err(Failure::Call(Error::Timeout(self.timeout))),
        }
    }

    /// Opens a session for `common`, runs `work` with it, and closes it whatever happened.
    pub(crate) async fn with(
        common: &Common,
        work: impl AsyncFnOnce(&Session) -> Outcome,
    ) -> Outcome {
        let header = match (&common.api_key, &common.api_key_header) {
            (Some(_), None) => Some(api_key_header(common).await),
            _ => None,
        };
        let session = Session::open_with(common, header.as_deref())?;
        let outcome = work(&session).await;
        session.close().await;
        outcome
    }

    /// Makes one call under `--timeout` and prints its result: ProtoJSON with `--json`,
    /// otherwise `human` of it.
    pub(crate) async fn show<T: Serialize>(
        &self,
        call: impl Future<Output = Result<T, Error>>,
        human: impl FnOnce(&T) -> String,
    ) -> Outcome {
        let value = self.call(call).await?;
        if self.json {
            output::document(&value)
        } else {
            output::text(&human(&value))
        }
    }

    /// Ends open calls and streams (bounded by the client's close deadline).
    pub(crate) async fn close(&self) {
        if let Err(error) = self.transport.close().await {
            tracing::debug!(%error, "the client did not close cleanly");
        }
    }
}

/// `--ca-cert`, `--client-cert` and `--client-key`, read.
fn tls_settings(common: &Common) -> Result<harbor_client::TlsSettings, Failure> {
    let read = |path: &Option<std::path::PathBuf>, what: &str| {
        path.as_ref()
            .map(|path| {
                std::fs::read_to_string(path).map_err(|e| {
                    Failure::Usage(format!("cannot read the {what} {}: {e}", path.display()))
                })
            })
            .transpose()
    };
    Ok(harbor_client::TlsSettings {
        ca_pem: read(&common.ca_cert, "CA certificate")?,
        cert_pem: read(&common.client_cert, "client certificate")?,
        key_pem: read(&common.client_key, "client key")?,
    })
}

/// The CLI's one local identity: `--tenant`, `--user` (or `$USER`), `--session` (or a UUID).
fn local_identity(common: &Common) -> Result<Identity, Error> {
    let user = common
        .user
        .clone()
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "local".to_owned());
    let session = common
        .session
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    Identity::new(common.tenant.clone(), user, session)
}

/// The header the agent card's API-key scheme names (the card is public: fetched without
/// credentials), else `x-api-key`.
async fn api_key_header(common: &Common) -> String {
    let fallback = || harbor_server::auth::DEFAULT_API_KEY_HEADER.to_owned();
    let Ok(session) = Session::open(common) else {
        return fallback();
    };
    let card = session
        .call(session.transport.agent_card(&session.peer))
        .await;
    session.close().await;
    let Ok(card) = card else {
        return fallback();
    };
    card.card()
        .security_schemes
        .values()
        .find_map(|scheme| match &scheme.scheme {
            Some(harbor_a2a::pb::security_scheme::Scheme::ApiKeySecurityScheme(key))
                if key.location.eq_ignore_ascii_case("header") && !key.name.is_empty() =>
            {
                Some(key.name.to_ascii_lowercase())
            }
            _ => None,
        })
        .unwrap_or_else(fallback)
}

/// The extra headers of every request: `--header`s, then the credentials.
fn headers(common: &Common, api_key_header: Option<&str>) -> BTreeMap<String, String> {
    let mut headers: BTreeMap<String, String> = common
        .headers
        .iter()
        .map(|h| (h.name.clone(), h.value.0.clone()))
        .collect();
    if let Some(token) = &common.bearer {
        headers.insert("authorization".into(), format!("Bearer {}", token.0));
    }
    if let Some(key) = &common.api_key {
        let name = common
            .api_key_header
            .as_deref()
            .or(api_key_header)
            .unwrap_or(harbor_server::auth::DEFAULT_API_KEY_HEADER);
        headers.insert(name.to_ascii_lowercase(), key.0.clone());
    }
    headers
}

fn client_config(common: &Common, api_key_header: Option<&str>) -> ClientConfig {
    let mut config = ClientConfig {
        allow_insecure_http: common.allow_insecure_http,
        request_timeout: common.timeout,
        card_timeout: common.timeout,
        connect_timeout: common.timeout.min(CONNECT_TIMEOUT),
        default_peer: PeerConfig {
            identity: if common.send_identity {
                IdentityPolicy::Headers
            } else {
                IdentityPolicy::None
            },
            headers: headers(common, api_key_header),
            ..PeerConfig::default()
        },
        ..ClientConfig::default()
    };
    if !common.binding.is_empty() {
        let mut bindings: Vec<Binding> = Vec::new();
        for binding in common.binding.iter().copied().map(Binding::from) {
            if !bindings.contains(&binding) {
                bindings.push(binding);
            }
        }
        config.bindings = bindings;
        config.prefer_own_binding_order = true;
    }
    config
}

#[cfg(test)]
mod tests {
    use super::super::args::parse_common as common;
    use super::*;

    fn client_config_of(common: &Common) -> ClientConfig {
        client_config(common, None)
    }

    #[test]
    fn credentials_become_headers_and_stay_out_of_debug() {
        let args = common(&[
            "http://127.0.0.1:1",
            "--bearer",
            "tok-secret-1",
            "--api-key",
            "key-secret-2",
        ]);
        let shown = format!("{args:?}");
        assert!(!shown.contains("secret"), "{shown}");
        let config = client_config(&args, Some("x-team-key"));
        let headers = &config.default_peer.headers;
        assert_eq!(headers["authorization"], "Bearer tok-secret-1");
        assert_eq!(headers["x-team-key"], "key-secret-2");
        assert!(!format!("{config:?}").contains("secret"));
        let fixed = common(&[
            "http://127.0.0.1:1",
            "--api-key",
            "k",
            "--api-key-header",
            "X-Key",
        ]);
        let config = client_config(&fixed, Some("x-team-key"));
        assert_eq!(config.default_peer.headers["x-key"], "k");
    }

    #[test]
    fn bindings_follow_the_flags_in_order() {
        let config = client_config_of(&common(&[
            "http://127.0.0.1:1",
            "--binding",
            "http-json,jsonrpc,http-json",
        ]));
        assert_eq!(config.bindings, [Binding::HttpJson, Binding::JsonRpc]);
        assert!(config.prefer_own_binding_order);
        let grpc = client_config_of(&common(&["http://127.0.0.1:1", "--binding", "grpc"]));
        assert_eq!(grpc.bindings, [Binding::Grpc]);
        let default = client_config_of(&common(&["http://127.0.0.1:1"]));
        assert_eq!(default.bindings, ClientConfig::default().bindings);
        assert!(!default.prefer_own_binding_order);
        assert_eq!(default.default_peer.identity, IdentityPolicy::None);
    }

    #[test]
    fn the_identity_has_defaults_and_stays_local() {
        let args = common(&["http://127.0.0.1:1", "--user", "ada"]);
        let identity = local_identity(&args).expect("complete");
        assert_eq!((&*identity.tenant, &*identity.user), ("local", "ada"));
        assert!(!identity.session.is_empty());
        let sent = client_config_of(&common(&["http://127.0.0.1:1", "--send-identity"]));
        assert_eq!(sent.default_peer.identity, IdentityPolicy::Headers);
        assert!(local_identity(&common(&["http://127.0.0.1:1", "--tenant", ""])).is_err());
    }
}
