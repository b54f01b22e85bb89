//! A stream cut mid-way is picked up again: our client reattaches through `SubscribeToTask`
//! with `Last-Event-ID`, and the real server replays exactly what was missed from the
//! task's log. Every event arrives once, in order, on both SSE bindings.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::serve::ListenerExt;
use futures::StreamExt;
use harbor_a2a::{
    A2aError, AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Artifact, Message, Role,
    SendMessageRequest, StreamResponse, TaskState,
};
use harbor_client::{Binding, ClientConfig};
use harbor_conformance::bus::faults::CutProxy;
use harbor_distributed::{MemoryTaskStore, Owner, Peer, RemoteTransport, TaskLog, TaskStore};
use harbor_server::http::{HttpConfig, router};
use harbor_server::{AgentExecutor, DefaultHandler, EventSink, RequestContext, text_part};
use tokio::sync::Semaphore;

/// Artifact chunks the agent emits, one per permit the test gives.
const CHUNKS: usize = 10;

/// WORKING, then [`CHUNKS`] chunks of one artifact, each when the test allows it, then
/// COMPLETED.
struct GatedAgent {
    permits: Arc<Semaphore>,
}

#[async_trait]
impl AgentExecutor for GatedAgent {
    async fn execute(&self, _ctx: RequestContext, events: EventSink) -> Result<(), A2aError> {
        events.working().await?;
        for i in 0..CHUNKS {
            self.permits
                .acquire()
                .await
                .map_err(|e| A2aError::internal(e.to_string()))?
                .forget();
            let chunk = Artifact {
                artifact_id: "out".into(),
                parts: vec![text_part(&format!("chunk-{i} "))],
                ..Artifact::default()
            };
            events.artifact(chunk, i > 0, i + 1 == CHUNKS).await?;
        }
        events.complete(None).await
    }
}

struct Harness {
    proxy: CutProxy,
    peer: Peer,
    store: Arc<MemoryTaskStore>,
    permits: Arc<Semaphore>,
    _server: tokio::task::JoinHandle<()>,
}

/// The real server behind a cutting proxy; the card sends clients through the proxy.
async fn harness() -> Harness {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let proxy = CutProxy::start(listener.local_addr().expect("address"))
        .await
        .expect("proxy");
    let base = format!("http://{}", proxy.addr());
    let interface = |path: &str, binding: &str| AgentInterface {
        url: format!("{base}{path}"),
        protocol_binding: binding.into(),
        tenant: String::new(),
        protocol_version: "1.0".into(),
    };
    let card = AgentCard {
        name: "gated".into(),
        description: "emits chunks when told".into(),
        version: "1".into(),
        supported_interfaces: vec![
            interface("/a2a/jsonrpc", "JSONRPC"),
            interface("/a2a/rest", "HTTP+JSON"),
        ],
        capabilities: Some(AgentCapabilities {
            streaming: Some(true),
            ..AgentCapabilities::default()
        }),
        default_input_modes: vec!["text/plain".into()],
        default_output_modes: vec!["text/plain".into()],
        skills: vec![AgentSkill {
            id: "gated".into(),
            name: "gated".into(),
            description: "chunks".into(),
            tags: vec!["test".into()],
            ..AgentSkill::default()
        }],
        ..AgentCard::default()
    };
    let permits = Arc::new(Semaphore::new(0));
    let store = Arc::new(MemoryTaskStore::new());
    let agent = GatedAgent {
        permits: Arc::clone(&permits),
    };
    let handler = DefaultHandler::builder(card, Arc::new(agent))
        .store(Arc::clone(&store) as Arc<dyn TaskLog>)
        .build()
        .expect("handler");
    let app = router(Arc::new(handler), &HttpConfig::default());
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Harness {
        proxy,
        peer: Peer::new(base),
        store,
        permits,
        _server: server,
    }
}

fn request() -> SendMessageRequest {
    SendMessageRequest {
        message: Some(Message {
            message_id: "resume-me".into(),
            role: Role::User as i32,
            parts: vec![text_part("go")],
            ..Message::default()
        }),
        ..SendMessageRequest::default()
    }
}

/// Waits until the task has `version` entries in the store.
async fn wait_for_version(store: &MemoryTaskStore, task_id: &str, version: u64) {
    let owner = Owner {
        tenant: "default".into(),
        user: "anonymous".into(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stored = store
            .get(&owner, task_id)
            .await
            .expect("the task is stored");
        if stored.version >= version {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the task stayed at version {} (waiting for {version})",
            stored.version
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn cut_stream_resumes_without_gap_or_duplicate(binding: Binding) {
    let h = harness().await;
    let transport = support::transport(binding, |config: &mut ClientConfig| {
        config.resume.initial_backoff = Duration::from_millis(10);
        config.resume.max_attempts = 10;
    });
    let mut stream = transport
        .send_streaming_message(&h.peer, &support::ctx(), request())
        .await
        .expect("stream opens");
    let mut seen: Vec<StreamResponse> = Vec::new();
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an event in time")
            .map(|event| event.expect("a good event"))
    };
    // The task, WORKING and three chunks arrive on the first connection.
    h.permits.add_permits(3);
    while seen.len() < 5 {
        seen.push(next().await.expect("the stream goes on"));
    }
    let task_id = match &seen[0].payload {
        Some(harbor_a2a::stream_response::Payload::Task(task)) => task.id.clone(),
        other => panic!("the first event is the task, got {other:?}"),
    };
    // Cut it, and let three more chunks be written while the client is away.
    h.proxy.cut();
    h.permits.add_permits(3);
    wait_for_version(&h.store, &task_id, 8).await;
    // Then the rest, which the reattached stream follows live.
    h.permits.add_permits(CHUNKS - 6);
    while let Some(event) = next().await {
        seen.push(event);
    }
    let owner = Owner {
        tenant: "default".into(),
        user: "anonymous".into(),
    };
    let log: Vec<StreamResponse> = h
        .store
        .read_log(&owner, &task_id, 0, 1000)
        .await
        .expect("the log")
        .into_iter()
        .map(|entry| entry.event)
        .collect();
    assert_eq!(
        log.len(),
        2 + CHUNKS + 1,
        "task, WORKING, chunks, COMPLETED"
    );
    assert_eq!(
        seen, log,
        "{binding:?}: the client saw every logged event once, in order"
    );
    assert_eq!(
        seen.last().and_then(StreamResponse::state),
        Some(TaskState::Completed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_rpc_stream_cut_mid_way_resumes_with_last_event_id() {
    cut_stream_resumes_without_gap_or_duplicate(Binding::JsonRpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_json_stream_cut_mid_way_resumes_with_last_event_id() {
    cut_stream_resumes_without_gap_or_duplicate(Binding::HttpJson).await;
}
