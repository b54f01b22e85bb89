//! Front doors and agent workers in one process, on a PostgreSQL task store (at
//! `HARBOR_POSTGRES_URL`, in a schema of each test's own) and an in-memory bus: the front
//! door runs no agent, a worker takes the work, runs it under a lease handed over from the
//! front door, and the front door's sends, streams and cancels see it through the bus.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use harbor_a2a::{
    AgentCard, CancelTaskRequest, Message, Part, SendMessageConfiguration, SendMessageRequest,
    Task, TaskState, send_message_response,
};
use harbor_distributed::memory::{MemoryBus, MemoryBusConfig};
use harbor_distributed::{A2aHandler, CallContext, Identity, MessageBus, TaskLog};
use harbor_server::agent::ConformanceAgent;
use harbor_server::{AgentExecutor, DefaultHandler, EventSink, RequestContext};
use harbor_server::{Worker, WorkerConfig};
use harbor_test_support::cards;
use harbor_test_support::postgres::Scratch;
use tokio_util::sync::CancellationToken;

/// How long anything here may take.
const DEADLINE: Duration = Duration::from_secs(20);

fn card() -> AgentCard {
    cards::card("workers", "test", cards::NOWHERE, cards::streaming())
}

fn ctx() -> CallContext {
    CallContext::new(Identity::new("t", "u", "s").expect("identity"))
}

fn send(prefix: &str, task_id: Option<&str>, blocking: bool) -> SendMessageRequest {
    SendMessageRequest {
        message: Some(Message {
            message_id: format!("{prefix}-{}", uuid::Uuid::new_v4().simple()),
            role: harbor_a2a::Role::User as i32,
            parts: vec![Part {
                content: Some(harbor_a2a::part::Content::Text("hello".into())),
                ..Part::default()
            }],
            task_id: task_id.unwrap_or_default().into(),
            ..Message::default()
        }),
        configuration: Some(SendMessageConfiguration {
            return_immediately: !blocking,
            ..SendMessageConfiguration::default()
        }),
        ..SendMessageRequest::default()
    }
}

fn task_of(response: harbor_a2a::SendMessageResponse) -> Task {
    match response.payload {
        Some(send_message_response::Payload::Task(task)) => task,
        other => panic!("a task, got {other:?}"),
    }
}

/// An agent that must never run: a front door's.
struct Forbidden;

#[async_trait::async_trait]
impl AgentExecutor for Forbidden {
    async fn execute(&self, _: RequestContext, _: EventSink) -> Result<(), harbor_a2a::A2aError> {
        panic!("a front door ran the agent")
    }
}

/// One front door and `workers` workers on a fresh schema.
struct Cluster {
    door: DefaultHandler,
    workers: Vec<Arc<Worker>>,
    stop: CancellationToken,
}

async fn with_cluster<F, Fut>(workers: usize, test: F)
where
    F: FnOnce(Cluster) -> Fut,
    Fut: Future<Output = ()>,
{
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let config = harbor_postgres::PostgresBusConfig::from_url(&scratch.url).expect("config");
    let store: Arc<dyn TaskLog> = Arc::new(
        harbor_postgres::PostgresTaskStore::with_config(config, Default::default())
            .await
            .expect("store"),
    );
    let bus: Arc<dyn MessageBus> = Arc::new(MemoryBus::new(MemoryBusConfig::default()));
    let door = DefaultHandler::builder(card(), Arc::new(Forbidden))
        .store(Arc::clone(&store))
        .bus(Arc::clone(&bus))
        .workers()
        .configure(|c| {
            c.replica = "door".into();
            c.lease_ttl = Duration::from_secs(1);
        })
        .build()
        .expect("front door");
    let stop = CancellationToken::new();
    let workers: Vec<Arc<Worker>> = (0..workers)
        .map(|i| {
            let agent = ConformanceAgent {
                resubscribe_delay: Duration::from_millis(200),
            };
            let config = WorkerConfig {
                replica: format!("worker{i}"),
                lease_ttl: Duration::from_secs(1),
                concurrency: 4,
                ..WorkerConfig::default()
            };
            Arc::new(
                Worker::with_config(
                    Arc::clone(&bus),
                    Arc::clone(&store),
                    Arc::new(agent),
                    config,
                )
                .expect("worker"),
            )
        })
        .collect();
    let running: Vec<_> = workers
        .iter()
        .map(|w| {
            let (w, stop) = (Arc::clone(w), stop.clone());
            tokio::spawn(async move { w.run(stop).await })
        })
        .collect();
    tokio::time::timeout(
        Duration::from_secs(60),
        test(Cluster {
            door,
            workers,
            stop: stop.clone(),
        }),
    )
    .await
    .expect("the test ends in time");
    stop.cancel();
    for worker in running {
        worker.await.expect("join").expect("the worker ran");
    }
    drop(scratch);
}

/// Waits (with [`DEADLINE`]) until `done`.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < DEADLINE,
            "{what}: not within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_front_door_sends_run_on_workers_blocking_streaming_and_multi_turn() {
    with_cluster(2, |c| async move {
        let done = task_of(
            c.door
                .send_message(&ctx(), send("tck-complete-task", None, true))
                .await
                .expect("send"),
        );
        assert_eq!(done.state(), TaskState::Completed, "{done:?}");
        assert_eq!(c.door.running_executions(), 0, "no agent ran here");

        // A stream on the front door follows the worker's events to the end.
        let stream = c
            .door
            .send_streaming_message(&ctx(), send("tck-long-running", None, true))
            .await
            .expect("stream");
        let events: Vec<_> = tokio::time::timeout(DEADLINE, stream.collect::<Vec<_>>())
            .await
            .expect("the stream ends");
        let states: Vec<TaskState> = events
            .iter()
            .filter_map(|e| e.as_ref().expect("event").event.state())
            .collect();
        assert_eq!(states.first(), Some(&TaskState::Submitted), "{states:?}");
        assert_eq!(states.last(), Some(&TaskState::Completed), "{states:?}");
        let sequences: Vec<u64> = events
            .iter()
            .filter_map(|e| e.as_ref().expect("event").sequence)
            .collect();
        assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");

        // A multi-turn conversation: the follow-up is published as work too, and the
        // worker sees the task as it was before the follow-up.
        let first = task_of(
            c.door
                .send_message(&ctx(), send("tck-multi-turn", None, true))
                .await
                .expect("send"),
        );
        assert_eq!(first.state(), TaskState::InputRequired, "{first:?}");
        let second = task_of(
            c.door
                .send_message(&ctx(), send("more", Some(&first.id), true))
                .await
                .expect("follow-up"),
        );
        assert_eq!(second.state(), TaskState::Completed, "{second:?}");
        let text = format!("{:?}", second.status);
        assert!(text.contains("after 2 turns"), "{text}");
        drop(c.workers);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_on_the_front_door_stops_the_worker() {
    with_cluster(1, |c| async move {
        let task = task_of(
            c.door
                .send_message(&ctx(), send("tck-cancel", None, false))
                .await
                .expect("send"),
        );
        let worker = Arc::clone(&c.workers[0]);
        until("the worker runs the task", || {
            worker.running_executions() == 1
        })
        .await;
        let started = Instant::now();
        let canceled = c
            .door
            .cancel_task(
                &ctx(),
                CancelTaskRequest {
                    id: task.id.clone(),
                    ..CancelTaskRequest::default()
                },
            )
            .await
            .expect("cancel");
        assert_eq!(canceled.state(), TaskState::Canceled, "{canceled:?}");
        until("the worker stops the execution", || {
            worker.running_executions() == 0
        })
        .await;
        eprintln!(
            "cancel on the front door stopped the worker in {:?}",
            started.elapsed()
        );
        let stored = c
            .door
            .get_task(
                &ctx(),
                harbor_a2a::GetTaskRequest {
                    id: task.id.clone(),
                    ..Default::default()
                },
            )
            .await
            .expect("get");
        assert_eq!(
            stored.state(),
            TaskState::Canceled,
            "the worker wrote nothing after"
        );
        c.stop.cancel();
    })
    .await;
}

#[test]
fn a_front_door_needs_a_bus_and_leases() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _guard = runtime.enter();
    let refused = DefaultHandler::builder(card(), Arc::new(Forbidden))
        .workers()
        .build()
        .expect_err("a memory store has no leases and there is no bus");
    assert!(refused.message().contains("front door"), "{refused}");
}
