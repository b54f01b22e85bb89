//! gRPC server streaming: events until the terminal state, errors before the stream as the
//! call's status, client cancellation that drops the handler's stream (the task runs on),
//! and a shutdown that ends open streams.

mod grpc_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use grpc_support::{card, client, eventually, handler, request, send, serve};
use harbor_a2a::stream_response::Payload;
use harbor_a2a::{GetTaskRequest, SubscribeToTaskRequest, TaskState};
use harbor_server::grpc::GrpcConfig;
use harbor_test_support::forward::Forward;
use tonic::Code;

const DEADLINE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn streams_deliver_events_until_the_terminal_state() {
    let handler = Arc::new(handler(card(), Duration::from_millis(200)));
    let server = serve(handler, GrpcConfig::default()).await;
    let mut client = client(&server).await;
    let mut stream = client
        .send_streaming_message(request(send("tck-stream-001")))
        .await
        .expect("stream")
        .into_inner();
    let mut states = Vec::new();
    while let Some(event) = tokio::time::timeout(DEADLINE, stream.message())
        .await
        .expect("an event in time")
        .expect("no error")
    {
        if let Some(state) = event.state() {
            states.push(state);
        }
    }
    assert_eq!(states.last(), Some(&TaskState::Completed), "{states:?}");
}

#[tokio::test]
async fn errors_before_the_first_event_are_the_call_status() {
    let handler = Arc::new(handler(card(), Duration::from_millis(200)));
    let server = serve(handler, GrpcConfig::default()).await;
    let mut client = client(&server).await;
    let status = client
        .subscribe_to_task(request(SubscribeToTaskRequest {
            id: "tck-nonexistent-1".into(),
            ..SubscribeToTaskRequest::default()
        }))
        .await
        .expect_err("no such task");
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn a_client_that_cancels_drops_the_stream_and_the_task_runs_on() {
    let open = Arc::new(AtomicUsize::new(0));
    let probe = Arc::new(
        Forward::new(Arc::new(handler(card(), Duration::from_millis(600))))
            .counting_streams(Arc::clone(&open)),
    );
    let server = serve(probe, GrpcConfig::default()).await;
    let mut client = client(&server).await;
    let mut stream = client
        .send_streaming_message(request(send("test-resubscribe-message-id-1")))
        .await
        .expect("stream")
        .into_inner();
    let first = tokio::time::timeout(DEADLINE, stream.message())
        .await
        .expect("an event in time")
        .expect("no error")
        .expect("an event");
    let task_id = match &first.payload {
        Some(Payload::Task(task)) => task.id.clone(),
        Some(Payload::StatusUpdate(update)) => update.task_id.clone(),
        _ => String::new(),
    };
    assert!(!task_id.is_empty(), "{first:?}");
    assert_eq!(open.load(Ordering::SeqCst), 1);

    drop(stream);
    eventually(DEADLINE, "the server to drop the stream", || {
        let open = Arc::clone(&open);
        async move { open.load(Ordering::SeqCst) == 0 }
    })
    .await;
    eventually(DEADLINE, "the task to complete", || {
        let mut client = client.clone();
        let id = task_id.clone();
        async move {
            let task = client
                .get_task(request(GetTaskRequest {
                    id,
                    ..GetTaskRequest::default()
                }))
                .await;
            task.is_ok_and(|t| t.into_inner().state() == TaskState::Completed)
        }
    })
    .await;
}

#[tokio::test]
async fn a_shutdown_ends_open_streams() {
    let handler = Arc::new(handler(card(), Duration::from_secs(30)));
    let server = serve(handler, GrpcConfig::default()).await;
    let mut client = client(&server).await;
    let mut stream = client
        .send_streaming_message(request(send("test-resubscribe-message-id-2")))
        .await
        .expect("stream")
        .into_inner();
    tokio::time::timeout(DEADLINE, stream.message())
        .await
        .expect("an event in time")
        .expect("no error")
        .expect("an event");
    server.shutdown.cancel();
    let ended = tokio::time::timeout(DEADLINE, async {
        while let Ok(Some(_)) = stream.message().await {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stream must end when the server shuts down"
    );
}
