//! A TCP proxy that can cut its connections, to show a driver reconnects by itself.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Forwards TCP connections from [`addr`](Self::addr) to an upstream server, and cuts them
/// on demand. Dropping the proxy stops it and closes every connection.
#[derive(Debug)]
pub struct CutProxy {
    addr: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

#[derive(Debug)]
struct State {
    upstream: SocketAddr,
    refusing: AtomicBool,
    /// Cancelled by [`CutProxy::cut`]; every connection accepted before belongs to it.
    generation: Mutex<CancellationToken>,
}

impl State {
    fn generation(&self) -> CancellationToken {
        self.generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl CutProxy {
    /// Starts a proxy on a free loopback port in front of `upstream`.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            upstream,
            refusing: AtomicBool::new(false),
            generation: Mutex::new(CancellationToken::new()),
        });
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&state)));
        Ok(Self {
            addr,
            state,
            accept,
        })
    }

    /// Where drivers connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every open connection; new ones are still forwarded (unless refusing).
    pub fn cut(&self) {
        let mut generation = self
            .state
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        generation.cancel();
        *generation = CancellationToken::new();
    }

    /// While `refusing`, new connections are closed as soon as they are accepted: the
    /// server looks down to the driver.
    pub fn set_refusing(&self, refusing: bool) {
        self.state.refusing.store(refusing, Ordering::SeqCst);
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    while let Ok((client, _)) = listener.accept().await {
        if state.refusing.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        let generation = state.generation();
        let upstream = state.upstream;
        tokio::spawn(async move {
            tokio::select! {
                () = generation.cancelled() => {}
                () = forward(client, upstream) => {}
            }
        });
    }
}

async fn forward(mut client: TcpStream, upstream: SocketAddr) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    // Either side closing (or failing) ends the pair; the proxy has nothing to report.
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut read, mut write) = socket.split();
                    let _ = tokio::io::copy(&mut read, &mut write).await;
                });
            }
        });
        addr
    }

    async fn round_trip(stream: &mut TcpStream) -> std::io::Result<[u8; 4]> {
        stream.write_all(b"ping").await?;
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).await?;
        Ok(buf)
    }

    #[tokio::test]
    async fn forwards_cuts_and_refuses() {
        let proxy = CutProxy::start(echo_server().await).await.expect("proxy");
        let mut stream = TcpStream::connect(proxy.addr()).await.expect("connect");
        assert_eq!(&round_trip(&mut stream).await.expect("echo"), b"ping");

        proxy.cut();
        assert!(
            round_trip(&mut stream).await.is_err(),
            "a cut connection still carries data"
        );

        proxy.set_refusing(true);
        let mut refused = TcpStream::connect(proxy.addr()).await.expect("connect");
        assert!(
            round_trip(&mut refused).await.is_err(),
            "refused connection works"
        );

        proxy.set_refusing(false);
        let mut again = TcpStream::connect(proxy.addr()).await.expect("connect");
        assert_eq!(&round_trip(&mut again).await.expect("echo"), b"ping");
    }
}
