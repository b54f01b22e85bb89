//! One request, one trace: a SendMessage that arrives with a W3C `traceparent` crosses
//! HTTP, the bus and a push webhook POST, and a test OTLP receiver (a tonic server on the
//! official `opentelemetry-proto` definitions) gets its spans with the right parents. A
//! gRPC call's metadata is continued the same way.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::{Value, json};

mod support;

use support::serve::Server;

/// How long the spans may take to arrive (the exporter sends a batch every 5 s).
const DEADLINE: Duration = Duration::from_secs(60);

/// The caller's trace and span: what the server's spans must continue.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";
/// The trace of the gRPC call.
const GRPC_TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

#[derive(Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<Span>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().expect("lock");
        for resource in request.into_inner().resource_spans {
            for scope in resource.scope_spans {
                spans.extend(scope.spans);
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn free_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_send_is_one_trace_across_http_the_bus_and_a_push_post() {
    // The OTLP receiver.
    let receiver = Receiver::default();
    let otlp = free_address();
    let service = TraceServiceServer::new(receiver.clone());
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(service)
            .serve(otlp)
            .await;
    });
    // The webhook, recording the traceparent of each POST.
    let hook_parents: Arc<Mutex<Vec<String>>> = Arc::default();
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook_address = hook.local_addr().expect("address");
    let seen = Arc::clone(&hook_parents);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap| {
            let seen = Arc::clone(&seen);
            async move {
                let parent = headers
                    .get("traceparent")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none")
                    .to_owned();
                seen.lock().expect("lock").push(parent);
                StatusCode::OK
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(hook, app).await;
    });

    let endpoint = format!("--otlp-endpoint=http://{otlp}");
    let server = Server::start(&["--bus=embedded", "--allow-private-webhooks", &endpoint]);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {
        "message": {"messageId": uuid::Uuid::new_v4().to_string(), "role": "ROLE_USER",
                    "parts": [{"text": "traced"}]},
        "configuration": {"taskPushNotificationConfig": {
            "id": "hook", "url": format!("http://{hook_address}/hook")}},
    }});
    let answer: Value = reqwest::Client::new()
        .post(&server.jsonrpc_url)
        .header("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}-01"))
        .json(&body)
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    let task_id = answer["result"]["task"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a task: {answer}"))
        .to_owned();
    // The same task read over gRPC, in another trace carried by the call's metadata.
    let grpc = server.grpc_url.clone().expect("a gRPC interface");
    let channel = tonic::transport::Channel::from_shared(format!("http://{grpc}"))
        .expect("URL")
        .connect()
        .await
        .expect("connect");
    let mut request = tonic::Request::new(harbor_a2a::GetTaskRequest {
        id: task_id,
        ..Default::default()
    });
    let metadata = request.metadata_mut();
    metadata.insert("a2a-version", "1.0".parse().expect("value"));
    metadata.insert(
        "traceparent",
        format!("00-{GRPC_TRACE_ID}-{PARENT_ID}-01")
            .parse()
            .expect("value"),
    );
    harbor_a2a::pb::a2a_service_client::A2aServiceClient::new(channel)
        .get_task(request)
        .await
        .expect("GetTask over gRPC");

    // Wait for: the webhook's POST, and the spans of the RPC, the bus hop and the POST.
    let deadline = Instant::now() + DEADLINE;
    let ours = |spans: &[Span], name: &str| -> Vec<Span> {
        spans
            .iter()
            .filter(|s| s.name == name && hex(&s.trace_id) == TRACE_ID)
            .cloned()
            .collect()
    };
    let (rpc, publish, deliver, post, spans) = loop {
        let spans = receiver.spans.lock().expect("lock").clone();
        let found = (
            ours(&spans, "a2a.rpc"),
            ours(&spans, "bus.publish"),
            ours(&spans, "bus.deliver"),
            ours(&spans, "push.post"),
        );
        let grpc_rpc = spans
            .iter()
            .any(|s| s.name == "a2a.rpc" && hex(&s.trace_id) == GRPC_TRACE_ID);
        if !found.0.is_empty()
            && grpc_rpc
            && !found.1.is_empty()
            && !found.2.is_empty()
            && !found.3.is_empty()
            && !hook_parents.lock().expect("lock").is_empty()
        {
            break (found.0, found.1, found.2, found.3, spans);
        }
        assert!(
            Instant::now() < deadline,
            "spans of trace {TRACE_ID} missing: rpc {} publish {} deliver {} post {}; webhook saw {:?}; names received: {:?}\nserver output:\n{}",
            found.0.len(),
            found.1.len(),
            found.2.len(),
            found.3.len(),
            hook_parents.lock().expect("lock"),
            spans.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            server.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The front doors continue the caller's span: HTTP headers and gRPC metadata.
    assert_eq!(rpc.len(), 1);
    assert_eq!(hex(&rpc[0].parent_span_id), PARENT_ID, "the RPC's parent");
    let grpc_rpc: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == "a2a.rpc" && hex(&s.trace_id) == GRPC_TRACE_ID)
        .collect();
    assert_eq!(grpc_rpc.len(), 1);
    assert_eq!(
        hex(&grpc_rpc[0].parent_span_id),
        PARENT_ID,
        "the gRPC call's parent"
    );
    // Every span of this trace descends from the RPC (through their parents).
    let by_id = |id: &[u8]| spans.iter().find(|s| s.span_id == id).cloned();
    let descends_from_rpc = |span: &Span| {
        let mut at = span.clone();
        for _ in 0..32 {
            if at.span_id == rpc[0].span_id {
                return true;
            }
            match by_id(&at.parent_span_id) {
                Some(parent) => at = parent,
                None => return false,
            }
        }
        false
    };
    // The consumer's span is a child of a publisher's.
    for d in &deliver {
        assert!(
            publish.iter().any(|p| p.span_id == d.parent_span_id),
            "bus.deliver's parent {} is no bus.publish",
            hex(&d.parent_span_id)
        );
    }
    for p in &publish {
        assert!(
            descends_from_rpc(p),
            "bus.publish {} outside the RPC",
            hex(&p.span_id)
        );
    }
    // The webhook got the context of a push.post span of the trace, itself under the RPC.
    let parents = hook_parents.lock().expect("lock").clone();
    let first = parents[0].split('-').collect::<Vec<_>>();
    assert_eq!(first.len(), 4, "{parents:?}");
    assert_eq!(first[1], TRACE_ID, "the webhook's trace");
    let posted = post
        .iter()
        .find(|p| hex(&p.span_id) == first[2])
        .unwrap_or_else(|| panic!("no push.post span {} among {post:?}", first[2]));
    assert!(descends_from_rpc(posted), "push.post outside the RPC");
}
