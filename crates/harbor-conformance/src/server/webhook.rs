//! A tiny webhook receiver for the push-delivery case: it records every POST to
//! `/webhook` and answers 200.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// One webhook request.
#[derive(Debug, Clone)]
pub struct ReceivedPush {
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// A running receiver; stops when dropped.
#[derive(Debug)]
pub struct WebhookReceiver {
    url: String,
    rx: mpsc::UnboundedReceiver<ReceivedPush>,
    stop: CancellationToken,
}

async fn record(
    State(tx): State<mpsc::UnboundedSender<ReceivedPush>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let push = ReceivedPush {
        authorization: header(header::AUTHORIZATION),
        content_type: header(header::CONTENT_TYPE),
        body: body.to_vec(),
    };
    // The receiver may be gone already; the sender still gets its 200.
    let _ = tx.send(push);
    StatusCode::OK
}

impl WebhookReceiver {
    /// Listens on `host` at a free port.
    pub async fn start(host: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind((host, 0)).await?;
        let port = listener.local_addr()?.port();
        let (tx, rx) = mpsc::unbounded_channel();
        let app = Router::new().route("/webhook", post(record)).with_state(tx);
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            let served =
                axum::serve(listener, app).with_graceful_shutdown(stopped.cancelled_owned());
            if let Err(e) = served.await {
                tracing::warn!(error = %e, "webhook receiver stopped");
            }
        });
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        Ok(Self {
            url: format!("http://{host}:{port}/webhook"),
            rx,
            stop,
        })
    }

    /// The URL to register.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next request, waiting at most `deadline`.
    pub async fn next(&mut self, deadline: Duration) -> Option<ReceivedPush> {
        tokio::time::timeout(deadline, self.rx.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
