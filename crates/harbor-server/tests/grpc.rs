//! The gRPC binding with a raw tonic client: every unary RPC, errors as `google.rpc.Status`
//! with ErrorInfo, the `a2a-version` and `a2a-extensions` metadata, size limits and TLS.

mod grpc_support;

use std::sync::Arc;
use std::time::Duration;

use grpc_support::{card, client, handler, request, send, serve};
use harbor_a2a::{
    AgentExtension, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTaskPushNotificationConfigsRequest, ListTasksRequest, RpcErrorInfo, RpcStatus,
    TaskPushNotificationConfig, TaskState, VersionErrorCode, send_message_response::Payload,
};
use harbor_server::grpc::{GrpcConfig, GrpcTlsConfig};
use prost::Message as _;
use tonic::Code;
use tonic::metadata::MetadataValue;

/// The ErrorInfo of a status, read from its `grpc-status-details-bin`.
fn error_info(status: &tonic::Status) -> RpcErrorInfo {
    let details = RpcStatus::decode(status.details()).expect("a google.rpc.Status");
    assert_eq!(details.code, status.code() as i32);
    let any = details.details.first().expect("one detail");
    assert_eq!(any.type_url, "type.googleapis.com/google.rpc.ErrorInfo");
    RpcErrorInfo::decode(any.value.as_slice()).expect("an ErrorInfo")
}

fn default_server_handler() -> Arc<harbor_server::DefaultHandler> {
    Arc::new(handler(card(), Duration::from_millis(200)))
}

#[tokio::test]
async fn every_unary_rpc_is_served() {
    let server = serve(default_server_handler(), GrpcConfig::default()).await;
    let mut client = client(&server).await;

    let reply = client
        .send_message(request(send("tck-input-required-1")))
        .await
        .expect("send")
        .into_inner();
    let Some(Payload::Task(task)) = reply.payload else {
        panic!("a task: {reply:?}")
    };
    assert_eq!(task.state(), TaskState::InputRequired);
    let got = client
        .get_task(request(GetTaskRequest {
            id: task.id.clone(),
            ..GetTaskRequest::default()
        }))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got.id, task.id);
    let page = client
        .list_tasks(request(ListTasksRequest::default()))
        .await
        .expect("list")
        .into_inner();
    assert!(page.tasks.iter().any(|t| t.id == task.id), "{page:?}");

    let config = TaskPushNotificationConfig {
        task_id: task.id.clone(),
        id: "hook-1".into(),
        url: "https://example.com/hook".into(),
        ..TaskPushNotificationConfig::default()
    };
    let created = client
        .create_task_push_notification_config(request(config))
        .await
        .expect("create push")
        .into_inner();
    assert_eq!(created.id, "hook-1");
    let read = client
        .get_task_push_notification_config(request(GetTaskPushNotificationConfigRequest {
            task_id: task.id.clone(),
            id: "hook-1".into(),
            ..GetTaskPushNotificationConfigRequest::default()
        }))
        .await
        .expect("get push")
        .into_inner();
    assert_eq!(read.url, "https://example.com/hook");
    let listed = client
        .list_task_push_notification_configs(request(ListTaskPushNotificationConfigsRequest {
            task_id: task.id.clone(),
            ..ListTaskPushNotificationConfigsRequest::default()
        }))
        .await
        .expect("list push")
        .into_inner();
    assert_eq!(listed.configs.len(), 1);
    client
        .delete_task_push_notification_config(request(DeleteTaskPushNotificationConfigRequest {
            task_id: task.id.clone(),
            id: "hook-1".into(),
            ..DeleteTaskPushNotificationConfigRequest::default()
        }))
        .await
        .expect("delete push");

    let canceled = client
        .cancel_task(request(CancelTaskRequest {
            id: task.id.clone(),
            ..CancelTaskRequest::default()
        }))
        .await
        .expect("cancel")
        .into_inner();
    assert_eq!(canceled.state(), TaskState::Canceled);

    // The card declares no extended card: a protocol error, not a transport one.
    let status = client
        .get_extended_agent_card(request(GetExtendedAgentCardRequest::default()))
        .await
        .expect_err("not declared");
    assert_eq!(error_info(&status).domain, "a2a-protocol.org");
}

#[tokio::test]
async fn errors_are_statuses_with_error_info() {
    let server = serve(default_server_handler(), GrpcConfig::default()).await;
    let mut client = client(&server).await;
    let status = client
        .get_task(request(GetTaskRequest {
            id: "tck-nonexistent-1".into(),
            ..GetTaskRequest::default()
        }))
        .await
        .expect_err("no such task");
    assert_eq!(status.code(), Code::NotFound);
    let info = error_info(&status);
    assert_eq!(info.reason, "TASK_NOT_FOUND");
    assert_eq!(info.domain, "a2a-protocol.org");
    assert_eq!(
        info.metadata.get("taskId").map(String::as_str),
        Some("tck-nonexistent-1")
    );

    // A missing REQUIRED field is INVALID_ARGUMENT with its reason.
    let status = client
        .send_message(request(harbor_a2a::SendMessageRequest::default()))
        .await
        .expect_err("no message");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(error_info(&status).reason, "INVALID_PARAMS");
}

#[tokio::test]
async fn versions_come_from_metadata_and_the_code_is_configurable() {
    for (version_error_code, expected) in [
        (VersionErrorCode::Spec, Code::FailedPrecondition),
        (VersionErrorCode::Compat, Code::Unimplemented),
    ] {
        let config = GrpcConfig {
            version_error_code,
            ..GrpcConfig::default()
        };
        let server = serve(default_server_handler(), config).await;
        let mut client = client(&server).await;
        let mut future = tonic::Request::new(send("m-1"));
        future
            .metadata_mut()
            .insert("a2a-version", MetadataValue::from_static("99.0"));
        let status = client.send_message(future).await.expect_err("99.0");
        assert_eq!(status.code(), expected);
        assert_eq!(error_info(&status).reason, "VERSION_NOT_SUPPORTED");
        // No version at all is served as the current one (the handler's default).
        client
            .send_message(tonic::Request::new(send("m-2")))
            .await
            .expect("no version");
    }
}

#[tokio::test]
async fn extensions_come_from_metadata() {
    let mut card = card();
    if let Some(capabilities) = card.capabilities.as_mut() {
        capabilities.extensions.push(AgentExtension {
            uri: "urn:harbor:required".into(),
            required: true,
            ..AgentExtension::default()
        });
    }
    let handler = Arc::new(handler(card, Duration::from_millis(200)));
    let server = serve(handler, GrpcConfig::default()).await;
    let mut client = client(&server).await;
    let status = client
        .send_message(request(send("m-1")))
        .await
        .expect_err("extension not declared");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(error_info(&status).reason, "EXTENSION_SUPPORT_REQUIRED");
    let mut declared = request(send("m-2"));
    declared.metadata_mut().insert(
        "a2a-extensions",
        MetadataValue::from_static("urn:made:up, urn:harbor:required"),
    );
    client.send_message(declared).await.expect("declared");
}

#[tokio::test]
async fn oversized_requests_are_refused() {
    let config = GrpcConfig {
        max_request_bytes: 1024,
        ..GrpcConfig::default()
    };
    let server = serve(default_server_handler(), config).await;
    let mut client = client(&server).await;
    let mut big = send("m-1");
    if let Some(message) = big.message.as_mut() {
        message.parts = vec![harbor_a2a::Part::text("x".repeat(4096))];
    }
    let status = client
        .send_message(request(big))
        .await
        .expect_err("too large");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    // The connection stays usable.
    client
        .send_message(request(send("m-2")))
        .await
        .expect("small");
}

#[tokio::test]
async fn tls_is_served_by_configuration() {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let cert = key.cert.pem();
    let config = GrpcConfig {
        tls: Some(GrpcTlsConfig::Pem {
            cert: cert.clone(),
            key: key.signing_key.serialize_pem(),
        }),
        ..GrpcConfig::default()
    };
    let server = serve(default_server_handler(), config).await;
    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(cert))
        .domain_name("localhost");
    let channel = tonic::transport::Channel::from_shared(format!("https://{}", server.addr))
        .expect("uri")
        .tls_config(tls)
        .expect("tls")
        .connect()
        .await
        .expect("TLS handshake");
    let mut client = harbor_a2a::pb::a2a_service_client::A2aServiceClient::new(channel);
    let reply = client
        .send_message(request(send("m-1")))
        .await
        .expect("a call over TLS");
    assert!(reply.into_inner().payload.is_some());

    // A plaintext client gets nothing from the TLS port.
    let plain = grpc_support::client_result(&server).await;
    let failed = match plain {
        Err(_) => true,
        Ok(mut plain) => plain.send_message(request(send("m-2"))).await.is_err(),
    };
    assert!(failed, "plaintext must not work on the TLS port");
}
