//! The HTTP-level A2A server suite against a running server named by an environment
//! variable (for CI: start `harbor serve`, export its base URL, run this test).
//!
//! - `HARBOR_A2A_SERVER_URL`: the base URL whose `/.well-known/agent-card.json` is the
//!   card (e.g. `http://127.0.0.1:8080`). Unset: the test says so and passes.
//! - `HARBOR_A2A_SERVER_LOOPBACK_WEBHOOKS=1`: the server may call webhooks on this host,
//!   so push delivery is checked too (otherwise that case is skipped with the reason).

use harbor_conformance::server::{ServerTarget, TargetOptions, run_all};

const URL_ENV: &str = "HARBOR_A2A_SERVER_URL";
const WEBHOOKS_ENV: &str = "HARBOR_A2A_SERVER_LOOPBACK_WEBHOOKS";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn server_at_url_conforms() {
    let Some(url) = std::env::var(URL_ENV).ok().filter(|u| !u.is_empty()) else {
        eprintln!(
            "skipped: set {URL_ENV} to the base URL of a running A2A server to run the HTTP suite against it"
        );
        return;
    };
    let options = TargetOptions {
        allow_loopback_webhooks: std::env::var(WEBHOOKS_ENV).is_ok_and(|v| v == "1"),
        ..TargetOptions::default()
    };
    let target = ServerTarget::connect_with(url.as_str(), options)
        .await
        .expect("fetch the agent card");
    let report = run_all(&target).await;
    println!("{report}");
    assert!(
        report.is_success(),
        "the server at {url} failed {} cases (report above)",
        report.failed()
    );
}
