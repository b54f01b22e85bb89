//! Card resolution: HTTP caching (ETag revalidation, max-age, no-store, no-cache),
//! coalesced fetches, the peer's path prefix, size caps.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use harbor_client::ClientError;
use harbor_distributed::Peer;
use harbor_test_support::cards::bare_json as card;
use support::cards::{CARD_PATH, client_error, interface, plain};
use support::{Log, Server, spawn};
use tokio::sync::Notify;

/// A card server whose card has an ETag and `max-age=60`; `version` picks the card.
struct Cards {
    requests: Log<Option<String>>,
    version: Arc<AtomicUsize>,
    server: Server,
}

async fn etag_server() -> Cards {
    let requests = Log::default();
    let version = Arc::new(AtomicUsize::new(1));
    let (log, v) = (requests.clone(), Arc::clone(&version));
    let server = spawn(move |base| {
        let base = base.to_owned();
        Router::new().route(
            CARD_PATH,
            get(move |headers: HeaderMap| async move {
                let sent = headers
                    .get("if-none-match")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                log.push(sent.clone());
                let etag = format!("\"v{}\"", v.load(Ordering::SeqCst));
                let cache = [
                    ("etag", etag.clone()),
                    ("cache-control", "max-age=60".into()),
                ];
                if sent.as_deref() == Some(etag.as_str()) {
                    return (StatusCode::NOT_MODIFIED, cache, String::new());
                }
                let rpc = interface("JSONRPC", format!("{base}/rpc"), "1.0", "");
                (StatusCode::OK, cache, card(&etag, vec![rpc]))
            }),
        )
    })
    .await;
    Cards {
        requests,
        version,
        server,
    }
}

/// Moves the clock the card cache reads past a card's lifetime (no I/O is in flight).
async fn advance(by: Duration) {
    tokio::time::pause();
    tokio::time::advance(by).await;
    tokio::time::resume();
}

#[tokio::test]
async fn a_fresh_card_is_reused_then_revalidated_with_its_etag() {
    let cards = etag_server().await;
    let transport = plain(|_| {});
    let peer = Peer::new(&cards.server.url);

    let first = transport.agent_card(&peer).await.expect("card");
    assert_eq!(first.card().name, "\"v1\"");
    let again = transport.agent_card(&peer).await.expect("card");
    assert!(Arc::ptr_eq(&first, &again), "a fresh card is reused");
    assert_eq!(cards.requests.all(), [None], "no request while fresh");

    advance(Duration::from_secs(61)).await;
    let revalidated = transport.agent_card(&peer).await.expect("card");
    assert!(
        Arc::ptr_eq(&first, &revalidated),
        "304 keeps the cached card"
    );
    assert_eq!(cards.requests.all(), [None, Some("\"v1\"".to_owned())]);
    transport.agent_card(&peer).await.expect("card");
    assert_eq!(cards.requests.len(), 2, "a 304 renews the card's lifetime");

    cards.version.store(2, Ordering::SeqCst);
    advance(Duration::from_secs(61)).await;
    let changed = transport.agent_card(&peer).await.expect("card");
    assert_eq!(
        changed.card().name,
        "\"v2\"",
        "a changed card replaces the old one"
    );
    assert_eq!(cards.requests.len(), 3);
}

#[tokio::test]
async fn no_store_and_no_cache_are_honoured() {
    for (directive, expected) in [("no-store", 3), ("no-cache", 3), ("max-age=30", 1)] {
        let seen = Log::default();
        let log = seen.clone();
        let server = spawn(move |base| {
            let body = card(
                "c",
                vec![interface("JSONRPC", format!("{base}/rpc"), "1.0", "")],
            );
            Router::new().route(
                CARD_PATH,
                get(move |headers: HeaderMap| async move {
                    log.push(headers.contains_key("if-none-match"));
                    let h = [("cache-control", directive), ("etag", "\"x\"")];
                    if headers.contains_key("if-none-match") {
                        return (StatusCode::NOT_MODIFIED, h, String::new());
                    }
                    (StatusCode::OK, h, body)
                }),
            )
        })
        .await;
        let transport = plain(|_| {});
        for _ in 0..3 {
            transport
                .agent_card(&Peer::new(&server.url))
                .await
                .expect("card");
        }
        assert_eq!(seen.len(), expected, "{directive}: {:?}", seen.all());
        if directive == "no-cache" {
            assert_eq!(seen.all(), [false, true, true], "no-cache revalidates");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_fetches_of_one_card_make_one_request() {
    const CALLERS: usize = 32;
    let requests = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(Notify::new());
    let (count, gate) = (Arc::clone(&requests), Arc::clone(&release));
    let server = spawn(move |base| {
        let body = card(
            "c",
            vec![interface("JSONRPC", format!("{base}/rpc"), "1.0", "")],
        );
        Router::new().route(
            CARD_PATH,
            get(move || async move {
                count.fetch_add(1, Ordering::SeqCst);
                gate.notified().await;
                body
            }),
        )
    })
    .await;
    let transport = plain(|_| {});
    let peer = Peer::new(&server.url);
    let calls: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (t, p) = (transport.clone(), peer.clone());
            tokio::spawn(async move { t.agent_card(&p).await })
        })
        .collect();
    // Every caller is inside its call, and the one fetch is held at the server.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while transport.open_calls() < CALLERS || requests.load(Ordering::SeqCst) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "callers never all waited"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    release.notify_one();
    let mut cards = Vec::new();
    for call in calls {
        cards.push(call.await.expect("joined").expect("card"));
    }
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "one fetch for all callers"
    );
    assert!(cards.iter().all(|c| Arc::ptr_eq(c, &cards[0])));
}

#[tokio::test]
async fn the_peer_path_prefix_is_kept() {
    let server = spawn(|base| {
        let body = card(
            "c",
            vec![interface("JSONRPC", format!("{base}/rpc"), "1.0", "")],
        );
        Router::new().route(
            "/agents/one/.well-known/agent-card.json",
            get(move || async move { body }),
        )
    })
    .await;
    let transport = plain(|_| {});
    for peer in ["/agents/one", "/agents/one/"] {
        let peer = Peer::new(format!("{}{peer}", server.url));
        transport
            .agent_card(&peer)
            .await
            .expect("the card under the prefix");
    }
    let root = transport.agent_card(&Peer::new(&server.url)).await;
    assert!(
        matches!(
            client_error(&root.expect_err("no card at the root")),
            ClientError::Http { status: 404, .. }
        ),
        "a missing card is an HTTP 404"
    );
}

#[tokio::test]
async fn oversized_and_malformed_cards_are_errors() {
    let server = spawn(|_| {
        Router::new()
            .route(
                "/big/.well-known/agent-card.json",
                get(|| async { "x".repeat(4096) }),
            )
            .route(
                "/bad/.well-known/agent-card.json",
                get(|| async { "{\"name\": 5}" }),
            )
    })
    .await;
    let transport = plain(|c| c.max_card_bytes = 1024);
    let big = transport
        .agent_card(&Peer::new(format!("{}/big", server.url)))
        .await;
    assert!(matches!(
        client_error(&big.expect_err("too big")),
        ClientError::TooLarge { limit: 1024, .. }
    ));
    let bad = transport
        .agent_card(&Peer::new(format!("{}/bad", server.url)))
        .await;
    assert!(matches!(
        client_error(&bad.expect_err("malformed")),
        ClientError::InvalidCard { .. }
    ));
}
