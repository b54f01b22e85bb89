//! The accept loop of the HTTP bindings, with every connection bounded: how many are open,
//! how long one may take to send a request head, how long it may sit idle, and what HTTP/2
//! allows on it.
//!
//! `axum::serve` keeps an idle or trickling connection forever and retries a failed accept
//! every second (with one log line each time); this loop instead:
//!
//! - refuses connections past [`HttpConfig::max_connections`] at once with
//!   `503 Service Unavailable` (and `Retry-After`), so a flood of sockets never takes the
//!   process to its descriptor limit;
//! - closes a connection that has not sent a whole first request head within
//!   [`HttpConfig::header_read_timeout`], however slowly it trickles bytes (this also
//!   covers the HTTP/2 preface), and a connection with no request in flight for
//!   [`HttpConfig::idle_timeout`] (an HTTP/1.1 connection waiting for its next head is
//!   closed by hyper after `header_read_timeout` already);
//! - sets the HTTP/2 limits of [`HttpConfig`] (concurrent streams, header list size,
//!   keep-alive pings, reset-stream floods);
//! - backs off on accept errors (descriptor exhaustion) and logs them at most once per
//!   second.
//!
//! A request is *in flight* from its head until its response body is finished (or the
//! client is gone), so a long stream or a blocking send never counts as idle.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::HttpConfig;
use crate::auth::ClientCertificate;
use crate::call::Connection;

/// How long a connection being closed (idle, or too slow) may take to finish before it is
/// dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Refusals (503 answers) written at once; past this a refused socket is just closed.
const MAX_REFUSALS: usize = 64;

/// The answer to a connection over the limit.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
content-length: 48\r\nretry-after: 1\r\nconnection: close\r\n\r\n\
the server has too many open connections; retry\n";

/// Serves `app` on `listener` with the connection limits of `config` until `shutdown`
/// fires, then asks every connection to finish (open streams end with the router's own
/// shutdown token) and returns once they have.
///
/// # Errors
///
/// Only if the listener's address cannot be read; accept errors are logged and retried.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: &HttpConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let tls = match &config.tls {
        Some(tls) => Some(tokio_rustls::TlsAcceptor::from(tls.server_config()?)),
        None => None,
    };
    let settings = Arc::new(Settings::new(config));
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let tracker = TaskTracker::new();
    let mut backoff = AcceptBackoff::default();
    loop {
        let accepted = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                backoff.reset();
                accepted
            }
            Err(error) => {
                backoff.failed(&error, &shutdown).await;
                continue;
            }
        };
        // Small SSE frames must not wait for Nagle's algorithm.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        match Arc::clone(&slots).try_acquire_owned() {
            Ok(permit) => {
                let app = app.clone();
                let settings = Arc::clone(&settings);
                let shutdown = shutdown.clone();
                let tls = tls.clone();
                tracker.spawn(async move {
                    let Some(tls) = tls else {
                        let info = Connection {
                            peer,
                            certificate: None,
                        };
                        connection(stream, info, app, &settings, shutdown, permit).await;
                        return;
                    };
                    // The handshake is bounded like a request head.
                    let handshake =
                        tokio::time::timeout(settings.header_read_timeout, tls.accept(stream));
                    let stream = match handshake.await {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(error)) => {
                            tracing::debug!(%peer, %error, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake took too long");
                            return;
                        }
                    };
                    let certificate = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .and_then(|leaf| ClientCertificate::from_der(leaf))
                        .map(Arc::new);
                    let info = Connection { peer, certificate };
                    connection(stream, info, app, &settings, shutdown, permit).await;
                });
            }
            Err(_) => {
                tracing::warn!(%local, %peer, limit = config.max_connections, "connection refused: too many open connections");
                crate::telemetry::connection_refused();
                if let Ok(permit) = Arc::clone(&refusals).try_acquire_owned() {
                    tokio::spawn(refuse(stream, permit));
                }
            }
        }
    }
    tracker.close();
    tracker.wait().await;
    Ok(())
}

/// The connection builder and the timeouts, shared by every connection.
struct Settings {
    builder: auto::Builder<TokioExecutor>,
    header_read_timeout: Duration,
    idle_timeout: Duration,
}

impl Settings {
    fn new(config: &HttpConfig) -> Self {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(config.http2_max_concurrent_streams)
            .max_header_list_size(config.http2_max_header_list_bytes)
            .keep_alive_interval(config.http2_keep_alive_interval)
            .keep_alive_timeout(config.http2_keep_alive_timeout)
            .max_pending_accept_reset_streams(Some(config.http2_max_pending_reset_streams))
            .max_local_error_reset_streams(Some(config.http2_max_pending_reset_streams));
        Self {
            builder,
            header_read_timeout: config.header_read_timeout,
            idle_timeout: config.idle_timeout,
        }
    }
}

/// What a connection has been doing: requests in flight, and since when it has had none.
struct Activity {
    in_flight: AtomicUsize,
    /// Whether any request head has arrived yet.
    started: AtomicBool,
    /// When the last request finished (or the connection opened).
    idle_since: Mutex<Instant>,
}

impl Activity {
    fn begin(self: &Arc<Self>) -> InFlight {
        self.started.store(true, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(self))
    }

    /// When this connection becomes idle too long, if nothing happens before then; `None`
    /// while a request is in flight.
    fn deadline(&self, settings: &Settings) -> Option<Instant> {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let since = *self
            .idle_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let limit = if self.started.load(Ordering::Relaxed) {
            settings.idle_timeout
        } else {
            settings.header_read_timeout
        };
        Some(since + limit)
    }
}

/// One request in flight; dropped with its response body.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        *self
            .0
            .idle_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that holds its request's [`InFlight`] until it is done or dropped.
struct TrackedBody {
    inner: axum::body::Body,
    _in_flight: InFlight,
}

impl http_body::Body for TrackedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Serves one connection until it ends, is idle or slow too long, or the server stops.
async fn connection<S>(
    stream: S,
    info: Connection,
    app: Router,
    settings: &Settings,
    shutdown: CancellationToken,
    _permit: OwnedSemaphorePermit,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity {
        in_flight: AtomicUsize::new(0),
        started: AtomicBool::new(false),
        idle_since: Mutex::new(Instant::now()),
    });
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            let in_flight = activity.begin();
            let app = app.clone();
            request.extensions_mut().insert(info.clone());
            async move {
                let response = app.oneshot(request.map(axum::body::Body::new)).await?;
                Ok::<_, std::convert::Infallible>(response.map(|inner| TrackedBody {
                    inner,
                    _in_flight: in_flight,
                }))
            }
        })
    };
    let conn = settings
        .builder
        .serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut closing: Option<Instant> = None;
    loop {
        // While closing, wait out the grace; else wake when the connection would be idle
        // too long (re-checked then: a request may have come and gone), or every idle
        // period while a request is in flight.
        let wake = closing.unwrap_or_else(|| {
            activity
                .deadline(settings)
                .unwrap_or_else(|| Instant::now() + settings.idle_timeout)
        });
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            () = shutdown.cancelled(), if closing.is_none() => {
                conn.as_mut().graceful_shutdown();
                // Open streams end with the router's shutdown token; the caller bounds
                // the rest with its own grace.
                closing = Some(Instant::now() + Duration::from_secs(3600));
            }
            () = tokio::time::sleep_until(wake) => {
                if closing.is_some() {
                    tracing::debug!("connection closed after its grace");
                    return;
                }
                if activity.deadline(settings).is_some_and(|d| d <= Instant::now()) {
                    let started = activity.started.load(Ordering::Relaxed);
                    tracing::debug!(started, "closing an idle or slow connection");
                    conn.as_mut().graceful_shutdown();
                    closing = Some(Instant::now() + CLOSE_GRACE);
                }
            }
        }
    }
}

/// Answers a connection over the limit with 503, in bounded time, and closes it.
async fn refuse(mut stream: TcpStream, _permit: OwnedSemaphorePermit) {
    let write = async {
        stream.write_all(REFUSAL).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, write).await;
}

/// Waits after a failed accept, longer each time (up to a second), logging at most once
/// per second.
#[derive(Default)]
struct AcceptBackoff {
    delay: Duration,
    last_log: Option<Instant>,
    suppressed: u64,
}

impl AcceptBackoff {
    fn reset(&mut self) {
        self.delay = Duration::ZERO;
    }

    async fn failed(&mut self, error: &std::io::Error, shutdown: &CancellationToken) {
        let now = Instant::now();
        if self
            .last_log
            .is_none_or(|at| now.duration_since(at) >= Duration::from_secs(1))
        {
            tracing::warn!(%error, suppressed = self.suppressed, "accept failed; backing off");
            self.last_log = Some(now);
            self.suppressed = 0;
        } else {
            self.suppressed += 1;
        }
        self.delay = (self.delay * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
        tokio::select! {
            () = tokio::time::sleep(self.delay) => {}
            () = shutdown.cancelled() => {}
        }
    }
}
