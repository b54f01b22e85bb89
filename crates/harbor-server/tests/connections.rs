//! Connections are bounded: idle and trickling connections are closed on their deadlines
//! while normal requests are still served, a body that trickles past its deadline is 408,
//! and connections past the cap are refused with 503.

use std::sync::Arc;
use std::time::Duration;

use harbor_a2a::{AgentCapabilities, AgentCard};
use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_server::http::{HttpConfig, router, serve};
use harbor_test_support::cards;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// How long a connection the server should close may take to be closed.
const CLOSE_DEADLINE: Duration = Duration::from_secs(10);

struct Server {
    addr: std::net::SocketAddr,
    stop: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn card(base: &str) -> AgentCard {
    cards::card(
        "connections",
        "test agent",
        &format!("{base}/a2a/jsonrpc"),
        AgentCapabilities::default(),
    )
}

async fn start(config: HttpConfig) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let handler = DefaultHandler::builder(
        card(&format!("http://{addr}")),
        Arc::new(ConformanceAgent::default()),
    )
    .build()
    .expect("handler");
    let stop = CancellationToken::new();
    let app = router(Arc::new(handler), &config);
    let token = stop.clone();
    tokio::spawn(async move { serve(listener, app, &config, token).await });
    Server { addr, stop }
}

/// Reads until the server closes the connection; returns what it sent. Fails the test if
/// the connection is still open after the deadline.
async fn read_until_closed(stream: &mut TcpStream, what: &str) -> Vec<u8> {
    let mut received = Vec::new();
    let read = async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(CLOSE_DEADLINE, read)
        .await
        .unwrap_or_else(|_| panic!("{what}: still open after {CLOSE_DEADLINE:?}"));
    received
}

async fn card_status(client: &reqwest::Client, addr: std::net::SocketAddr) -> u16 {
    client
        .get(format!("http://{addr}/.well-known/agent-card.json"))
        .send()
        .await
        .expect("a normal request is served")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_trickling_connections_are_closed_while_others_are_served() {
    let server = start(HttpConfig {
        header_read_timeout: Duration::from_millis(600),
        idle_timeout: Duration::from_millis(900),
        ..HttpConfig::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(server.addr).await.expect("connect"));
    }
    // Trickle a request head one byte at a time, faster than any per-read timeout.
    let mut tricklers = Vec::new();
    for _ in 0..5 {
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        tricklers.push(tokio::spawn(async move {
            let head = b"GET /.well-known/agent-card.json HTTP/1.1\r\nHost: x\r\nX-Pad: ";
            let mut sent = 0usize;
            for byte in head.iter().chain(std::iter::repeat(&b'a')).take(10_000) {
                if stream.write_all(&[*byte]).await.is_err() {
                    return sent;
                }
                sent += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("the server read {sent} trickled bytes and never closed the connection");
        }));
    }
    let client = reqwest::Client::new();
    assert_eq!(card_status(&client, server.addr).await, 200);

    for (i, stream) in idle.iter_mut().enumerate() {
        let sent = read_until_closed(stream, &format!("idle connection {i}")).await;
        assert!(sent.is_empty(), "an idle connection was sent {sent:?}");
    }
    for trickler in tricklers {
        let sent = tokio::time::timeout(CLOSE_DEADLINE, trickler)
            .await
            .expect("a trickling connection stays open")
            .expect("trickler");
        assert!(sent < 200, "{sent} bytes trickled in before the close");
    }
    // Still serving, on a fresh connection.
    assert_eq!(card_status(&reqwest::Client::new(), server.addr).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_alive_connection_is_closed_once_idle() {
    let server = start(HttpConfig {
        header_read_timeout: Duration::from_millis(500),
        ..HttpConfig::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream
        .write_all(b"GET /.well-known/agent-card.json HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let answer = read_until_closed(&mut stream, "kept-alive connection").await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_body_gets_408_at_its_deadline() {
    let server = start(HttpConfig {
        body_timeout: Duration::from_millis(800),
        ..HttpConfig::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream
        .write_all(
            b"POST /a2a/jsonrpc HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n\
content-length: 1000\r\n\r\n{",
        )
        .await
        .expect("write");
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..400 {
            if writer.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let read = async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(CLOSE_DEADLINE, read)
        .await
        .expect("no answer to a trickling body");
    trickle.abort();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_are_refused_with_503() {
    let server = start(HttpConfig {
        max_connections: 4,
        ..HttpConfig::default()
    })
    .await;
    let client = reqwest::Client::new();
    assert_eq!(card_status(&client, server.addr).await, 200);
    // The client's pooled connection holds one slot; three more fill the cap.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(server.addr).await.expect("connect"));
    }
    let mut extra = TcpStream::connect(server.addr).await.expect("connect");
    let answer = read_until_closed(&mut extra, "refused connection").await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("too many open connections"), "{text}");
    // A slot freed is a slot usable again.
    drop(held);
    let deadline = tokio::time::Instant::now() + CLOSE_DEADLINE;
    loop {
        let mut probe = TcpStream::connect(server.addr).await.expect("connect");
        probe
            .write_all(b"GET /.well-known/agent-card.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        let answer = read_until_closed(&mut probe, "probe").await;
        if answer.starts_with(b"HTTP/1.1 200") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "slots never freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
