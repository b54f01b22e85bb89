//! The raw baseline: a minimal axum server on 127.0.0.1:0, on a runtime of its own (as a
//! separate server process would have), answering a fixed small JSON, or a fixed SSE body of
//! as many events as our agent's benchmark stream sends.

use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::routing::post;
use tokio::sync::oneshot;

use super::endpoint::Endpoint;

/// The blocking call's answer.
const REPLY: &str = r#"{"ok":true}"#;
/// The stream's answer: four events, like task, WORKING, artifact, COMPLETED.
const EVENTS: &str = "data: {\"n\":1}\n\ndata: {\"n\":2}\n\ndata: {\"n\":3}\n\ndata: {\"n\":4}\n\n";
/// How long stopping may wait for the server thread.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// The running baseline server; [`Server::stop`] ends it.
#[derive(Debug)]
pub(super) struct Server {
    base: String,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

fn router() -> Router {
    // The handlers read the request body, as any real server must.
    Router::new()
        .route(
            "/echo",
            post(|_body: Bytes| async { ([(CONTENT_TYPE, "application/json")], REPLY) }),
        )
        .route(
            "/sse",
            post(|_body: Bytes| async { ([(CONTENT_TYPE, "text/event-stream")], EVENTS) }),
        )
}

impl Server {
    /// Binds 127.0.0.1:0 and serves on a new thread.
    pub(super) async fn start() -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .context("cannot bind the baseline server to 127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let base = format!("http://{}", listener.local_addr()?);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("bench-baseline")
            .build()
            .context("cannot start the baseline server's runtime")?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("bench-baseline".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(error) => {
                            eprintln!("harbor bench a2a: baseline server: {error}");
                            return;
                        }
                    };
                    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                        // Small answers must not wait for Nagle's algorithm.
                        let _ = tcp.set_nodelay(true);
                    });
                    let serve = axum::serve(listener, router()).with_graceful_shutdown(async {
                        let _ = stopped.await;
                    });
                    if let Err(error) = serve.await {
                        eprintln!("harbor bench a2a: baseline server: {error}");
                    }
                });
                runtime.shutdown_timeout(STOP_WAIT);
            })
            .context("cannot start the baseline server's thread")?;
        Ok(Self { base, stop, thread })
    }

    /// The endpoint the baseline rows use (the mode picks `/echo` or `/sse`).
    pub(super) fn endpoint(&self) -> Endpoint {
        Endpoint::Raw {
            base: self.base.clone(),
        }
    }

    /// Stops the server and waits (a bounded time) for its thread.
    pub(super) async fn stop(self) {
        let _ = self.stop.send(());
        let thread = self.thread;
        let joined = tokio::task::spawn_blocking(move || thread.join());
        if tokio::time::timeout(STOP_WAIT * 2, joined).await.is_err() {
            eprintln!("harbor bench a2a: the baseline server did not stop in time");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::endpoint::Mode;
    use super::super::request::{Operation, client};
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_baseline_answers_both_modes() {
        let server = Server::start().await.expect("start");
        let http = client(1, Duration::from_secs(5)).expect("client");
        let send = Operation::new(server.endpoint(), Mode::Send);
        assert_eq!(send.call(&http, 1).await.expect("send").events, 0);
        let stream = Operation::new(server.endpoint(), Mode::Stream);
        let sample = stream.call(&http, 2).await.expect("stream");
        assert_eq!(sample.events, 4);
        assert!(sample.first_event.is_some());
        server.stop().await;
    }
}
