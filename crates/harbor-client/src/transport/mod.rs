//! [`A2aTransport`]: the A2A client as a
//! [`RemoteTransport`](harbor_distributed::RemoteTransport).

mod rpcs;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use harbor_a2a::{GetTaskRequest, Method, SubscribeToTaskRequest, Task};
use harbor_distributed::{CallContext, Error, Peer};
use reqwest::header::HeaderMap;
use tracing::Instrument;

use crate::binding::{self, Call, Connection, Wire, WireReply};
use crate::card::ResolvedCard;
use crate::card::cache::{CardCache, FetchContext};
use crate::config::{Binding, ClientConfig};
use crate::http::{PeerSettings, call_headers};
use crate::tracker::Tracker;
use crate::url_policy;

/// The A2A client: calls agents over JSON-RPC, HTTP+JSON or gRPC, as their cards say; a
/// [`RemoteTransport`](harbor_distributed::RemoteTransport).
///
/// Build one with [`A2aTransport::builder`]. Every call names its [`Peer`] (the agent's
/// base URL, whose `/.well-known/agent-card.json` is fetched and cached), validates the
/// caller's identity before anything is sent, and runs in an `a2a.call` tracing span with
/// the peer, method and binding. Clones share one connection pool and card cache.
#[derive(Clone)]
pub struct A2aTransport {
    inner: Arc<Inner>,
}

/// What clones of a transport share.
pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    pub(crate) http: reqwest::Client,
    #[cfg(feature = "grpc")]
    grpc: binding::channels::Channels,
    cards: CardCache,
    tracker: Arc<Tracker>,
    ids: AtomicU64,
    default_peer: PeerSettings,
    peers: HashMap<String, PeerSettings>,
}

/// A call ready to go: the peer's resolved card and the call's headers.
struct Prepared {
    card: Arc<ResolvedCard>,
    headers: HeaderMap,
}

impl A2aTransport {
    pub(crate) fn from_parts(config: ClientConfig, http: reqwest::Client) -> Result<Self, Error> {
        let default_peer = PeerSettings::new(&config.default_peer)?;
        let peers = config
            .peers
            .iter()
            .map(|(url, peer)| {
                Ok((
                    url.trim_end_matches('/').to_owned(),
                    PeerSettings::new(peer)?,
                ))
            })
            .collect::<Result<_, Error>>()?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                #[cfg(feature = "grpc")]
                grpc: binding::channels::Channels::default(),
                cards: CardCache::default(),
                tracker: Arc::new(Tracker::default()),
                ids: AtomicU64::new(0),
                default_peer,
                peers,
            }),
        })
    }

    /// The settings this transport runs with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The peer's public card and the interface chosen from it (cached; see
    /// [`card`](crate::card)).
    pub async fn agent_card(&self, peer: &Peer) -> Result<Arc<ResolvedCard>, Error> {
        let span = tracing::info_span!("a2a.card", peer = %peer);
        async {
            self.inner.tracker.check_open()?;
            let settings = self.inner.settings(peer);
            self.inner
                .tracker
                .run(self.inner.card(peer, settings))
                .await
        }
        .instrument(span)
        .await
    }

    /// Streams opened by this transport that have neither ended nor been dropped.
    pub fn open_streams(&self) -> usize {
        self.inner.tracker.open_streams()
    }

    /// Non-streaming calls (and stream openings) still running.
    pub fn open_calls(&self) -> usize {
        self.inner.tracker.open_calls()
    }

    /// Whether `close` was called.
    pub fn is_closed(&self) -> bool {
        self.inner.tracker.is_closed()
    }
}

fn call_span(peer: &Peer, method: Method) -> tracing::Span {
    tracing::info_span!(
        "a2a.call",
        transport = "a2a",
        peer = %peer,
        method = method.json_rpc_name(),
        binding = tracing::field::Empty,
    )
}

impl Inner {
    fn settings(&self, peer: &Peer) -> &PeerSettings {
        let url = peer.url();
        self.peers
            .get(url)
            .or_else(|| self.peers.get(url.strip_prefix("a2a+").unwrap_or(url)))
            .unwrap_or(&self.default_peer)
    }

    async fn card(&self, peer: &Peer, settings: &PeerSettings) -> Result<Arc<ResolvedCard>, Error> {
        let url = url_policy::peer_url(peer.url(), self.config.allow_insecure_http)
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let fetch = FetchContext {
            http: &self.http,
            config: &self.config,
            headers: &settings.headers,
        };
        let card = self.cards.get(&fetch, &url).await?;
        self.check_signatures(&url, &card, settings).await?;
        Ok(card)
    }

    /// Applies the peer's signature policy to its card.
    async fn check_signatures(
        &self,
        url: &url::Url,
        card: &ResolvedCard,
        settings: &PeerSettings,
    ) -> Result<(), Error> {
        use crate::card::{SignaturePolicy, TrustedKeys, apply_signature_policy};
        if settings.signatures == SignaturePolicy::Off {
            return Ok(());
        }
        let refused = |reason: String| {
            crate::error::ClientError::InvalidCard {
                url: url.to_string(),
                reason,
            }
            .into_error()
        };
        let mut keys = settings.trusted.clone();
        if let Some(jwks) = &settings.jwks_url {
            let fetched = settings
                .jwks
                .get_or_try_init(|| async {
                    let body = crate::card::fetch_jwks(&self.http, &self.config, jwks).await?;
                    TrustedKeys::from_texts([body.as_str()])
                        .map_err(|e| refused(format!("the JWKS at {jwks}: {e}")))
                })
                .await?;
            keys = keys.merged(fetched);
        }
        match apply_signature_policy(settings.signatures, card.card(), &keys) {
            Ok(Some(verified)) => {
                tracing::debug!(key_id = ?verified.key_id, algorithm = %verified.algorithm, "agent card signature verified");
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(error) => Err(refused(error.to_string())),
        }
    }

    async fn prepare(&self, peer: &Peer, ctx: &CallContext) -> Result<Prepared, Error> {
        let settings = self.settings(peer);
        let mut headers = call_headers(ctx, settings)?;
        let card = self.card(peer, settings).await?;
        if let Some((grant, cache)) = &settings.oauth2 {
            let token = cache
                .authorization(
                    &self.http,
                    grant,
                    self.config.allow_insecure_http,
                    self.config.card_timeout,
                )
                .await?;
            headers.insert(reqwest::header::AUTHORIZATION, token);
        }
        tracing::Span::current().record("binding", card.endpoint().binding.as_str());
        Ok(Prepared { card, headers })
    }

    fn call<'a>(&'a self, prepared: &'a Prepared, method: Method) -> Call<'a> {
        Call {
            http: &self.http,
            #[cfg(feature = "grpc")]
            grpc: &self.grpc,
            config: &self.config,
            endpoint: prepared.card.endpoint(),
            headers: prepared.headers.clone(),
            method,
            ids: &self.ids,
        }
    }

    /// Identity first, then the closed flag: nothing is sent before both pass.
    fn admit(&self, ctx: &CallContext) -> Result<(), Error> {
        ctx.identity.validate()?;
        self.tracker.check_open()
    }

    pub(super) async fn unary<Req: Wire, Resp: WireReply>(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        method: Method,
        req: &Req,
    ) -> Result<Resp, Error> {
        async {
            self.admit(ctx)?;
            let result = self
                .tracker
                .run(async {
                    let prepared = self.prepare(peer, ctx).await?;
                    binding::unary(&self.call(&prepared, method), req).await
                })
                .await;
            if let Err(error) = &result {
                tracing::debug!(%error, "call failed");
                self.forget_token_if_refused(peer, error).await;
            }
            result
        }
        .instrument(call_span(peer, method))
        .await
    }

    /// A peer that refuses our OAuth2 token gets a new one on the next call.
    async fn forget_token_if_refused(&self, peer: &Peer, error: &Error) {
        if let (Error::Protocol(e), Some((_, cache))) = (error, &self.settings(peer).oauth2)
            && e.kind() == harbor_a2a::ErrorKind::Unauthenticated
        {
            cache.invalidate().await;
        }
    }

    /// Opens `SubscribeToTask` again for a stream that dropped.
    pub(crate) async fn reopen(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        task_id: &str,
        last_event_id: Option<&str>,
    ) -> Result<(Connection, Binding), Error> {
        self.admit(ctx)?;
        let prepared = self.prepare(peer, ctx).await?;
        let req = SubscribeToTaskRequest {
            id: task_id.to_owned(),
            ..SubscribeToTaskRequest::default()
        };
        let call = self.call(&prepared, Method::SubscribeToTask);
        let connection = binding::open_stream(&call, &req, last_event_id).await?;
        Ok((connection, prepared.card.endpoint().binding))
    }

    /// `GetTask`, for a stream whose task ended while it was away.
    pub(crate) async fn fetch_task(
        &self,
        peer: &Peer,
        ctx: &CallContext,
        task_id: &str,
    ) -> Result<Task, Error> {
        let req = GetTaskRequest {
            id: task_id.to_owned(),
            ..GetTaskRequest::default()
        };
        self.unary(peer, ctx, Method::GetTask, &req).await
    }
}

impl fmt::Debug for A2aTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("A2aTransport")
            .field("config", &self.inner.config)
            .field("open_calls", &self.open_calls())
            .field("open_streams", &self.open_streams())
            .field("closed", &self.is_closed())
            .finish()
    }
}
