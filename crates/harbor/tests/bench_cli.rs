//! `harbor bench bus` runs end to end and reports every figure.

use std::process::Command;

#[test]
fn bench_bus_reports_json_for_every_placement() {
    let output = Command::new(env!("CARGO_BIN_EXE_harbor"))
        .args([
            "bench",
            "bus",
            "--driver",
            "memory",
            "--messages",
            "2000",
            "--latency-messages",
            "500",
            "--rounds",
            "1",
            "--json",
        ])
        .output()
        .expect("run harbor");
    assert!(
        output.status.success(),
        "harbor bench bus failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the report is JSON");
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
