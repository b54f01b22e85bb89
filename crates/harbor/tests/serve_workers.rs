//! Front doors (`harbor serve --workers`) and agent workers (`harbor worker`) on one
//! PostgreSQL task store (at `HARBOR_POSTGRES_URL`, in a schema of the test's own) and a
//! bus (PostgreSQL in that schema, or NATS at `HARBOR_NATS_URL` in a stream of the test's
//! own): a send on a front door runs on a worker, blocking and streaming, and the front
//! door runs no agent; a cancel on a front door stops the task on its worker; a worker
//! SIGKILLed mid-task loses the task's lease and the task ends FAILED, as a subscriber on
//! the front door sees.

#![cfg(feature = "postgres")]

use std::future::Future;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

mod support;

use harbor_test_support::postgres::Scratch;
use support::jsonrpc::{Stream, message, rpc};
use support::serve::Server;
use support::worker::{Worker, ran};

/// How long anything may take.
const DEADLINE: Duration = Duration::from_secs(30);

/// The execution lease time to live of every process: short, so a failover is quick.
const LEASE_TTL: &str = "1s";

/// Runs `test` against front doors A and B and workers W1 and W2, sharing a store and a
/// bus in a fresh schema (dropped after); skips when `HARBOR_POSTGRES_URL` is unset, and
/// on NATS when `HARBOR_NATS_URL` is too.
fn with_cluster<F: Future<Output = ()>>(
    nats: bool,
    test: impl FnOnce(Rc<Server>, Rc<Server>, Rc<Mutex<Vec<Worker>>>) -> F,
) {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let store = scratch.url.clone();
    let bus = if nats {
        let nats = harbor_test_support::require!(nats);
        // A memory stream of the test's own, gone after its max age.
        let id = uuid::Uuid::new_v4().simple();
        format!("{nats}?stream=HARBOR_TEST_{id}&prefix=t{id}&storage=memory&max_age=10m")
    } else {
        store.clone()
    };
    let door = |name: &str| {
        Server::start_with_env(
            &[
                "--store".as_ref(),
                store.as_ref(),
                "--bus".as_ref(),
                bus.as_ref(),
                "--replica-id".as_ref(),
                name.as_ref(),
                "--lease-ttl".as_ref(),
                LEASE_TTL.as_ref(),
                "--workers".as_ref(),
            ],
            &[("RUST_LOG", "warn,harbor_server=info")],
        )
    };
    let (a, b) = (Rc::new(door("door-a")), Rc::new(door("door-b")));
    let workers = Rc::new(Mutex::new(vec![
        Worker::start(&store, &bus, "worker-1", LEASE_TTL),
        Worker::start(&store, &bus, "worker-2", LEASE_TTL),
    ]));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(test(Rc::clone(&a), Rc::clone(&b), Rc::clone(&workers)));
    drop((a, b, workers));
}

/// Waits (with [`DEADLINE`]) until `done`.
async fn until(what: &str, mut done: impl FnMut() -> bool, output: impl Fn() -> String) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < DEADLINE,
            "{what}: not within {DEADLINE:?}; output:\n{}",
            output()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sends_run_on_workers(nats: bool) {
    with_cluster(nats, |a, b, workers| async move {
        for server in [&a, &b] {
            assert!(
                server.output().contains("none here: a front door"),
                "{}",
                server.output()
            );
        }
        // A blocking send on A completes, run by one worker.
        let sent = rpc(
            &a,
            "SendMessage",
            json!({"message": message("tck-complete-task")}),
        )
        .await;
        let id = sent["task"]["id"].as_str().expect("a task id").to_owned();
        assert_eq!(
            sent["task"]["status"]["state"], "TASK_STATE_COMPLETED",
            "{sent}"
        );
        assert_eq!(
            ran(&workers.lock().expect("workers"), &id).len(),
            1,
            "one worker ran {id}"
        );
        // B reads what A's worker wrote.
        let on_b = rpc(&b, "GetTask", json!({"id": id})).await;
        assert_eq!(on_b["status"]["state"], "TASK_STATE_COMPLETED");

        // A stream on B follows a worker's events to the end.
        let mut stream = Stream::open(
            &b,
            "SendStreamingMessage",
            json!({"message": message("tck-long-running")}),
            None,
        )
        .await;
        let (_, first) = stream.next().await.expect("a first event");
        assert_eq!(
            first["task"]["status"]["state"], "TASK_STATE_SUBMITTED",
            "{first}"
        );
        let streamed = first["task"]["id"].as_str().expect("a task id").to_owned();
        let last = stream.last().await;
        assert_eq!(
            last["statusUpdate"]["status"]["state"], "TASK_STATE_COMPLETED",
            "{last}"
        );
        assert_eq!(
            ran(&workers.lock().expect("workers"), &streamed).len(),
            1,
            "one worker ran {streamed}"
        );

        // The front doors ran no agent: no execution of theirs was logged or stopped.
        for server in [&a, &b] {
            let output = server.output();
            assert!(
                !output.contains("took work") && !output.contains("the agent"),
                "a front door's output:\n{output}"
            );
        }
    });
}

fn a_cancel_on_a_front_door_stops_the_worker(nats: bool) {
    with_cluster(nats, |a, b, workers| async move {
        let sent = rpc(
            &a,
            "SendMessage",
            json!({"message": message("tck-cancel"), "configuration": {"returnImmediately": true}}),
        )
        .await;
        let id = sent["task"]["id"].as_str().expect("a task id").to_owned();
        let mut on_a = Stream::open(&a, "SubscribeToTask", json!({"id": id}), None).await;
        let (_, first) = on_a.next().await.expect("the task");
        assert!(first["task"].is_object(), "{first}");
        until(
            "a worker takes the task",
            || ran(&workers.lock().expect("workers"), &id).len() == 1,
            || a.output(),
        )
        .await;
        let started = Instant::now();
        let canceled = rpc(&b, "CancelTask", json!({"id": id})).await;
        assert_eq!(
            canceled["status"]["state"], "TASK_STATE_CANCELED",
            "{canceled}"
        );
        let last = on_a.last().await;
        assert_eq!(
            last["statusUpdate"]["status"]["state"], "TASK_STATE_CANCELED",
            "{last}"
        );
        let runner = ran(&workers.lock().expect("workers"), &id)[0];
        until(
            "the worker stops the execution",
            || {
                workers.lock().expect("workers")[runner]
                    .output()
                    .lines()
                    .any(|l| l.contains("its execution here is stopped") && l.contains(&id))
            },
            || workers.lock().expect("workers")[runner].output(),
        )
        .await;
        eprintln!(
            "cancel on a front door stopped the execution on a worker in {:?}",
            started.elapsed()
        );
        let task = rpc(&a, "GetTask", json!({"id": id})).await;
        assert_eq!(task["status"]["state"], "TASK_STATE_CANCELED", "{task}");
    });
}

fn a_killed_workers_task_ends_failed(nats: bool) {
    with_cluster(nats, |a, _b, workers| async move {
        let sent = rpc(
            &a,
            "SendMessage",
            json!({"message": message("tck-cancel"), "configuration": {"returnImmediately": true}}),
        )
        .await;
        let id = sent["task"]["id"].as_str().expect("a task id").to_owned();
        let mut on_a = Stream::open(&a, "SubscribeToTask", json!({"id": id}), None).await;
        let _ = on_a.next().await.expect("the task");
        until(
            "a worker takes the task",
            || ran(&workers.lock().expect("workers"), &id).len() == 1,
            || a.output(),
        )
        .await;
        // Past the hand-over, the worker is WORKING on it: the lease is the worker's.
        let runner = ran(&workers.lock().expect("workers"), &id)[0];
        loop {
            let task = rpc(&a, "GetTask", json!({"id": id})).await;
            if task["status"]["state"] == "TASK_STATE_WORKING" {
                break;
            }
            assert_eq!(task["status"]["state"], "TASK_STATE_SUBMITTED", "{task}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        workers.lock().expect("workers")[runner].kill();
        let started = Instant::now();
        let last = on_a.last().await;
        let failover = started.elapsed();
        let status = &last["statusUpdate"]["status"];
        assert_eq!(status["state"], "TASK_STATE_FAILED", "{last}");
        let why = status["message"]["parts"][0]["text"].as_str().unwrap_or("");
        assert!(
            why.contains("lost"),
            "the reason names the lost execution: {last}"
        );
        eprintln!(
            "a SIGKILLed worker's task was FAILED, seen on a front door's subscriber, after {failover:?} (lease {LEASE_TTL})"
        );
        assert!(
            failover < Duration::from_secs(5),
            "within the lease time and a sweep: {failover:?}"
        );
        let task = rpc(&a, "GetTask", json!({"id": id})).await;
        assert_eq!(task["status"]["state"], "TASK_STATE_FAILED", "{task}");
    });
}

#[test]
fn sends_on_front_doors_run_on_workers() {
    sends_run_on_workers(false);
}

#[test]
fn a_cancel_on_a_front_door_stops_the_task_on_its_worker() {
    a_cancel_on_a_front_door_stops_the_worker(false);
}

#[test]
fn a_sigkilled_workers_task_ends_failed_on_a_front_door() {
    a_killed_workers_task_ends_failed(false);
}

#[test]
fn on_nats_sends_run_on_workers() {
    sends_run_on_workers(true);
}

#[test]
fn on_nats_a_cancel_on_a_front_door_stops_the_task_on_its_worker() {
    a_cancel_on_a_front_door_stops_the_worker(true);
}

#[test]
fn on_nats_a_sigkilled_workers_task_ends_failed_on_a_front_door() {
    a_killed_workers_task_ends_failed(true);
}
