//! The gRPC binding: `lf.a2a.v1.A2AService` over tonic.
//!
//! One lazily connected HTTP/2 channel per endpoint and transport, shared by all calls to
//! it. Service parameters (`a2a-version`, `a2a-extensions`), the peer's headers and the
//! identity policy's headers travel as metadata. A status with an A2A `ErrorInfo` is the
//! peer's protocol error; any other failure is the transport's (see [`status_error`]).
//! Unary calls carry `grpc-timeout`; streams have no deadline, and HTTP/2 pings every
//! [`stream_idle_timeout`](crate::ClientConfig::stream_idle_timeout) find a dead
//! connection instead.

use harbor_a2a::{A2aError, StreamResponse};
use harbor_distributed::Error;
use tonic::client::Grpc;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;
use tonic_prost::ProstCodec;

use super::{Call, Connection, Frames, Wire, WireReply};
use crate::error::ClientError;

/// The generic client for `call`, with the response size cap.
fn client(call: &Call<'_>) -> Result<(Grpc<Channel>, String), Error> {
    let (channel, origin) = call.grpc.get(&call.endpoint.url, call.config)?;
    let grpc = Grpc::new(channel).max_decoding_message_size(call.config.max_response_bytes);
    Ok((grpc, origin))
}

/// The request message (with the interface's tenant) and the call's metadata.
fn request<Req: Wire>(call: &Call<'_>, req: &Req) -> tonic::Request<Req> {
    let mut message = req.clone();
    if !call.endpoint.tenant.is_empty() {
        message.set_tenant(&call.endpoint.tenant);
    }
    let mut request = tonic::Request::new(message);
    *request.metadata_mut() = MetadataMap::from_headers(call.headers.clone());
    request
}

fn path(call: &Call<'_>) -> PathAndQuery {
    PathAndQuery::from_static(call.method.grpc_path())
}

/// Waits for the channel to take a call.
async fn ready(grpc: &mut Grpc<Channel>, origin: &str) -> Result<(), Error> {
    grpc.ready().await.map_err(|e| {
        ClientError::Grpc {
            url: origin.to_owned(),
            code: tonic::Code::Unavailable as i32,
            message: e.to_string(),
        }
        .into_error()
    })
}

/// A unary call, within the request timeout (also sent as `grpc-timeout`).
pub(super) async fn unary<Req: Wire, Resp: WireReply>(
    call: &Call<'_>,
    req: &Req,
) -> Result<Resp, Error> {
    let (mut grpc, origin) = client(call)?;
    let timeout = call.config.request_timeout;
    let mut request = request(call, req);
    request.set_timeout(timeout);
    let codec = ProstCodec::<Req, Resp>::default();
    let sent = async {
        ready(&mut grpc, &origin).await?;
        grpc.unary(request, path(call), codec)
            .await
            .map_err(|status| status_error(&origin, &status))
    };
    match tokio::time::timeout(timeout, sent).await {
        Ok(reply) => reply.map(tonic::Response::into_inner),
        Err(_) => Err(Error::Timeout(timeout)),
    }
}

/// Opens a server stream; waiting for its head is bounded by the request timeout.
pub(super) async fn open_stream<Req: Wire>(
    call: &Call<'_>,
    req: &Req,
) -> Result<Connection, Error> {
    let (mut grpc, origin) = client(call)?;
    let timeout = call.config.request_timeout;
    let request = request(call, req);
    let codec = ProstCodec::<Req, StreamResponse>::default();
    let opened = async {
        ready(&mut grpc, &origin).await?;
        grpc.server_streaming(request, path(call), codec)
            .await
            .map_err(|status| status_error(&origin, &status))
    };
    match tokio::time::timeout(timeout, opened).await {
        Ok(response) => Ok(Connection {
            body: Frames::Grpc(Box::new(response?.into_inner())),
            url: origin,
        }),
        Err(_) => Err(Error::Timeout(timeout)),
    }
}

/// The error a status stands for: the peer's A2A error when it carries one (see
/// [`A2aError::from_grpc_status`]), otherwise a transport failure.
pub(crate) fn status_error(origin: &str, status: &tonic::Status) -> Error {
    let code = status.code() as i32;
    if let Some(error) = A2aError::from_grpc_status(code, status.message(), status.details()) {
        return Error::Protocol(error);
    }
    ClientError::Grpc {
        url: origin.to_owned(),
        code,
        message: status.message().to_owned(),
    }
    .into_error()
}

#[cfg(test)]
mod tests {
    use harbor_a2a::{ErrorKind, VersionErrorCode};

    use super::*;

    #[test]
    fn statuses_with_error_info_are_protocol_errors() {
        let error = A2aError::new(ErrorKind::UnsupportedOperation, "terminal");
        let details = error.to_grpc_status_details(VersionErrorCode::Spec);
        let status = tonic::Status::with_details(
            tonic::Code::FailedPrecondition,
            "terminal",
            details.into(),
        );
        match status_error("http://x:1", &status) {
            Error::Protocol(e) => assert_eq!(e, error),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_statuses_are_transport_failures() {
        let down = status_error("http://x:1", &tonic::Status::unavailable("refused"));
        assert!(down.is_retryable(), "{down:?}");
        assert!(matches!(down, Error::Backend { .. }), "{down:?}");
        let bare = status_error("http://x:1", &tonic::Status::internal("h2 protocol error"));
        assert!(matches!(bare, Error::Backend { .. }), "{bare:?}");
    }
}
