//! A real Prometheus server scrapes `harbor serve --admin` and, queried through its HTTP
//! API, holds the series a known workload leaves: requests by RPC, binding and outcome, the
//! task log's appends and commits, the bus (its consumer lag included), push attempts.
//!
//! Needs Debian's `prometheus` (`.ci/run` installs it); `HARBOR_PROMETHEUS` names another
//! binary. Without one the test says so and passes: CI always has it.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;

use support::serve::Server;

/// How long Prometheus may take to start and to scrape what the workload left.
const DEADLINE: Duration = Duration::from_secs(90);

/// The Prometheus binary, if there is one.
fn prometheus_binary() -> Option<String> {
    if let Ok(path) = std::env::var("HARBOR_PROMETHEUS") {
        return Some(path);
    }
    let found = Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    found.then(|| "prometheus".to_owned())
}

fn free_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

/// `base` + `path` with one query parameter, encoded.
fn api(base: &str, path: &str, param: (&str, &str)) -> url::Url {
    url::Url::parse_with_params(&format!("{base}{path}"), [param]).expect("a URL")
}

/// What a queried value must satisfy.
type Holds = fn(f64) -> bool;

/// A Prometheus child process with its own config and data directory, killed when dropped.
struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(binary: &str, target: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
                 scrape_configs:\n  - job_name: harbor\n    metrics_path: /metrics\n    \
                 static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("write the config");
        let listen = free_address();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={listen}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("cannot start prometheus");
        Self {
            child,
            url: format!("http://{listen}"),
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// The value of an instant query that returns one sample, if it does.
    async fn query(&self, client: &reqwest::Client, query: &str) -> Option<f64> {
        let answer: Value = client
            .get(api(&self.url, "/api/v1/query", ("query", query)))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let result = answer["data"]["result"].as_array()?;
        let [sample] = result.as_slice() else {
            return None;
        };
        sample["value"][1].as_str()?.parse().ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The admin URL `harbor serve` printed, without the scheme.
fn admin_address(server: &Server) -> String {
    server
        .output()
        .lines()
        .find_map(|l| l.trim().strip_prefix("admin").map(|u| u.trim().to_owned()))
        .and_then(|u| u.strip_prefix("http://").map(str::to_owned))
        .unwrap_or_else(|| panic!("no admin line in:\n{}", server.output()))
}

async fn post(client: &reqwest::Client, url: &str, body: Value) -> Value {
    client
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("a JSON answer")
}

fn send(text: &str, push_to: Option<&str>) -> Value {
    let mut params = json!({"message": {
        "messageId": uuid::Uuid::new_v4().to_string(),
        "role": "ROLE_USER",
        "parts": [{"text": text}],
    }});
    if let Some(url) = push_to {
        params["configuration"] = json!({"taskPushNotificationConfig": {"id": "hook", "url": url}});
    }
    json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": params})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_series_of_a_known_workload() {
    let Some(binary) = prometheus_binary() else {
        eprintln!(
            "skipping: no `prometheus` on PATH and HARBOR_PROMETHEUS unset; .ci/run installs it"
        );
        return;
    };
    let server = Server::start(&[
        "--no-grpc",
        "--admin=127.0.0.1:0",
        "--bus=embedded",
        "--allow-private-webhooks",
        "--push-max-attempts=1",
    ]);
    let prometheus = Prometheus::start(&binary, &admin_address(&server));
    let client = reqwest::Client::new();

    // The workload: 3 plain sends, 1 send whose webhook is down (one attempt, then a dead
    // letter), 1 GetTask of a task that does not exist on HTTP+JSON, 1 body that is not
    // JSON.
    let mut task_ids = Vec::new();
    let dead_hook = format!("http://{}/hook", free_address());
    for push_to in [None, None, None, Some(dead_hook.as_str())] {
        let answer = post(&client, &server.jsonrpc_url, send("hello", push_to)).await;
        let id = answer["result"]["task"]["id"].as_str();
        task_ids.push(id.unwrap_or_else(|| panic!("a task: {answer}")).to_owned());
    }
    let missing = client
        .get(format!("{}/a2a/rest/tasks/no-such-task", server.base_url))
        .send()
        .await
        .expect("GET");
    assert_eq!(missing.status(), reqwest::StatusCode::NOT_FOUND);
    let unreadable = client
        .post(&server.jsonrpc_url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("POST");
    assert_eq!(unreadable.status(), reqwest::StatusCode::OK);

    // (query, what it must reach): counters may only go up, so waiting for the exact
    // count (or a floor) is waiting for a scrape after the workload.
    let expected: [(&str, Holds); 11] = [
        (r#"up{job="harbor"}"#, |v| v == 1.0),
        (
            r#"harbor_a2a_requests_total{rpc="SendMessage",binding="jsonrpc",outcome="ok"}"#,
            |v| v == 4.0,
        ),
        (
            r#"harbor_a2a_requests_total{rpc="GetTask",binding="http_json",outcome="TASK_NOT_FOUND"}"#,
            |v| v == 1.0,
        ),
        (
            r#"sum(harbor_a2a_request_duration_seconds_count{rpc="SendMessage"})"#,
            |v| v == 4.0,
        ),
        (
            r#"harbor_a2a_refusals_total{binding="jsonrpc",reason="JSON_PARSE_ERROR"}"#,
            |v| v == 1.0,
        ),
        // The four tasks sent, all answered (the echo agent completes them).
        (r#"harbor_tasks{state="TASK_STATE_COMPLETED"}"#, |v| {
            v == 4.0
        }),
        ("harbor_task_log_appends_total", |v| v >= 4.0),
        ("harbor_store_commit_duration_seconds_count", |v| v >= 4.0),
        (r#"harbor_bus_published_total{driver="embedded"}"#, |v| {
            v >= 4.0
        }),
        (r#"harbor_push_attempts_total{outcome="dead"}"#, |v| {
            v == 1.0
        }),
        // The server's own group follows the task-log notices it publishes: once they are
        // all acked, the engine owes it nothing.
        (r#"harbor_bus_consumer_lag{driver="embedded"}"#, |v| {
            v == 0.0
        }),
    ];
    let deadline = Instant::now() + DEADLINE;
    for (query, holds) in expected {
        let mut last = None;
        loop {
            last = prometheus.query(&client, query).await.or(last);
            if last.is_some_and(holds) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus never had {query} as expected (last {last:?});\nits log:\n{}\nthe server's:\n{}",
                prometheus.log(),
                server.output()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // Bounded labels: no task id reached Prometheus as a label value.
    let series: Value = client
        .get(api(
            &prometheus.url,
            "/api/v1/series",
            ("match[]", r#"{__name__=~"harbor_.+"}"#),
        ))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    let series = series["data"].as_array().expect("series");
    assert!(series.len() > 10, "{series:?}");
    for labels in series {
        for id in &task_ids {
            assert!(
                labels
                    .as_object()
                    .expect("labels")
                    .values()
                    .all(|v| v != id),
                "task id {id} as a label: {labels}"
            );
        }
    }
}
