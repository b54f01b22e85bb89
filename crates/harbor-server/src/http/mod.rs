//! The JSON bindings on axum: JSON-RPC 2.0 and HTTP+JSON (REST), both with SSE streaming,
//! and the well-known agent card.
//!
//! This module wires the router on top of its files: the state and helpers every route
//! shares are in `core`, the JSON media types and AIP-193 error bodies in `media`.

mod authn;
mod card;
pub(crate) mod context;
mod core;
mod deadline;
mod dispatch;
mod jsonrpc;
mod media;
mod rest;
mod rest_body;
mod rest_table;
mod serve;
mod sse;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use harbor_distributed::{A2aHandler, Identity};
use tokio_util::sync::CancellationToken;

pub use crate::call::IDENTITY_HEADERS;
pub use card::AGENT_CARD_PATH;
pub use serve::serve;

use self::core::Shared;

/// Settings of the HTTP bindings. Data only.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Path of the JSON-RPC endpoint; served with and without a trailing slash.
    /// Default `/a2a/jsonrpc`.
    pub jsonrpc_path: String,
    /// Prefix of the HTTP+JSON routes (`/message:send` ...). Default `/a2a/rest`.
    pub rest_prefix: String,
    /// Largest request body, in bytes. Default 8 MiB.
    pub max_body_bytes: usize,
    /// How long a client may take to send its whole request body, counted from the
    /// request's head (not reset by each byte, so a trickling body cannot hold a connection);
    /// a late body is answered 408. Default 30 s.
    pub body_timeout: Duration,
    /// The principal every request acts as while the server runs without authentication.
    /// Default tenant `default`, user `anonymous`, session `anonymous`.
    pub anonymous: Identity,
    /// Take the caller's identity from the `x-harbor-tenant`, `x-harbor-user`,
    /// `x-harbor-session` (and `x-harbor-run`) headers when all three are present and
    /// [`auth`](Self::auth) has no scheme. Default false. **Only for tests and trusted
    /// networks**: anyone can set headers.
    pub trust_identity_headers: bool,
    /// Authentication: the caller's principal becomes the call's identity. Default none:
    /// every call is [`anonymous`](Self::anonymous).
    pub auth: crate::auth::Auth,
    /// TLS (and, with a client CA, mutual TLS) on [`serve`]'s connections. Default none.
    pub tls: Option<crate::tls::TlsConfig>,
    /// SSE keep-alive comment interval. Default 15 s.
    pub keep_alive: Duration,
    /// Largest SSE event, in bytes of JSON: a task snapshot past it loses its oldest
    /// history; any other event past it ends the stream with an error event. Default 16 MiB.
    pub max_event_bytes: usize,
    /// `max-age` of the agent card. Default 300 s.
    pub card_max_age: Duration,
    /// Connections served at once by [`serve`]; past it a new connection is answered
    /// `503 Service Unavailable` and closed. Keep it under the process's descriptor limit
    /// (`ulimit -n`). Default 512.
    pub max_connections: usize,
    /// How long a new connection may take to send its first whole request head (also the
    /// HTTP/2 preface), and an HTTP/1.1 connection to send each next head (its keep-alive
    /// idle time). Trickled bytes do not extend it. Default 10 s.
    pub header_read_timeout: Duration,
    /// How long a connection may stay open with no request in flight (a request is in
    /// flight until its response body is finished, so streams are never idle). Default 60 s.
    pub idle_timeout: Duration,
    /// Concurrent streams on one HTTP/2 connection. Default 100.
    pub http2_max_concurrent_streams: u32,
    /// Largest HTTP/2 header list, in bytes. Default 16 KiB.
    pub http2_max_header_list_bytes: u32,
    /// HTTP/2 ping interval that finds vanished clients. Default 30 s.
    pub http2_keep_alive_interval: Duration,
    /// How long an HTTP/2 ping may go unanswered before the connection is closed.
    /// Default 20 s.
    pub http2_keep_alive_timeout: Duration,
    /// Streams a client may reset (or make the server reset) before its HTTP/2 connection is
    /// closed (the "rapid reset" flood). Default 20.
    pub http2_max_pending_reset_streams: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            jsonrpc_path: "/a2a/jsonrpc".into(),
            rest_prefix: "/a2a/rest".into(),
            max_body_bytes: 8 * 1024 * 1024,
            body_timeout: Duration::from_secs(30),
            anonymous: crate::call::anonymous(),
            trust_identity_headers: false,
            auth: crate::auth::Auth::default(),
            tls: None,
            keep_alive: Duration::from_secs(15),
            max_event_bytes: 16 * 1024 * 1024,
            card_max_age: Duration::from_secs(300),
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            http2_max_concurrent_streams: 100,
            http2_max_header_list_bytes: 16 * 1024,
            http2_keep_alive_interval: Duration::from_secs(30),
            http2_keep_alive_timeout: Duration::from_secs(20),
            http2_max_pending_reset_streams: 20,
        }
    }
}

/// The router of both JSON bindings and the agent card, for `handler`.
pub fn router(handler: Arc<dyn A2aHandler>, config: &HttpConfig) -> Router {
    router_with_shutdown(handler, config, CancellationToken::new())
}

/// [`router`], whose open streams end when `shutdown` fires (so a graceful shutdown does not
/// wait for subscriptions that would never end by themselves).
pub fn router_with_shutdown(
    handler: Arc<dyn A2aHandler>,
    config: &HttpConfig,
    shutdown: CancellationToken,
) -> Router {
    let shared = Arc::new(Shared {
        shutdown,
        handler,
        identity: config.anonymous.clone(),
        trust_identity_headers: config.trust_identity_headers,
        auth: config.auth.clone(),
        keep_alive: config.keep_alive,
        max_event_bytes: config.max_event_bytes,
        card_max_age: config.card_max_age,
        started: SystemTime::now(),
    });
    let jsonrpc = config.jsonrpc_path.trim_end_matches('/');
    let mut api = Router::new();
    if jsonrpc.is_empty() {
        api = api.route("/", post(jsonrpc::endpoint));
    } else {
        api = api
            .route(jsonrpc, post(jsonrpc::endpoint))
            .route(&format!("{jsonrpc}/"), post(jsonrpc::endpoint));
    }
    let rest_prefix = config.rest_prefix.trim_end_matches('/');
    api = if rest_prefix.is_empty() {
        api.merge(rest::routes())
    } else {
        api.nest(rest_prefix, rest::routes())
    };
    // Every API request is authenticated before its body is read; the card is public.
    let api = api.route_layer(axum::middleware::from_fn_with_state(
        (Arc::clone(&shared), jsonrpc.to_owned()),
        authn::authenticate,
    ));
    let app = Router::new()
        .route(AGENT_CARD_PATH, get(card::agent_card))
        .merge(api);
    // Bounded bodies, read in bounded time: a slow or vanished client holds nothing for long.
    app.layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            config.body_timeout,
            deadline::body_deadline,
        ))
        .with_state(shared)
}
