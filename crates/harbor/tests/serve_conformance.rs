//! The HTTP-level A2A server suite against a real `harbor serve` process: the binary,
//! its flags and its built-in agent, as a user runs them.

mod support;

use harbor_conformance::server::{ServerTarget, TargetOptions, run_all};
use support::serve::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harbor_serve_passes_the_server_suite() {
    let server = Server::start(&["--allow-private-webhooks"]);
    let options = TargetOptions {
        allow_loopback_webhooks: true,
        ..TargetOptions::default()
    };
    let target = ServerTarget::connect_with(server.base_url.as_str(), options)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot read the card of harbor serve: {e}\n{}",
                server.output()
            )
        });
    let report = run_all(&target).await;
    println!("{report}");
    assert!(
        report.is_success() && report.skipped() == 0,
        "harbor serve failed {} case(s), skipped {}:\n{report}\n--- harbor serve output ---\n{}",
        report.failed(),
        report.skipped(),
        server.output()
    );
}
