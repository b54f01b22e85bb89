//! `harbor serve --grpc-tls-cert/--grpc-tls-key` serves gRPC over TLS, and only over TLS.

use harbor_a2a::GetTaskRequest;
use harbor_a2a::pb::a2a_service_client::A2aServiceClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

mod support;

use support::serve::Server;

fn get_task(id: &str) -> tonic::Request<GetTaskRequest> {
    let mut request = tonic::Request::new(GetTaskRequest {
        id: id.to_owned(),
        ..GetTaskRequest::default()
    });
    request.metadata_mut().insert(
        "a2a-version",
        tonic::metadata::MetadataValue::from_static("1.0"),
    );
    request
}

#[tokio::test]
async fn grpc_is_served_over_tls_with_the_given_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, key.cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.signing_key.serialize_pem()).expect("write key");
    let server = Server::start(&[
        "--grpc-tls-cert",
        cert_path.to_str().expect("utf-8 path"),
        "--grpc-tls-key",
        key_path.to_str().expect("utf-8 path"),
    ]);
    let authority = server.grpc_url.clone().expect("a gRPC interface");

    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(key.cert.pem()))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://{authority}"))
        .expect("uri")
        .tls_config(tls)
        .expect("tls")
        .connect()
        .await
        .expect("TLS handshake with the served certificate");
    let status = A2aServiceClient::new(channel)
        .get_task(get_task("no-such-task"))
        .await
        .expect_err("an unknown task");
    assert_eq!(status.code(), tonic::Code::NotFound, "{status:?}");

    // A plaintext client gets no answer from the TLS port.
    let plain = match Channel::from_shared(format!("http://{authority}"))
        .expect("uri")
        .connect()
        .await
    {
        Err(_) => None,
        Ok(channel) => Some(
            A2aServiceClient::new(channel)
                .get_task(get_task("no-such-task"))
                .await,
        ),
    };
    assert!(
        !matches!(&plain, Some(Err(s)) if s.code() == tonic::Code::NotFound),
        "a plaintext call reached the handler: {plain:?}"
    );
}
