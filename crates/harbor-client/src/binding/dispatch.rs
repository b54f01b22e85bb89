//! A call sent over the binding of the peer's endpoint: each binding module does the work,
//! this one picks it (the shared types they all use stay in the parent module).

use harbor_distributed::Error;

#[cfg(feature = "grpc")]
use super::grpc;
use super::{Call, Connection, Frames, Wire, WireReply, jsonrpc, rest};
use crate::body::read_capped;
use crate::config::Binding;
use crate::error::{error_from_response, invalid_response, request_error, snippet};
use crate::http::is_event_stream;

/// The error for a binding this build does not speak.
#[cfg(not(feature = "grpc"))]
fn disabled(binding: Binding) -> Error {
    crate::error::ClientError::BindingDisabled {
        binding: binding.as_str(),
        feature: "grpc",
    }
    .into_error()
}

/// A unary call.
pub(crate) async fn unary<Req: Wire, Resp: WireReply>(
    call: &Call<'_>,
    req: &Req,
) -> Result<Resp, Error> {
    match call.endpoint.binding {
        Binding::JsonRpc => jsonrpc::unary(call, req).await,
        Binding::HttpJson => rest::unary(call, req).await,
        #[cfg(feature = "grpc")]
        Binding::Grpc => grpc::unary(call, req).await,
        #[cfg(not(feature = "grpc"))]
        binding @ Binding::Grpc => Err(disabled(binding)),
    }
}

/// Opens an event stream; `last_event_id` resumes one the server numbered (SSE only).
///
/// Errors the server finds before the stream starts come back as ordinary error responses
/// and are returned here.
pub(crate) async fn open_stream<Req: Wire>(
    call: &Call<'_>,
    req: &Req,
    last_event_id: Option<&str>,
) -> Result<Connection, Error> {
    let mut request = match call.endpoint.binding {
        Binding::JsonRpc => jsonrpc::request(call, req)?,
        Binding::HttpJson => rest::request(call, req)?,
        #[cfg(feature = "grpc")]
        Binding::Grpc => return grpc::open_stream(call, req).await,
        #[cfg(not(feature = "grpc"))]
        binding @ Binding::Grpc => return Err(disabled(binding)),
    }
    .header(reqwest::header::ACCEPT, "text/event-stream");
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    // The whole-call timeout does not apply to a stream: only waiting for its head does.
    let timeout = call.config.request_timeout;
    let url = call.endpoint.url.to_string();
    let response = match tokio::time::timeout(timeout, request.send()).await {
        Ok(sent) => sent.map_err(|e| request_error(&url, e, timeout))?,
        Err(_) => return Err(Error::Timeout(timeout)),
    };
    let status = response.status();
    if status.is_success() && is_event_stream(&response) {
        let url = response.url().to_string();
        return Ok(Connection {
            body: Frames::Sse(Box::pin(response.bytes_stream())),
            url,
        });
    }
    let body = read_capped(
        response,
        call.config.max_response_bytes,
        "response body",
        timeout,
    )
    .await?;
    let error = error_from_response(&url, status.as_u16(), &body);
    if status.is_success() && !matches!(error, Error::Protocol(_)) {
        return Err(invalid_response(format!(
            "{} answered a streaming call with something other than an event stream: {}",
            call.method.json_rpc_name(),
            snippet(&body)
        )));
    }
    Err(error)
}
