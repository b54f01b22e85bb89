//! The gRPC listener's connections, capped: past [`GrpcConfig::max_connections`] a new
//! connection is closed at once (and logged) instead of served, so a flood of sockets never
//! takes the process to its descriptor limit.
//!
//! [`GrpcConfig::max_connections`]: super::GrpcConfig::max_connections

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// A served connection, holding its slot until it is dropped.
pub(crate) struct Counted {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

/// `incoming` with at most `max` connections open at once.
pub(crate) fn capped(
    incoming: impl Stream<Item = std::io::Result<TcpStream>> + Send + 'static,
    max: usize,
) -> impl Stream<Item = std::io::Result<Counted>> + Send + 'static {
    let slots = Arc::new(Semaphore::new(max.max(1)));
    incoming.filter_map(move |accepted| {
        let slots = Arc::clone(&slots);
        async move {
            match accepted {
                Err(e) => Some(Err(e)),
                Ok(stream) => match slots.try_acquire_owned() {
                    Ok(slot) => Some(Ok(Counted {
                        stream,
                        _slot: slot,
                    })),
                    Err(_) => {
                        let peer = stream.peer_addr().ok();
                        tracing::warn!(
                            ?peer,
                            limit = max,
                            "gRPC connection refused: too many open connections"
                        );
                        None
                    }
                },
            }
        }
    })
}

impl Connected for Counted {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
