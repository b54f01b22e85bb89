//! A real cluster: three `harbor serve` replicas on one PostgreSQL task store and a shared
//! bus (PostgreSQL, NATS JetStream or Redis Streams), behind HAProxy round-robin. Through
//! the proxy, consecutive calls land on different replicas, the HTTP-level server suite
//! and the official Python SDK's client pass, and a replica SIGKILLed mid-task loses the
//! task to another, which ends it FAILED where a subscriber sees it. With front doors
//! (`--workers`) and two `harbor worker` processes behind the proxy, calls spread, the suite
//! passes (but for direct replies, which a front door cannot give), push included, and a
//! worker SIGKILLed mid-task loses its task, which ends FAILED.
//!
//! Needs `HARBOR_POSTGRES_URL`, the bus's URL (`HARBOR_NATS_URL`, `HARBOR_REDIS_URL`) and
//! `haproxy`; skips (saying why) without them. `.ci/run` provides all.

#![cfg(feature = "postgres")]

use std::time::{Duration, Instant};

use futures::StreamExt;
use harbor_client::sse::{DEFAULT_MAX_EVENT_BYTES, SseDecoder};
use harbor_conformance::server::{ServerTarget, TargetOptions, run_all, run_matching};
use serde_json::{Value, json};

mod support;

use harbor_test_support::postgres::Scratch;
use harbor_test_support::{Engine, server_url};
use support::cluster::{Cluster, SERVED_BY, haproxy_installed};
use support::interop;
use support::worker::{Worker, ran};

/// Replicas per cluster.
const REPLICAS: usize = 3;

/// How long a killed replica's task may take to end FAILED on another (the lease is 1 s).
const FAILOVER_DEADLINE: Duration = Duration::from_secs(20);

/// Where the cluster's state lives: a store in a schema of its own (dropped after) and a
/// bus.
struct Engines {
    store: Scratch,
    bus: String,
}

/// The engines of one test, `bus` naming the bus (`postgres`, `nats` or `redis`); `None`
/// (a skip, said on stderr) when one is not configured or HAProxy is missing.
fn engines(bus: &str) -> Option<Engines> {
    if !haproxy_installed() {
        return None;
    }
    let store = Scratch::new()?;
    let sep = |url: &str| if url.contains('?') { '&' } else { '?' };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let bus = match bus {
        "postgres" => store.url.clone(),
        "nats" | "redis" => {
            let engine = if bus == "nats" {
                Engine::Nats
            } else {
                Engine::Redis
            };
            let url = server_url(engine)?;
            if bus == "nats" {
                // A memory stream of the test's own, gone after its max age.
                let s = sep(&url);
                format!("{url}{s}stream=HC{id}&prefix=hc{id}&storage=memory&max_age=10m")
            } else {
                format!("{url}{}prefix=hc{id}", sep(&url))
            }
        }
        other => panic!("unknown bus {other}"),
    };
    Some(Engines { store, bus })
}

/// Starts a cluster on `engines` with `extra` flags on every replica.
async fn cluster(engines: &Engines, extra: &[&str]) -> Cluster {
    let mut args = vec![
        "--store",
        &engines.store.url,
        "--bus",
        &engines.bus,
        "--lease-ttl",
        "1s",
    ];
    args.extend_from_slice(extra);
    Cluster::start(REPLICAS, &args).await
}

fn message(prefix: &str) -> Value {
    json!({
        "messageId": format!("{prefix}-{}", uuid::Uuid::new_v4().simple()),
        "role": "ROLE_USER",
        "parts": [{"text": "cluster test"}],
    })
}

/// One JSON-RPC call through the proxy: its result and the replica that served it.
async fn rpc(client: &reqwest::Client, url: &str, method: &str, params: Value) -> (Value, String) {
    let response = client
        .post(url)
        .header("A2A-Version", "1.0")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .expect("request");
    let replica = response
        .headers()
        .get(SERVED_BY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let answer: Value = response.json().await.expect("JSON answer");
    assert!(answer.get("error").is_none(), "{method} failed: {answer}");
    (answer["result"].clone(), replica)
}

/// Starts a task the built-in agent holds WORKING until it is cancelled (`tck-cancel`),
/// answered at once; its id, and the replica that answered.
async fn start_held_task(client: &reqwest::Client, url: &str) -> (String, String) {
    let (sent, replica) = rpc(
        client,
        url,
        "SendMessage",
        json!({"message": message("tck-cancel"), "configuration": {"returnImmediately": true}}),
    )
    .await;
    let id = sent["task"]["id"].as_str().expect("a task id").to_owned();
    (id, replica)
}

/// Consecutive calls through the proxy land on different replicas, and each reads what
/// the others wrote.
async fn calls_spread_and_agree(cluster: &Cluster) {
    let client = reqwest::Client::new();
    let url = cluster.jsonrpc_url().to_owned();
    let (sent, writer) = rpc(
        &client,
        &url,
        "SendMessage",
        json!({"message": message("tck-complete-task")}),
    )
    .await;
    let id = sent["task"]["id"].as_str().expect("a task id").to_owned();
    let mut served = vec![writer];
    for _ in 0..REPLICAS * 2 {
        let (task, replica) = rpc(&client, &url, "GetTask", json!({"id": id})).await;
        assert_eq!(
            task, sent["task"],
            "{replica} reads the task as it was answered"
        );
        served.push(replica);
    }
    for pair in served.windows(2) {
        assert_ne!(
            pair[0], pair[1],
            "consecutive calls on one replica: {served:?}"
        );
    }
    let distinct: std::collections::BTreeSet<&String> = served.iter().collect();
    assert_eq!(distinct.len(), REPLICAS, "every replica served: {served:?}");
}

/// The HTTP-level server suite passes through the proxy; on front doors, without the
/// cases of an agent answering with a direct message (a front door has made the task
/// before any agent runs, so a reply becomes the task's final status message: see
/// docs/workers.md).
async fn suite_passes(cluster: &Cluster, front_doors: bool) {
    let options = TargetOptions {
        allow_loopback_webhooks: true,
        ..TargetOptions::default()
    };
    let target = ServerTarget::connect_with(cluster.base_url.as_str(), options)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot read the card through the proxy: {e}\n{}",
                cluster.output()
            )
        });
    let report = if front_doors {
        run_matching(&target, |case| !case.name.contains("direct_message")).await
    } else {
        run_all(&target).await
    };
    println!("{report}");
    assert!(
        report.is_success() && report.skipped() == 0,
        "the cluster failed {} case(s), skipped {}:\n{report}\n{}",
        report.failed(),
        report.skipped(),
        cluster.output()
    );
}

/// The replica running a task is SIGKILLed: another takes the task over and ends it
/// FAILED, and a stream through the proxy (on a live replica) sees it. Returns the time
/// from the kill to the final event.
async fn a_killed_replicas_task_fails_elsewhere(cluster: &Cluster) -> Duration {
    let client = reqwest::Client::new();
    let url = cluster.jsonrpc_url().to_owned();
    let (id, runner) = start_held_task(&client, &url).await;
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &cluster.replica(&runner).child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success(), "{runner} was killed");
    failed_for_a_stream(cluster, &id).await
}

/// Subscribes to task `id` through the proxy and waits for its stream to end FAILED with
/// a reason naming the lost execution; returns how long that took.
async fn failed_for_a_stream(cluster: &Cluster, id: &str) -> Duration {
    let client = reqwest::Client::new();
    let url = cluster.jsonrpc_url();
    let started = Instant::now();
    let response = client
        .post(url)
        .header("A2A-Version", "1.0")
        .header("Accept", "text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 2, "method": "SubscribeToTask", "params": {"id": id}}),
        )
        .send()
        .await
        .expect("subscribe through the proxy");
    assert_eq!(response.status(), 200, "{}", cluster.output());
    let mut body = response.bytes_stream();
    let mut decoder = SseDecoder::new(DEFAULT_MAX_EVENT_BYTES);
    let mut last = Value::Null;
    loop {
        while let Some(event) = decoder.next_event() {
            let data: Value = serde_json::from_str(&event.data).expect("JSON data");
            last = data["result"].clone();
        }
        let left = FAILOVER_DEADLINE.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, body.next()).await {
            Ok(Some(Ok(bytes))) => decoder.push(&bytes).expect("a well-formed stream"),
            Ok(None) => break,
            Ok(Some(Err(e))) => panic!("the stream broke: {e}\n{}", cluster.output()),
            Err(_) => panic!(
                "no final event within {FAILOVER_DEADLINE:?}; last {last}\n{}",
                cluster.output()
            ),
        }
    }
    let failover = started.elapsed();
    let status = &last["statusUpdate"]["status"];
    assert_eq!(
        status["state"],
        "TASK_STATE_FAILED",
        "{last}\n{}",
        cluster.output()
    );
    let why = status["message"]["parts"][0]["text"].as_str().unwrap_or("");
    assert!(
        why.contains("lost"),
        "the reason names the lost execution: {last}"
    );
    failover
}

/// Everything above on one bus, then the SDK's client through the proxy (on a cluster
/// that authenticates it).
async fn the_cluster_serves_through_haproxy(bus: &str) {
    let Some(engines) = engines(bus) else { return };
    {
        let cluster = cluster(&engines, &["--allow-private-webhooks"]).await;
        calls_spread_and_agree(&cluster).await;
        suite_passes(&cluster, false).await;
        let failover = a_killed_replicas_task_fails_elsewhere(&cluster).await;
        eprintln!("{bus} bus: a SIGKILLed replica's task failed on another after {failover:?}");
    }
    let Some(python) = interop::python("the SDK interop through the cluster") else {
        return;
    };
    let keys = tempfile::tempdir().expect("a temporary directory");
    let key_file = interop::key_file(keys.path());
    let cluster = cluster(&engines, &["--api-keys", key_file.to_str().expect("utf-8")]).await;
    for binding in ["JSONRPC", "HTTP+JSON", "GRPC"] {
        let (python, base) = (python.clone(), cluster.base_url.clone());
        let output = || cluster.output();
        tokio::task::block_in_place(|| interop::run_sdk_client(&python, &base, binding, output));
    }
}

/// Front doors (`--workers`) behind the proxy and two workers running the agent: calls
/// spread over the front doors and run on the workers, the suite passes (but for direct
/// replies), and a worker
/// SIGKILLed mid-task loses the task, which ends FAILED for a stream through the proxy.
async fn front_doors_and_workers_serve_through_haproxy(bus: &str) {
    let Some(engines) = engines(bus) else { return };
    let cluster = cluster(&engines, &["--allow-private-webhooks", "--workers"]).await;
    let mut workers: Vec<Worker> = (1..=2)
        .map(|i| Worker::start(&engines.store.url, &engines.bus, &format!("w{i}"), "1s"))
        .collect();
    calls_spread_and_agree(&cluster).await;
    suite_passes(&cluster, true).await;

    let client = reqwest::Client::new();
    let url = cluster.jsonrpc_url().to_owned();
    let (id, _) = start_held_task(&client, &url).await;
    let started = Instant::now();
    let runner = loop {
        let (task, _) = rpc(&client, &url, "GetTask", json!({"id": id})).await;
        let took = ran(&workers, &id);
        if task["status"]["state"] == "TASK_STATE_WORKING" && took.len() == 1 {
            break took[0];
        }
        assert!(
            started.elapsed() < FAILOVER_DEADLINE,
            "no worker took {id}: {task}\n{}",
            cluster.output()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    workers[runner].kill();
    let failover = failed_for_a_stream(&cluster, &id).await;
    eprintln!("{bus} bus: a SIGKILLed worker's task failed after {failover:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_doors_and_workers_on_nats_serve_through_haproxy() {
    front_doors_and_workers_serve_through_haproxy("nats").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_doors_and_workers_on_redis_serve_through_haproxy() {
    front_doors_and_workers_serve_through_haproxy("redis").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_doors_and_workers_on_the_postgres_bus_serve_through_haproxy() {
    front_doors_and_workers_serve_through_haproxy("postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_on_the_postgres_bus_serves_through_haproxy() {
    the_cluster_serves_through_haproxy("postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_on_nats_serves_through_haproxy() {
    the_cluster_serves_through_haproxy("nats").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_on_redis_serves_through_haproxy() {
    the_cluster_serves_through_haproxy("redis").await;
}
