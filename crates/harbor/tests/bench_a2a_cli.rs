//! `harbor bench a2a` against a `harbor serve` child: one row per binding, mode and
//! concurrency, every request validated. No timing thresholds: only that it measured.

mod support;

use std::process::{Command, Output};

use support::serve::Server;

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harbor"))
        .args(["bench", "a2a"])
        .args(args)
        .output()
        .expect("run harbor bench a2a")
}

fn report(output: &Output, server: &Server) -> serde_json::Value {
    assert!(
        output.status.success(),
        "harbor bench a2a failed: {}\nserver output:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.output()
    );
    serde_json::from_slice(&output.stdout).expect("the report is JSON")
}

fn rows<'a>(report: &'a serde_json::Value, target: &str, mode: &str) -> Vec<&'a serde_json::Value> {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["target"] == target && r["mode"] == mode)
        .collect()
}

/// Asserts one clean row per (binding, concurrency) of `target` in `mode`.
fn assert_rows(report: &serde_json::Value, target: &str, mode: &str, bindings: &[&str]) {
    let rows = rows(report, target, mode);
    for binding in bindings {
        for concurrency in [1, 4] {
            let matching: Vec<_> = rows
                .iter()
                .filter(|r| r["binding"] == *binding && r["concurrency"] == concurrency)
                .collect();
            assert_eq!(
                matching.len(),
                1,
                "{target} {binding} {mode} x{concurrency} in {report}"
            );
            let row = matching[0];
            assert_eq!(row["requests"], 20, "{row}");
            assert_eq!(row["failures"], 0, "{row}");
            let rate = row["requests_per_sec"].as_f64().unwrap_or(0.0);
            assert!(rate > 0.0, "no throughput in {row}");
            assert!(row["latency_p99_us"].as_f64().unwrap_or(0.0) > 0.0, "{row}");
            if target != "baseline" {
                assert!(
                    row["ratio_to_baseline"].as_f64().unwrap_or(0.0) > 0.0,
                    "{row}"
                );
            }
            if mode == "stream" {
                assert!(row["events"].as_u64().unwrap_or(0) >= 20, "{row}");
                assert!(row["events_per_sec"].as_f64().unwrap_or(0.0) > 0.0, "{row}");
                assert!(row["ttfe_p50_us"].as_f64().unwrap_or(0.0) > 0.0, "{row}");
            }
        }
    }
    assert_eq!(
        rows.len(),
        bindings.len() * 2,
        "extra rows for {target} {mode}"
    );
}

#[test]
fn bench_a2a_reports_a_row_per_binding_and_concurrency() {
    let server = Server::start(&[]);
    let args = [
        "--url",
        &server.base_url,
        "--requests",
        "20",
        "--concurrency",
        "1,4",
        "--json",
    ];
    let report = report(&bench(&args), &server);
    assert_rows(
        &report,
        &server.base_url,
        "send",
        &["jsonrpc", "http-json", "grpc"],
    );
    assert_rows(&report, "baseline", "send", &["raw"]);
    assert!(rows(&report, &server.base_url, "stream").is_empty());
}

#[test]
fn bench_a2a_streams_read_every_event() {
    let server = Server::start(&[]);
    let args = [
        "--url",
        &server.base_url,
        "--requests",
        "20",
        "--concurrency",
        "1,4",
        "--stream",
        "--json",
    ];
    let report = report(&bench(&args), &server);
    for mode in ["send", "stream"] {
        assert_rows(
            &report,
            &server.base_url,
            mode,
            &["jsonrpc", "http-json", "grpc"],
        );
        assert_rows(&report, "baseline", mode, &["raw"]);
    }
}

#[test]
fn bench_a2a_counts_refused_streams_as_failures() {
    let server = Server::start(&["--no-streaming"]);
    let args = [
        "--url",
        &server.base_url,
        "--requests",
        "5",
        "--concurrency",
        "1",
        "--binding",
        "jsonrpc",
        "--stream",
        "--no-baseline",
        "--json",
    ];
    let output = bench(&args);
    assert!(!output.status.success(), "every stream failed, yet exit 0");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("every request failed"), "stderr: {stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the report is still printed");
    let stream = rows(&report, &server.base_url, "stream");
    assert_eq!(stream.len(), 1, "{report}");
    assert_eq!(stream[0]["failures"], 5, "{report}");
    assert_eq!(
        rows(&report, &server.base_url, "send")[0]["failures"],
        0,
        "{report}"
    );
}

#[test]
fn bench_a2a_without_a_server_fails_clearly() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let output = bench(&["--url", &url, "--requests", "5"]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no report without a card");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot fetch the agent card {url}/.well-known/agent-card.json"
        )),
        "stderr: {stderr}"
    );
}
