//! `harbor check URL` against `harbor serve`: everything passes on all three bindings (and
//! the JSON and JUnit reports say so), a server whose agent ignores the conformance
//! prefixes fails with reasons and exit code 1, filters narrow the run, and a server that
//! is not there is exit code 4.

mod support;

use harbor_conformance::server::{Binding, CASES};
use serde_json::Value;
use support::run::run;
use support::serve::Server;

/// The JSON report of a run.
fn report(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not a JSON report ({e}):\n{stdout}"))
}

fn cases(report: &Value) -> &[Value] {
    report["cases"].as_array().map_or(&[], Vec::as_slice)
}

#[test]
fn harbor_serve_passes_every_case_on_every_binding() {
    let server = Server::start(&["--allow-private-webhooks"]);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let junit = dir.path().join("check.xml");
    let junit_arg = junit.display().to_string();
    let out = run(&[
        "check",
        &server.base_url,
        "--webhooks",
        "--json",
        "--junit",
        &junit_arg,
    ]);
    assert_eq!(
        out.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    let report = report(&out.stdout);
    assert_eq!(report["failed"], 0, "{report:#}");
    assert_eq!(
        report["skipped"], 0,
        "webhooks allowed: nothing skips: {report:#}"
    );
    assert_eq!(cases(&report).len(), CASES.len());
    assert_eq!(report["passed"], CASES.len());
    for binding in [Binding::JsonRpc, Binding::HttpJson, Binding::Grpc] {
        let passed = cases(&report)
            .iter()
            .filter(|c| c["binding"] == binding.to_string() && c["outcome"] == "PASS")
            .count();
        assert!(
            passed >= 12,
            "only {passed} {binding} cases passed: {report:#}"
        );
    }
    for case in cases(&report) {
        assert!(
            !case["area"].as_str().unwrap_or_default().is_empty() && case["area"] != "other",
            "a case without an area: {case}"
        );
    }
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report was written");
    assert!(
        xml.contains(&format!(
            "tests=\"{}\" failures=\"0\" skipped=\"0\"",
            CASES.len()
        )),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), CASES.len());
}

#[test]
fn the_table_shows_each_binding_and_why_cases_skipped() {
    let server = Server::start(&["--no-grpc"]);
    let out = run(&[
        "check",
        &server.base_url,
        "--case",
        "stream_lifecycle",
        "--case",
        "push_delivery",
    ]);
    assert_eq!(
        out.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    let table = out.stdout;
    assert!(
        table.contains("the card declares JSON-RPC, HTTP+JSON\n"),
        "{table}"
    );
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == name))
            .unwrap_or_else(|| panic!("no row {name}:\n{table}"))
            .split_whitespace()
            .filter(|w| matches!(*w, "PASS" | "FAIL" | "SKIP" | "-"))
            .collect::<Vec<_>>()
    };
    // Columns: card, JSON-RPC, HTTP+JSON, gRPC.
    assert_eq!(
        row("stream_lifecycle"),
        ["-", "PASS", "PASS", "SKIP"],
        "{table}"
    );
    assert_eq!(row("push_delivery"), ["-", "SKIP", "SKIP", "-"], "{table}");
    assert!(
        table.contains("SKIP   1 × the card declares no GRPC interface"),
        "{table}"
    );
    assert!(
        table.contains("× push delivery needs a webhook receiver"),
        "{table}"
    );
    assert!(
        table.contains("2 passed, 0 failed, 3 skipped (5 cases in"),
        "{table}"
    );
}

#[test]
fn a_server_that_ignores_the_prefixes_fails_with_reasons() {
    let agent =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/exec/agent.sh");
    let command = format!("sh '{}'", agent.display());
    let server = Server::start(&["--exec", &command]);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let junit = dir.path().join("check.xml");
    let junit_arg = junit.display().to_string();
    let out = run(&[
        "check",
        &server.base_url,
        "--json",
        "--junit",
        &junit_arg,
        "--case",
        "send_blocking_completes",
    ]);
    assert_eq!(
        out.code,
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    let report = report(&out.stdout);
    assert_eq!(report["failed"], 3, "one per binding: {report:#}");
    for case in cases(&report) {
        assert_eq!(case["outcome"], "FAIL", "{case}");
        let reason = case["reason"].as_str().unwrap_or_default();
        // The shell agent completes without the agent message "Hello from TCK".
        assert!(
            reason.contains("status message"),
            "the reason says what differed: {reason}"
        );
    }
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report was written");
    assert_eq!(xml.matches("<failure message=").count(), 3, "{xml}");
}

#[test]
fn filters_choose_bindings_and_cases() {
    let server = Server::start(&[]);
    let out = run(&[
        "check",
        &server.base_url,
        "--json",
        "--binding",
        "grpc",
        "--case",
        "cancel",
    ]);
    assert_eq!(
        out.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    let report = report(&out.stdout);
    let names: Vec<&str> = cases(&report)
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["grpc_cancel_input_required", "grpc_cancel_refused"],
        "{report:#}"
    );
    let none = run(&["check", &server.base_url, "--case", "no-such-case"]);
    assert_eq!(none.code, Some(2), "{}", none.stderr);
}

#[test]
fn a_server_that_is_not_there_is_exit_code_4() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    let out = run(&["check", &url]);
    assert_eq!(
        out.code,
        Some(4),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stderr.contains("cannot fetch the agent card"),
        "{}",
        out.stderr
    );
}
