//! The handler over the task log: every task is the projection of its log, streams carry
//! the log's sequence numbers, and `Last-Event-ID` resumes exactly after one of them.

use std::sync::Arc;

use futures::StreamExt;
use harbor_a2a::{
    AgentCard, ErrorKind, Message, Part, SendMessageRequest, StreamResponse,
    SubscribeToTaskRequest, Task, TaskState, stream_response::Payload,
};
use harbor_distributed::store::replay;
use harbor_distributed::{
    A2aHandler, CallContext, HandlerStream, Identity, LAST_EVENT_ID, MemoryTaskStore, StreamEvent,
    TaskLog, TaskStore,
};
use harbor_embedded::{Embedded, EmbeddedConfig, Retention, StoreConfig};
use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_test_support::cards;

fn card() -> AgentCard {
    cards::card("log", "test", cards::NOWHERE, cards::streaming())
}

fn handler(store: Arc<dyn TaskLog>) -> DefaultHandler {
    DefaultHandler::builder(card(), Arc::new(ConformanceAgent::default()))
        .store(store)
        .build()
        .expect("handler")
}

fn ctx() -> CallContext {
    CallContext::new(Identity::new("t", "u", "s").expect("identity"))
}

fn resuming(after: &str) -> CallContext {
    let mut ctx = ctx();
    ctx.headers.insert(LAST_EVENT_ID.into(), after.into());
    ctx
}

fn send(prefix: &str, task_id: Option<&str>) -> SendMessageRequest {
    let mut message = Message::user(format!("{prefix}-{}", uuid()), [Part::text("hi")]);
    if let Some(id) = task_id {
        message.task_id = id.into();
    }
    SendMessageRequest {
        message: Some(message),
        ..SendMessageRequest::default()
    }
}

fn uuid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed).to_string()
}

async fn collect(stream: HandlerStream) -> Vec<StreamEvent> {
    stream
        .map(|item| item.expect("a good event"))
        .collect()
        .await
}

fn task_of(events: &[StreamEvent]) -> Task {
    match &events[0].event.payload {
        Some(Payload::Task(task)) => task.clone(),
        other => panic!("the first event is the task, got {other:?}"),
    }
}

fn subscribe(id: &str) -> SubscribeToTaskRequest {
    SubscribeToTaskRequest {
        id: id.into(),
        ..SubscribeToTaskRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_events_carry_the_log_sequence_and_the_log_replays_to_the_task() {
    let store = Arc::new(MemoryTaskStore::new());
    let handler = handler(store.clone());
    let events = collect(
        handler
            .send_streaming_message(&ctx(), send("tck-stream-artifact-chunked", None))
            .await
            .expect("stream"),
    )
    .await;
    let sequences: Vec<Option<u64>> = events.iter().map(|e| e.sequence).collect();
    let want: Vec<Option<u64>> = (1..=events.len() as u64).map(Some).collect();
    assert_eq!(
        sequences, want,
        "a new task's stream is its log from entry 1"
    );
    let task = task_of(&events);
    let owner = ctx().identity.owner();
    let log = store.read_log(&owner, &task.id, 0, 100).await.expect("log");
    let streamed: Vec<&StreamResponse> = events.iter().map(|e| &e.event).collect();
    let logged: Vec<&StreamResponse> = log.iter().map(|e| &e.event).collect();
    assert_eq!(streamed, logged, "the stream is the log");
    let stored = store.get(&owner, &task.id).await.expect("stored");
    assert_eq!(stored.version, log.len() as u64);
    assert_eq!(
        replay(logged),
        stored.task,
        "the log replays to the stored task"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_is_logged_but_not_streamed_and_resume_skips_exactly_what_was_seen() {
    let store = Arc::new(MemoryTaskStore::new());
    let handler = handler(store.clone());
    let first = collect(
        handler
            .send_streaming_message(&ctx(), send("tck-input-required", None))
            .await
            .expect("stream"),
    )
    .await;
    let task = task_of(&first);
    let last = first.last().and_then(|e| e.sequence).expect("numbered");
    let follow = collect(
        handler
            .send_streaming_message(&ctx(), send("tck-complete-task", Some(&task.id)))
            .await
            .expect("follow-up stream"),
    )
    .await;
    // The follow-up stream starts with the task as of the user's message (logged as entry
    // last + 1, never streamed itself), then the agent's events.
    assert_eq!(follow[0].sequence, Some(last + 1));
    assert_eq!(
        follow.iter().filter_map(|e| e.event.state()).next_back(),
        Some(TaskState::Completed)
    );
    let owner = ctx().identity.owner();
    let log = store.read_log(&owner, &task.id, 0, 100).await.expect("log");
    assert!(
        matches!(&log[last as usize].event.payload, Some(Payload::Message(m)) if m.role == harbor_a2a::Role::User as i32),
        "entry {} is the user's follow-up: {:?}",
        last + 1,
        log[last as usize]
    );
    let stored = store.get(&owner, &task.id).await.expect("stored");
    assert_eq!(replay(log.iter().map(|e| &e.event)), stored.task);
    // Resuming after the first stream's last event replays what followed (the user's
    // message excepted), then closes: the task is terminal now.
    let resumed = collect(
        handler
            .subscribe_to_task(&resuming(&last.to_string()), subscribe(&task.id))
            .await
            .expect("a resume of a finished task replays"),
    )
    .await;
    let want: Vec<StreamEvent> = log[last as usize + 1..]
        .iter()
        .map(|e| StreamEvent::logged(e.event.clone(), e.sequence))
        .collect();
    assert_eq!(resumed, want);
    // Resuming after the last entry: nothing more, and the stream closes.
    let nothing = collect(
        handler
            .subscribe_to_task(&resuming(&stored.version.to_string()), subscribe(&task.id))
            .await
            .expect("resume at the end"),
    )
    .await;
    assert!(nothing.is_empty(), "{nothing:?}");
    // Without Last-Event-ID a finished task still refuses a subscription.
    let refused = handler.subscribe_to_task(&ctx(), subscribe(&task.id)).await;
    assert_eq!(
        refused.err().map(|e| e.kind()),
        Some(ErrorKind::UnsupportedOperation)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_last_event_id_is_invalid_params() {
    let handler = handler(Arc::new(MemoryTaskStore::new()));
    let first = collect(
        handler
            .send_streaming_message(&ctx(), send("tck-input-required", None))
            .await
            .expect("stream"),
    )
    .await;
    let task = task_of(&first);
    for bad in ["abc", "-1", "99999", &"9".repeat(500)] {
        let refused = handler
            .subscribe_to_task(&resuming(bad), subscribe(&task.id))
            .await;
        let error = refused.err().expect("refused");
        assert_eq!(error.kind(), ErrorKind::InvalidParams, "{bad}: {error:?}");
        assert!(
            error.message().len() < 300,
            "the error does not echo a long id: {}",
            error.message()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_into_a_compacted_log_gets_the_task_instead() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = EmbeddedConfig {
        store: StoreConfig {
            retention: Retention {
                task: None,
                log: Some(std::time::Duration::from_secs(1)),
            },
            ..StoreConfig::default()
        },
        ..EmbeddedConfig::new(dir.path())
    };
    let engine = Embedded::open(config).expect("open");
    let store = engine.task_store();
    let handler = handler(store.clone());
    let events = collect(
        handler
            .send_streaming_message(&ctx(), send("tck-stream-001", None))
            .await
            .expect("stream"),
    )
    .await;
    let task = task_of(&events);
    let compacted = store
        .compact_logs(std::time::SystemTime::now() + std::time::Duration::from_secs(60))
        .await
        .expect("compact");
    assert_eq!(compacted, 1);
    let resumed = collect(
        handler
            .subscribe_to_task(&resuming("1"), subscribe(&task.id))
            .await
            .expect("resume"),
    )
    .await;
    let owner = ctx().identity.owner();
    let stored = store.get(&owner, &task.id).await.expect("stored");
    assert_eq!(
        resumed,
        [StreamEvent::logged(
            StreamResponse::from(stored.task),
            stored.version
        )],
        "the entries are gone: the task as it ended stands in for them"
    );
}

/// Two handlers on one store and one bus, as two replicas would be: a task that one of
/// them runs is followed live by a subscriber of the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_of_another_process_follows_the_task_through_the_bus() {
    use harbor_distributed::memory::{MemoryBus, MemoryBusConfig};
    let store = Arc::new(MemoryTaskStore::new());
    let bus: Arc<dyn harbor_distributed::MessageBus> =
        Arc::new(MemoryBus::new(MemoryBusConfig::default()));
    let replica = |name: &str| {
        let agent = ConformanceAgent {
            resubscribe_delay: std::time::Duration::from_millis(300),
        };
        DefaultHandler::builder(card(), Arc::new(agent))
            .store(store.clone())
            .bus(Arc::clone(&bus))
            .configure(|c| c.replica = name.into())
            .build()
            .expect("handler")
    };
    let (a, b) = (replica("replica-a"), replica("replica-b"));
    let mut request = send("test-resubscribe-message-id", None);
    request.configuration = Some(harbor_a2a::SendMessageConfiguration {
        return_immediately: true,
        ..Default::default()
    });
    let started = match a.send_message(&ctx(), request).await.expect("send").payload {
        Some(harbor_a2a::send_message_response::Payload::Task(task)) => task,
        other => panic!("a task, got {other:?}"),
    };
    // B subscribes while A's agent is still at work, and resumes a second stream from
    // entry 1: both follow it to the end through A's notices on the bus.
    let live = b
        .subscribe_to_task(&ctx(), subscribe(&started.id))
        .await
        .expect("subscribe on the other replica");
    let resumed = b
        .subscribe_to_task(&resuming("1"), subscribe(&started.id))
        .await
        .expect("resume on the other replica");
    let (live, resumed) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        futures::future::join(collect(live), collect(resumed)),
    )
    .await
    .expect("both streams end with the task");
    assert_eq!(
        live.last().and_then(|e| e.event.state()),
        Some(TaskState::Completed),
        "{live:?}"
    );
    let owner = ctx().identity.owner();
    let log = store
        .read_log(&owner, &started.id, 0, 100)
        .await
        .expect("log");
    let want: Vec<StreamEvent> = log[1..]
        .iter()
        .map(|e| StreamEvent::logged(e.event.clone(), e.sequence))
        .collect();
    assert_eq!(resumed, want, "the resumed stream is the log after entry 1");
    let sequences: Vec<u64> = live.iter().filter_map(|e| e.sequence).collect();
    assert!(
        sequences.windows(2).all(|w| w[0] < w[1])
            && sequences.last() == Some(&log.len().try_into().expect("len")),
        "{sequences:?}"
    );
}

/// A store that counts appends, to see how many durable writes a request makes.
struct Counting {
    inner: MemoryTaskStore,
    appends: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl TaskStore for Counting {
    async fn create(
        &self,
        o: &harbor_distributed::Owner,
        t: Task,
    ) -> Result<u64, harbor_distributed::Error> {
        self.inner.create(o, t).await
    }
    async fn get(
        &self,
        o: &harbor_distributed::Owner,
        id: &str,
    ) -> Result<harbor_distributed::StoredTask, harbor_distributed::Error> {
        self.inner.get(o, id).await
    }
    async fn update(
        &self,
        o: &harbor_distributed::Owner,
        t: Task,
        v: u64,
    ) -> Result<u64, harbor_distributed::Error> {
        self.inner.update(o, t, v).await
    }
    async fn list(
        &self,
        o: &harbor_distributed::Owner,
        q: &harbor_distributed::TaskQuery,
    ) -> Result<harbor_distributed::TaskPage, harbor_distributed::Error> {
        self.inner.list(o, q).await
    }
    async fn put_push_config(
        &self,
        o: &harbor_distributed::Owner,
        c: harbor_a2a::TaskPushNotificationConfig,
    ) -> Result<(), harbor_distributed::Error> {
        self.inner.put_push_config(o, c).await
    }
    async fn get_push_config(
        &self,
        o: &harbor_distributed::Owner,
        t: &str,
        id: &str,
    ) -> Result<harbor_a2a::TaskPushNotificationConfig, harbor_distributed::Error> {
        self.inner.get_push_config(o, t, id).await
    }
    async fn list_push_configs(
        &self,
        o: &harbor_distributed::Owner,
        t: &str,
    ) -> Result<Vec<harbor_a2a::TaskPushNotificationConfig>, harbor_distributed::Error> {
        self.inner.list_push_configs(o, t).await
    }
    async fn delete_push_config(
        &self,
        o: &harbor_distributed::Owner,
        t: &str,
        id: &str,
    ) -> Result<(), harbor_distributed::Error> {
        self.inner.delete_push_config(o, t, id).await
    }
}

#[async_trait::async_trait]
impl TaskLog for Counting {
    async fn append(
        &self,
        o: &harbor_distributed::Owner,
        t: &Task,
        v: u64,
        e: &[StreamResponse],
    ) -> Result<u64, harbor_distributed::Error> {
        self.appends
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.append(o, t, v, e).await
    }
    async fn read_log(
        &self,
        o: &harbor_distributed::Owner,
        id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<harbor_distributed::LogEntry>, harbor_distributed::Error> {
        self.inner.read_log(o, id, after, limit).await
    }
    async fn active_tasks(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<Vec<(harbor_distributed::Owner, String)>, harbor_distributed::Error> {
        self.inner.active_tasks(after, limit).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echo_send_is_one_durable_write() {
    let store = Arc::new(Counting {
        inner: MemoryTaskStore::new(),
        appends: std::sync::atomic::AtomicUsize::new(0),
    });
    let handler = handler(store.clone());
    for i in 0..20 {
        let answer = handler
            .send_message(&ctx(), send("echo", None))
            .await
            .expect("send");
        let Some(harbor_a2a::send_message_response::Payload::Task(task)) = answer.payload else {
            panic!("a task");
        };
        assert_eq!(task.state(), TaskState::Completed);
        assert_eq!(
            store.appends.load(std::sync::atomic::Ordering::SeqCst),
            i + 1,
            "the task, its entries and the answer's state cost one append"
        );
    }
}

#[async_trait::async_trait]
impl harbor_distributed::PushOutbox for Counting {
    async fn track(
        &self,
        o: &harbor_distributed::Owner,
        c: &harbor_a2a::TaskPushNotificationConfig,
        after: u64,
    ) -> Result<(), harbor_distributed::Error> {
        self.inner.track(o, c, after).await
    }
    async fn cursor(
        &self,
        o: &harbor_distributed::Owner,
        t: &str,
        c: &str,
    ) -> Result<Option<harbor_distributed::PushCursor>, harbor_distributed::Error> {
        self.inner.cursor(o, t, c).await
    }
    async fn save(
        &self,
        c: &harbor_distributed::PushCursor,
    ) -> Result<(), harbor_distributed::Error> {
        self.inner.save(c).await
    }
    async fn live_cursors(
        &self,
        a: Option<(&str, &str)>,
        l: usize,
    ) -> Result<Vec<harbor_distributed::PushCursor>, harbor_distributed::Error> {
        self.inner.live_cursors(a, l).await
    }
    async fn dead_letters(
        &self,
        a: Option<(&str, &str)>,
        l: usize,
    ) -> Result<Vec<harbor_distributed::PushCursor>, harbor_distributed::Error> {
        self.inner.dead_letters(a, l).await
    }
}
