//! Two handlers (two replicas, in one process) on one PostgreSQL store with execution
//! leases (at `HARBOR_POSTGRES_URL`, in a schema of the test's own; skipped without it): a
//! retry-safe agent's task left by a replica that stopped is run again by the other. (The
//! fencing of a lease taken over is a store conformance case; a SIGKILLed replica's task
//! ending FAILED is `harbor`'s `serve_replicas` and `serve_cluster` tests.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use harbor_a2a::{
    A2aError, AgentCapabilities, AgentCard, GetTaskRequest, Message, Part,
    SendMessageConfiguration, SendMessageRequest, TaskState, send_message_response::Payload,
};
use harbor_distributed::{A2aHandler, CallContext, Identity};
use harbor_postgres::{PostgresTaskStore, StoreOptions};
use harbor_server::{AgentExecutor, DefaultHandler, EventSink, RequestContext};
use harbor_test_support::cards;
use harbor_test_support::postgres::Scratch;

/// How long the other replica may take to run the task again (its lease lives 400 ms).
const DEADLINE: Duration = Duration::from_secs(20);

fn card() -> AgentCard {
    cards::card(
        "leases",
        "test",
        cards::NOWHERE,
        AgentCapabilities::default(),
    )
}

/// Safe to retry: its first run works until it is stopped, any later one completes.
#[derive(Default)]
struct Retried {
    runs: AtomicUsize,
}

#[async_trait]
impl AgentExecutor for Retried {
    async fn execute(&self, ctx: RequestContext, events: EventSink) -> Result<(), A2aError> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        events.working().await?;
        if run == 1 {
            ctx.cancel.cancelled().await;
            return Ok(());
        }
        events.complete(Some(&format!("done by run {run}"))).await
    }

    fn retry_safe(&self) -> bool {
        true
    }
}

fn ctx() -> CallContext {
    CallContext::new(Identity::new("t", "u", "s").expect("identity"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_safe_task_left_by_a_stopped_replica_runs_again_on_another() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let shared = scratch.url.clone();
    let agent = Arc::new(Retried::default());
    let replica = |name: &'static str| {
        let (shared, agent) = (shared.clone(), Arc::clone(&agent));
        async move {
            let store = PostgresTaskStore::connect(&shared, StoreOptions::default())
                .await
                .expect("store");
            DefaultHandler::builder(card(), agent)
                .store(Arc::new(store))
                .configure(|c| {
                    c.replica = name.into();
                    c.lease_ttl = Duration::from_millis(400);
                })
                .build()
                .expect("handler")
        }
    };
    let (a, b) = (replica("a").await, replica("b").await);

    let request = SendMessageRequest {
        message: Some(Message::user("m1", [Part::text("work")])),
        configuration: Some(SendMessageConfiguration {
            return_immediately: true,
            ..SendMessageConfiguration::default()
        }),
        ..SendMessageRequest::default()
    };
    let Some(Payload::Task(task)) = a.send_message(&ctx(), request).await.expect("send").payload
    else {
        panic!("a task");
    };
    // A stops; a retry-safe agent's task is left WORKING for someone to run again.
    a.shutdown(Duration::ZERO).await;
    let started = Instant::now();
    let done = loop {
        let get = GetTaskRequest {
            id: task.id.clone(),
            ..GetTaskRequest::default()
        };
        let now = b.get_task(&ctx(), get).await.expect("get on B");
        if now.state() == TaskState::Completed {
            break now;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "B did not run the task again within {DEADLINE:?}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let said = done
        .status
        .and_then(|s| s.message)
        .map(|m| format!("{:?}", m.parts))
        .unwrap_or_default();
    assert!(said.contains("done by run 2"), "{said}");
    assert_eq!(
        agent.runs.load(Ordering::SeqCst),
        2,
        "one run on A, one on B"
    );
    eprintln!("re-run on B {:?} after A stopped", started.elapsed());
    b.shutdown(Duration::ZERO).await;
    drop(scratch);
}
