//! `harbor bench push`: push delivery of a server, measured at a webhook in this process.
//!
//! Senders make tasks with an inline push config whose webhook is a local receiver that
//! answers 200 at once. Two rows: the deliveries per second the receiver gets while
//! `--concurrency` senders send as fast as answers come back, and then, at half that rate,
//! the delay from each event to its POST (the event's status timestamp, set when the agent
//! emitted it, to the POST's arrival; the timestamps have millisecond precision).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use clap::Args;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::duration::parse_duration;

/// Options of `harbor bench push`.
#[derive(Debug, Args)]
pub(crate) struct PushArgs {
    /// Base URL of the server; it must offer push notifications and be allowed to POST to
    /// loopback (`harbor serve --allow-private-webhooks`).
    #[arg(long, value_name = "BASE_URL")]
    url: String,
    /// Senders in the throughput row, each sending its next message when the last one is
    /// answered.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    concurrency: u64,
    /// Length of each row.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    duration: Duration,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// What the receiver saw.
#[derive(Default)]
struct Received {
    posts: AtomicU64,
    /// Event-to-POST delays in microseconds, while recording.
    delays: Mutex<Vec<u64>>,
    recording: std::sync::atomic::AtomicBool,
}

async fn receive(State(received): State<Arc<Received>>, body: String) -> &'static str {
    received.posts.fetch_add(1, Ordering::Relaxed);
    if received.recording.load(Ordering::Relaxed)
        && let Some(at) = event_time(&body)
    {
        let delay = SystemTime::now()
            .duration_since(at)
            .unwrap_or_default()
            .as_micros();
        received
            .delays
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(u64::try_from(delay).unwrap_or(u64::MAX));
    }
    "ok"
}

/// The status timestamp of a pushed `StreamResponse` (a task or a status update).
fn event_time(body: &str) -> Option<SystemTime> {
    let event: Value = serde_json::from_str(body).ok()?;
    let stamp = event
        .pointer("/statusUpdate/status/timestamp")
        .or_else(|| event.pointer("/task/status/timestamp"))?;
    let stamp: harbor_a2a::pbjson_types::Timestamp = serde_json::from_value(stamp.clone()).ok()?;
    let seconds = u64::try_from(stamp.seconds).ok()?;
    let nanos = u32::try_from(stamp.nanos).ok()?;
    Some(UNIX_EPOCH + Duration::new(seconds, nanos))
}

/// The server's JSON-RPC endpoint, from its card.
async fn jsonrpc_url(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let card_url = format!("{}/.well-known/agent-card.json", base.trim_end_matches('/'));
    let card: Value = client
        .get(&card_url)
        .send()
        .await
        .with_context(|| format!("cannot read the agent card at {card_url}"))?
        .json()
        .await
        .context("the agent card is not JSON")?;
    card["supportedInterfaces"]
        .as_array()
        .and_then(|interfaces| {
            interfaces
                .iter()
                .find(|i| i["protocolBinding"] == "JSONRPC")
        })
        .and_then(|i| i["url"].as_str())
        .map(str::to_owned)
        .context("the card declares no JSONRPC interface")
}

/// Sends one echo message with the inline push config; true when answered with a task.
async fn send(client: &reqwest::Client, url: &str, hook: &str) -> bool {
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "SendMessage",
        "params": {
            "message": {
                "messageId": format!("bench-push-{}", uuid::Uuid::new_v4()),
                "role": "ROLE_USER",
                "parts": [{"text": "push"}],
            },
            "configuration": {"taskPushNotificationConfig": {"url": hook}},
        },
    });
    let Ok(response) = client
        .post(url)
        .header("A2A-Version", "1.0")
        .json(&body)
        .send()
        .await
    else {
        return false;
    };
    response
        .json::<Value>()
        .await
        .is_ok_and(|answer| answer.pointer("/result/task").is_some())
}

/// Waits until the receiver has had `want` POSTs, or `deadline` passes.
async fn drain(received: &Received, want: u64, deadline: Duration) -> bool {
    let until = Instant::now() + deadline;
    while received.posts.load(Ordering::Relaxed) < want {
        if Instant::now() > until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    true
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64
}

/// Runs `harbor bench push`.
pub(crate) async fn run(args: PushArgs) -> anyhow::Result<()> {
    let received = Arc::new(Received::default());
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(Arc::clone(&received));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::try_from(args.concurrency)?)
        .build()?;
    let url = jsonrpc_url(&client, &args.url).await?;

    // Row 1: throughput, closed loop.
    eprintln!(
        "harbor bench push: {} senders for {:?}",
        args.concurrency, args.duration
    );
    let before = received.posts.load(Ordering::Relaxed);
    let started = Instant::now();
    let sent = Arc::new(AtomicU64::new(0));
    let mut senders = JoinSet::new();
    for _ in 0..args.concurrency {
        let (client, url, hook, sent) =
            (client.clone(), url.clone(), hook.clone(), Arc::clone(&sent));
        let stop = started + args.duration;
        senders.spawn(async move {
            while Instant::now() < stop {
                if send(&client, &url, &hook).await {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while senders.join_next().await.is_some() {}
    let in_window = received.posts.load(Ordering::Relaxed) - before;
    let elapsed = started.elapsed();
    let tasks = sent.load(Ordering::Relaxed);
    anyhow::ensure!(tasks > 0, "no message was answered with a task");
    // Every task makes the same number of events: how many POSTs to wait for.
    let per_task = {
        let drained = drain(&received, before + tasks * 2, Duration::from_secs(60)).await;
        if drained { 2 } else { 1 }
    };
    let rate = in_window as f64 / elapsed.as_secs_f64();

    // Row 2: delay at half that rate, open loop.
    let task_rate = (rate / 2.0 / per_task as f64).max(1.0);
    eprintln!(
        "harbor bench push: {task_rate:.0} tasks/s for {:?}",
        args.duration
    );
    received
        .delays
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clear();
    received.recording.store(true, Ordering::Relaxed);
    let before = received.posts.load(Ordering::Relaxed);
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / task_rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = Instant::now() + args.duration;
    let mut paced = JoinSet::new();
    let mut paced_tasks = 0u64;
    while Instant::now() < stop {
        ticker.tick().await;
        let (client, url, hook) = (client.clone(), url.clone(), hook.clone());
        paced.spawn(async move { send(&client, &url, &hook).await });
        paced_tasks += 1;
    }
    while paced.join_next().await.is_some() {}
    let complete = drain(
        &received,
        before + paced_tasks * per_task,
        Duration::from_secs(60),
    )
    .await;
    received.recording.store(false, Ordering::Relaxed);
    let mut delays = received
        .delays
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    delays.sort_unstable();
    let (p50, p99) = (
        percentile(&delays, 0.5) / 1e3,
        percentile(&delays, 0.99) / 1e3,
    );

    if args.json {
        let report = json!({
            "senders": args.concurrency,
            "row_seconds": args.duration.as_secs_f64(),
            "tasks_answered": tasks,
            "events_per_task": per_task,
            "deliveries_per_sec": rate,
            "paced_tasks_per_sec": task_rate,
            "delay_ms_p50": p50,
            "delay_ms_p99": p99,
            "delays_measured": delays.len(),
            "all_delivered": complete,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("harbor bench push: {}", args.url);
        println!(
            "throughput  {tasks} tasks answered by {} senders in {elapsed:.1?}: {rate:.0} deliveries/s ({per_task} events a task)",
            args.concurrency
        );
        println!(
            "delay       at {task_rate:.0} tasks/s ({:.0} deliveries/s): event -> POST p50 {p50:.1} ms, p99 {p99:.1} ms over {} events{}",
            task_rate * per_task as f64,
            delays.len(),
            if complete {
                ""
            } else {
                " (not all arrived within 60 s)"
            }
        );
    }
    Ok(())
}
