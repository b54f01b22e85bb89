//! Two `harbor serve` replicas on one PostgreSQL task store and one PostgreSQL bus (at
//! `HARBOR_POSTGRES_URL`, in a schema of the test's own): a task one replica ran is read
//! and listed on the other, and a stream started on one resumes on the other with
//! `Last-Event-ID`, the same ids, then follows the task live as the first replica runs it.
//! A cancel on one stops the execution on the other; a replica killed mid-task loses the
//! task's lease, and the other takes the task over and ends it FAILED.

#![cfg(feature = "postgres")]

use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::json;

mod support;

use harbor_test_support::postgres::Scratch;
use support::jsonrpc::{Stream, message, rpc};
use support::serve::Server;

/// How long A may take to say it stopped the execution.
const STREAM_DEADLINE: Duration = Duration::from_secs(30);

/// The replicas' execution lease time to live: short, so a failover happens quickly.
const LEASE_TTL: &str = "1s";

/// Runs `test` against two replicas, A and B, sharing a store and a bus in a fresh schema
/// (dropped after); skips when `HARBOR_POSTGRES_URL` is unset.
fn with_replicas<F: Future<Output = ()>>(test: impl FnOnce(Rc<Server>, Rc<Server>) -> F) {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let shared = &scratch.url;
    let start = |name: &str| {
        Server::start_with_env(
            &[
                "--store".as_ref(),
                shared.as_ref(),
                "--bus".as_ref(),
                shared.as_ref(),
                "--replica-id".as_ref(),
                name.as_ref(),
                "--lease-ttl".as_ref(),
                LEASE_TTL.as_ref(),
            ],
            // The line saying an execution was stopped from elsewhere is at info.
            &[("RUST_LOG", "warn,harbor_server::runtime=info")],
        )
    };
    let (a, b) = (Rc::new(start("replica-a")), Rc::new(start("replica-b")));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(test(Rc::clone(&a), Rc::clone(&b)));
    drop((a, b));
}

#[test]
fn any_replica_reads_lists_and_resumes_what_another_runs() {
    with_replicas(|a, b| async move {
        // A task A ran to the end is B's to read and list.
        let sent = rpc(
            &a,
            "SendMessage",
            json!({"message": message("tck-complete-task")}),
        )
        .await;
        let task = &sent["task"];
        let id = task["id"].as_str().expect("a task id").to_owned();
        assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED", "{sent}");
        let on_b = rpc(&b, "GetTask", json!({"id": id})).await;
        assert_eq!(&on_b, task, "B reads the task as A answered it");
        let listed = rpc(&b, "ListTasks", json!({})).await;
        let ids: Vec<&str> = listed["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter_map(|t| t["id"].as_str())
            .collect();
        assert!(ids.contains(&id.as_str()), "{id} not listed on B: {listed}");

        // A stream on A, cut after its first event, resumes on B with the same ids, and B
        // follows the task live while A runs it.
        let mut on_a = Stream::open(
            &a,
            "SendStreamingMessage",
            json!({"message": message("tck-long-running")}),
            None,
        )
        .await;
        let (first_id, first) = on_a.next().await.expect("a first event");
        assert_eq!(first_id, 1, "{first}");
        let running = first["task"]["id"].as_str().expect("the task").to_owned();
        let resumed = Stream::open(
            &b,
            "SubscribeToTask",
            json!({"id": running}),
            Some(first_id),
        )
        .await
        .rest()
        .await;
        let mut whole = vec![(first_id, first)];
        whole.extend(on_a.rest().await);
        let ids: Vec<u64> = whole.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "A's ids");
        assert!(
            whole.len() >= 3,
            "a long-running task says more than it starts with"
        );
        assert_eq!(
            resumed,
            whole[1..].to_vec(),
            "B resumes exactly after the first event, with A's ids and events"
        );
        let last = &resumed.last().expect("events").1;
        assert_eq!(
            last["statusUpdate"]["status"]["state"],
            "TASK_STATE_COMPLETED"
        );
    });
}

#[test]
fn a_cancel_on_one_replica_stops_the_task_another_runs() {
    with_replicas(|a, b| async move {
        // A runs a task that works until it is canceled, B cancels it.
        let sent = rpc(
            &a,
            "SendMessage",
            json!({"message": message("tck-cancel"), "configuration": {"returnImmediately": true}}),
        )
        .await;
        let id = sent["task"]["id"].as_str().expect("a task id").to_owned();
        let mut on_a = Stream::open(&a, "SubscribeToTask", json!({"id": id}), None).await;
        let started = Instant::now();
        let canceled = rpc(&b, "CancelTask", json!({"id": id})).await;
        assert_eq!(
            canceled["status"]["state"], "TASK_STATE_CANCELED",
            "{canceled}"
        );
        // A's own stream of the task ends CANCELED, and A stops the execution it runs.
        let mut last = None;
        while let Some((_, event)) = on_a.next().await {
            last = Some(event);
        }
        let last = last.expect("A's stream said something");
        assert_eq!(
            last["statusUpdate"]["status"]["state"], "TASK_STATE_CANCELED",
            "{last}"
        );
        while !a
            .output()
            .lines()
            .any(|l| l.contains("its execution here is stopped") && l.contains(&id))
        {
            assert!(
                started.elapsed() < STREAM_DEADLINE,
                "A never stopped the execution; its output:\n{}",
                a.output()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!(
            "cancel on B to the execution on A stopped: {:?}",
            started.elapsed()
        );
        let on_a = rpc(&a, "GetTask", json!({"id": id})).await;
        assert_eq!(on_a["status"]["state"], "TASK_STATE_CANCELED", "{on_a}");
    });
}

#[test]
fn a_task_whose_replica_is_killed_is_taken_over_and_failed_by_another() {
    with_replicas(|a, b| async move {
        // A runs a task that works until it is canceled; B follows it.
        let sent = rpc(
            &a,
            "SendMessage",
            json!({"message": message("tck-cancel"), "configuration": {"returnImmediately": true}}),
        )
        .await;
        let id = sent["task"]["id"].as_str().expect("a task id").to_owned();
        let mut on_b = Stream::open(&b, "SubscribeToTask", json!({"id": id}), None).await;
        let (_, first) = on_b.next().await.expect("B's stream starts with the task");
        assert_eq!(
            first["task"]["status"]["state"], "TASK_STATE_WORKING",
            "{first}"
        );

        let killed = std::process::Command::new("kill")
            .args(["-KILL", &a.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success(), "A was killed");
        let started = Instant::now();
        // B's stream ends with the task FAILED, saying why.
        let mut last = None;
        while let Some((_, event)) = on_b.next().await {
            last = Some(event);
        }
        let failover = started.elapsed();
        let last = last.expect("B's stream said how the task ended");
        let status = &last["statusUpdate"]["status"];
        assert_eq!(status["state"], "TASK_STATE_FAILED", "{last}");
        let why = status["message"]["parts"][0]["text"].as_str().unwrap_or("");
        assert!(
            why.contains("lost"),
            "the reason names the lost execution: {last}"
        );
        eprintln!(
            "a SIGKILLed replica's task failed on the other after {failover:?} (lease {LEASE_TTL})"
        );
        let on_b = rpc(&b, "GetTask", json!({"id": id})).await;
        assert_eq!(on_b["status"]["state"], "TASK_STATE_FAILED", "{on_b}");
        assert!(
            b.output().contains("marking it failed"),
            "B took the task over; its output:\n{}",
            b.output()
        );
    });
}
