//! The operator endpoints of the admin router: `/healthz`, `/readyz` (false once the
//! server drains) and `/metrics` (the Prometheus series a known workload leaves).
//!
//! The metrics test installs the process's global recorder: it is the only test here that
//! looks at metrics, so the counts it reads are its own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use futures::StreamExt;
use harbor_a2a::AgentCard;
use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_server::http::HttpConfig;
use harbor_test_support::cards;
use serde_json::{Value, json};
use tower::ServiceExt;

fn card() -> AgentCard {
    cards::card("ops", "test agent", cards::NOWHERE, cards::streaming())
}

fn handler() -> DefaultHandler {
    DefaultHandler::builder(card(), Arc::new(ConformanceAgent::default()))
        .build()
        .expect("handler")
}

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, String) {
    let mut request = Request::builder().method(method).uri(uri);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = app
        .clone()
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn send(method: &str, id: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": {"message": {
        "messageId": id, "role": "ROLE_USER", "parts": [{"text": "hello"}]
    }}})
}

/// The value of the series `name{labels}` (labels in the exporter's order), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test]
async fn health_is_ok_and_readiness_turns_false_while_draining() {
    let handler = handler();
    let admin = harbor_server::admin::router(handler.clone());
    assert_eq!(
        call(&admin, Method::GET, "/healthz", None).await,
        (StatusCode::OK, "ok\n".to_owned())
    );
    let (status, body) = call(&admin, Method::GET, "/readyz", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["store"], "ok");
    assert_eq!(body["draining"], false);
    assert_eq!(body["bus"], Value::Null, "no bus configured");
    // No metrics were asked for: no /metrics route.
    assert_eq!(
        call(&admin, Method::GET, "/metrics", None).await.0,
        StatusCode::NOT_FOUND
    );

    handler.shutdown(Duration::ZERO).await;
    let (status, body) = call(&admin, Method::GET, "/readyz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["draining"], true);
    assert_eq!(body["ready"], false);
    assert_eq!(
        call(&admin, Method::GET, "/healthz", None).await.0,
        StatusCode::OK,
        "alive while draining"
    );
}

#[tokio::test]
async fn readiness_reports_the_bus_it_follows() {
    let bus = Arc::new(harbor_distributed::memory::MemoryBus::new(
        Default::default(),
    ));
    let handler = DefaultHandler::builder(card(), Arc::new(ConformanceAgent::default()))
        .bus(bus)
        .build()
        .expect("handler");
    let admin = harbor_server::admin::router(handler);
    // The follower subscribes in the background: ready once it has.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = call(&admin, Method::GET, "/readyz", None).await;
        if status == StatusCode::OK {
            let body: Value = serde_json::from_str(&body).expect("json");
            assert_eq!(body["bus"], "ok");
            break;
        }
        assert!(Instant::now() < deadline, "never ready: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn metrics_count_requests_by_rpc_binding_and_outcome_and_open_streams() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder of this process");
    let render: harbor_server::admin::Metrics = Arc::new(move || {
        let text = recorder.render();
        Box::pin(async move { text })
    });
    harbor_server::telemetry::describe();
    let handler = handler();
    let app = harbor_server::http::router(Arc::new(handler.clone()), &HttpConfig::default());
    let admin = harbor_server::admin::router_with_metrics(handler, Some(render));

    for id in ["m1", "m2"] {
        let (status, body) = call(
            &app,
            Method::POST,
            "/a2a/jsonrpc",
            Some(send("SendMessage", id)),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _) = call(&app, Method::GET, "/a2a/rest/tasks/no-such-task", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Refused before any RPC ran: not JSON.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/a2a/jsonrpc")
        .header("content-type", "application/json")
        .body(Body::from("{not json"))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("response");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "JSON-RPC errors travel in a 200"
    );

    // A stream counts as open until its body is gone.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/a2a/jsonrpc")
        .header("content-type", "application/json")
        .body(Body::from(
            send("SendStreamingMessage", "tck-stream-001-m3").to_string(),
        ))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let open = r#"harbor_a2a_open_streams{binding="jsonrpc"}"#;
    let (_, text) = call(&admin, Method::GET, "/metrics", None).await;
    assert_eq!(sample(&text, open), Some(1.0), "{text}");
    let mut body = response.into_body().into_data_stream();
    while body.next().await.is_some() {}
    drop(body);
    let (status, text) = call(&admin, Method::GET, "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sample(&text, open), Some(0.0), "{text}");

    let ok = r#"harbor_a2a_requests_total{rpc="SendMessage",binding="jsonrpc",outcome="ok"}"#;
    assert_eq!(sample(&text, ok), Some(2.0), "{text}");
    let missing =
        r#"harbor_a2a_requests_total{rpc="GetTask",binding="http_json",outcome="TASK_NOT_FOUND"}"#;
    assert_eq!(sample(&text, missing), Some(1.0), "{text}");
    let stream =
        r#"harbor_a2a_requests_total{rpc="SendStreamingMessage",binding="jsonrpc",outcome="ok"}"#;
    assert_eq!(sample(&text, stream), Some(1.0), "{text}");
    assert!(
        text.contains("# TYPE harbor_a2a_request_duration_seconds summary")
            || text.contains("# TYPE harbor_a2a_request_duration_seconds histogram"),
        "{text}"
    );
    let completed = r#"harbor_task_state_transitions_total{state="TASK_STATE_COMPLETED"}"#;
    assert!(sample(&text, completed).is_some_and(|n| n >= 3.0), "{text}");
    // The store's count of its tasks by state: the three tasks sent here, all done.
    let tasks = |state: &str| sample(&text, &format!(r#"harbor_tasks{{state="{state}"}}"#));
    assert_eq!(tasks("TASK_STATE_COMPLETED"), Some(3.0), "{text}");
    assert_eq!(tasks("TASK_STATE_WORKING"), Some(0.0), "{text}");
    let refused = r#"harbor_a2a_refusals_total{binding="jsonrpc",reason="JSON_PARSE_ERROR"}"#;
    assert_eq!(sample(&text, refused), Some(1.0), "{text}");
    // Appends are counted whatever the store (here the memory store).
    assert!(
        sample(&text, "harbor_task_log_appends_total").is_some_and(|n| n >= 3.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "harbor_task_executions_running"),
        Some(0.0),
        "{text}"
    );
    // Bounded labels: no task or message id is a label value.
    for id in ["m1", "m2", "no-such-task", "tck-stream-001-m3"] {
        assert!(!text.contains(&format!("\"{id}\"")), "{id} in {text}");
    }
}
