//! `harbor serve --grpc-version-error`: the gRPC status a call with an unsupported
//! `a2a-version` gets, FAILED_PRECONDITION by default (spec v1.0.1) and UNIMPLEMENTED when
//! asked (v1.0.0 peers, the conformance kit).

mod support;

use harbor_a2a::GetTaskRequest;
use harbor_a2a::pb::a2a_service_client::A2aServiceClient;
use support::serve::Server;
use tonic::metadata::MetadataValue;

/// The gRPC code of a GetTask sent with `a2a-version: 99.0`.
async fn code_for_version_99(server: &Server) -> tonic::Code {
    let url = format!(
        "http://{}",
        server.grpc_url.as_deref().expect("a gRPC interface")
    );
    let mut client = A2aServiceClient::connect(url).await.expect("connect");
    let mut request = tonic::Request::new(GetTaskRequest {
        id: "no-such-task".into(),
        ..GetTaskRequest::default()
    });
    request
        .metadata_mut()
        .insert("a2a-version", MetadataValue::from_static("99.0"));
    let status = client
        .get_task(request)
        .await
        .expect_err("version 99 is refused");
    assert!(
        status.message().contains("99.0"),
        "the message names the version: {status:?}"
    );
    status.code()
}

#[tokio::test]
async fn version_not_supported_is_failed_precondition_by_default() {
    let server = Server::start(&[]);
    assert_eq!(
        code_for_version_99(&server).await,
        tonic::Code::FailedPrecondition
    );
}

#[tokio::test]
async fn version_not_supported_can_be_unimplemented() {
    let server = Server::start(&["--grpc-version-error", "unimplemented"]);
    assert_eq!(
        code_for_version_99(&server).await,
        tonic::Code::Unimplemented
    );
    let server = Server::start(&["--grpc-version-error", "failed-precondition"]);
    assert_eq!(
        code_for_version_99(&server).await,
        tonic::Code::FailedPrecondition
    );
}
