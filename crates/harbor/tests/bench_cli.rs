//! `harbor bench bus` runs end to end and reports every figure.

use harbor_test_support::Engine;
use std::process::Command;

/// Runs `harbor bench bus --driver DRIVER --messages M --latency-messages L --rounds 1
/// --json`, asserts that it succeeded, and returns its report.
fn bench_bus_json(driver: &str, messages: &str, latency_messages: &str) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_harbor"))
        .args([
            "bench",
            "bus",
            "--driver",
            driver,
            "--messages",
            messages,
            "--latency-messages",
            latency_messages,
            "--rounds",
            "1",
            "--json",
        ])
        .output()
        .expect("run harbor");
    assert!(
        output.status.success(),
        "harbor bench bus --driver {driver} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the report is JSON")
}

#[test]
fn bench_bus_reports_json_for_every_placement() {
    let report = bench_bus_json("memory", "2000", "500");
    assert_eq!(report["driver"], "memory");
    assert_eq!(report["payload_bytes"], 256);
    let results = report["results"].as_array().expect("results");
    let placements: Vec<&str> = results
        .iter()
        .filter_map(|r| r["placement"].as_str())
        .collect();
    assert_eq!(placements, ["one thread", "two threads", "tokio runtime"]);
    for r in results {
        for field in [
            "raw_msgs_per_sec",
            "envelope_mpsc_msgs_per_sec",
            "bus_msgs_per_sec",
            "ratio",
        ] {
            let value = r[field].as_f64().unwrap_or(0.0);
            assert!(value > 0.0, "{field} is {value} in {r}");
        }
        assert!(
            r["bus_latency"]["p99_us"].as_f64().is_some(),
            "no bus p99 in {r}"
        );
    }
}

#[test]
fn bench_bus_refuses_an_unknown_driver() {
    let output = Command::new(env!("CARGO_BIN_EXE_harbor"))
        .args(["bench", "bus", "--driver", "nope", "--messages", "10"])
        .output()
        .expect("run harbor");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown driver"), "stderr: {stderr}");
}

/// Runs a durable bench on `driver` and checks every figure of its JSON report.
fn durable_bench_reports_every_figure(driver: &str) {
    let report = bench_bus_json(driver, "300", "20");
    assert_eq!(report["payload_bytes"], 256, "{report}");
    assert_eq!(report["messages"], 300, "{report}");
    assert!(report["raw"].as_str().is_some_and(|r| !r.is_empty()));
    for operation in ["publish", "consume_ack"] {
        for field in ["raw_per_s", "driver_per_s", "ratio"] {
            let value = report[operation][field].as_f64().unwrap_or(0.0);
            assert!(value > 0.0, "{operation}.{field} is {value} in {report}");
        }
    }
    for side in ["raw", "driver"] {
        let p50 = report["publish_latency"][side]["p50_us"].as_f64();
        assert!(p50.is_some_and(|v| v > 0.0), "no {side} p50 in {report}");
    }
}

#[test]
fn bench_bus_on_the_embedded_engine_reports_the_driver_next_to_raw_redb() {
    durable_bench_reports_every_figure("embedded");
}

#[test]
fn bench_bus_on_each_service_reports_the_driver_next_to_its_raw_client() {
    let mut ran = 0;
    for engine in [Engine::Nats, Engine::Redis, Engine::Postgres] {
        // Each engine not configured is said as a skip; the others run.
        if let Some(url) = harbor_test_support::server_url(engine) {
            durable_bench_reports_every_figure(&url);
            ran += 1;
        }
    }
    eprintln!("{ran} service benches ran");
}
