//! The wire bindings: one module per binding, chosen per call by the peer's [`Endpoint`].
//!
//! Each binding offers the same two operations, generic over the request and response
//! messages ([`Wire`], [`WireReply`]: ProtoJSON for the JSON bindings, protobuf for gRPC):
//! a unary call, and opening an event stream (a [`Connection`]: SSE bytes, or a gRPC
//! server stream).

#[cfg(feature = "grpc")]
pub(crate) mod channels;
mod dispatch;
#[cfg(feature = "grpc")]
pub(crate) mod grpc;
mod jsonrpc;
mod rest;

use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use futures::stream::BoxStream;
use harbor_a2a::{Method, StreamResponse};
use harbor_distributed::Error;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::{Map, Value};

use crate::card::Endpoint;
use crate::config::{Binding, ClientConfig};
use crate::error::{invalid_response, protocol_error, snippet};
use crate::sse::SseEvent;

pub(crate) use dispatch::{open_stream, unary};

/// Everything one call needs to go on the wire.
pub(crate) struct Call<'a> {
    pub(crate) http: &'a reqwest::Client,
    #[cfg(feature = "grpc")]
    pub(crate) grpc: &'a channels::Channels,
    pub(crate) config: &'a ClientConfig,
    pub(crate) endpoint: &'a Endpoint,
    pub(crate) headers: HeaderMap,
    pub(crate) method: Method,
    pub(crate) ids: &'a AtomicU64,
}

/// A request message every binding can send: ProtoJSON, protobuf, and a `tenant` field
/// the interface's tenant goes into.
pub(crate) trait Wire: Serialize + prost::Message + Clone + Sync + 'static {
    /// Sets the request's `tenant`.
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    fn set_tenant(&mut self, tenant: &str);
}

macro_rules! wire {
    ($($message:ty),* $(,)?) => {$(
        impl Wire for $message {
            fn set_tenant(&mut self, tenant: &str) {
                tenant.clone_into(&mut self.tenant);
            }
        }
    )*};
}

wire!(
    harbor_a2a::SendMessageRequest,
    harbor_a2a::GetTaskRequest,
    harbor_a2a::ListTasksRequest,
    harbor_a2a::CancelTaskRequest,
    harbor_a2a::SubscribeToTaskRequest,
    harbor_a2a::TaskPushNotificationConfig,
    harbor_a2a::GetTaskPushNotificationConfigRequest,
    harbor_a2a::ListTaskPushNotificationConfigsRequest,
    harbor_a2a::GetExtendedAgentCardRequest,
    harbor_a2a::DeleteTaskPushNotificationConfigRequest,
);

/// A response message every binding can read.
pub(crate) trait WireReply: DeserializeOwned + prost::Message + Default + 'static {}

impl<T: DeserializeOwned + prost::Message + Default + 'static> WireReply for T {}

/// A response whose content does not matter (`google.protobuf.Empty`, or whatever JSON a
/// peer sends for it).
#[derive(Debug, Default)]
pub(crate) struct Ignored;

impl<'de> serde::Deserialize<'de> for Ignored {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Ignored)
    }
}

impl prost::Message for Ignored {
    fn encode_raw(&self, _buf: &mut impl bytes::BufMut) {}

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        0
    }

    fn clear(&mut self) {}
}

/// An open event stream.
pub(crate) struct Connection {
    pub(crate) body: Frames,
    pub(crate) url: String,
}

/// What an open stream delivers.
pub(crate) enum Frames {
    /// SSE bytes (the JSON bindings).
    Sse(BoxStream<'static, reqwest::Result<Bytes>>),
    /// Messages of a gRPC server stream.
    #[cfg(feature = "grpc")]
    Grpc(Box<tonic::codec::Streaming<StreamResponse>>),
}

/// One SSE event of a stream as the binding frames it: a JSON-RPC response (JSON-RPC) or a
/// bare `StreamResponse` (HTTP+JSON); `event: error`, or an error object, is the peer's error.
pub(crate) fn decode_event(binding: Binding, event: &SseEvent) -> Result<StreamResponse, Error> {
    let value: Value = serde_json::from_str(&event.data).map_err(|e| {
        invalid_response(format!(
            "an event is not JSON ({e}): {}",
            snippet(event.data.as_bytes())
        ))
    })?;
    if event.event == "error" || value.get("error").is_some() {
        return Err(match protocol_error(500, &value) {
            Some(error) => Error::Protocol(error),
            None => invalid_response(format!(
                "an error event without an A2A error: {}",
                snippet(event.data.as_bytes())
            )),
        });
    }
    let message = match (binding, value) {
        (Binding::JsonRpc, Value::Object(mut response)) => response
            .remove("result")
            .ok_or_else(|| invalid_response("a JSON-RPC event has neither result nor error"))?,
        (Binding::JsonRpc, _) => return Err(invalid_response("a JSON-RPC event is not an object")),
        // gRPC streams carry no SSE: their events never come here.
        (Binding::HttpJson | Binding::Grpc, value) => value,
    };
    harbor_a2a::from_json_value(message)
        .map_err(|e| invalid_response(format!("an event is not a StreamResponse: {e}")))
}

/// The request as a ProtoJSON object, with the interface's tenant (which wins over one the
/// caller set; without one, the caller's stays).
pub(crate) fn request_fields<Req: Serialize>(
    req: &Req,
    tenant: &str,
) -> Result<Map<String, Value>, Error> {
    let value = harbor_a2a::to_json(req).map_err(|e| {
        Error::InvalidArgument(format!("the request cannot be written as JSON: {e}"))
    })?;
    let Value::Object(mut fields) = value else {
        return Err(Error::InvalidArgument(
            "the request is not a JSON object".to_owned(),
        ));
    };
    if !tenant.is_empty() {
        fields.insert("tenant".to_owned(), Value::String(tenant.to_owned()));
    }
    Ok(fields)
}

/// Parses a success body into the response message.
fn parse_result<Resp: DeserializeOwned>(method: Method, value: Value) -> Result<Resp, Error> {
    harbor_a2a::from_json_value(value).map_err(|e| {
        invalid_response(format!(
            "{} answered with an invalid {}: {e}",
            method.json_rpc_name(),
            method.response_type()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, data: &str) -> SseEvent {
        SseEvent {
            event: kind.to_owned(),
            data: data.to_owned(),
            id: None,
        }
    }

    #[test]
    fn events_decode_per_binding() {
        let update = r#"{"statusUpdate":{"taskId":"t","contextId":"c","status":{"state":"TASK_STATE_WORKING"}}}"#;
        let rpc = format!(r#"{{"jsonrpc":"2.0","id":1,"result":{update}}}"#);
        for (binding, data) in [
            (Binding::JsonRpc, rpc.as_str()),
            (Binding::HttpJson, update),
        ] {
            let decoded = decode_event(binding, &event("", data)).expect("decodes");
            assert_eq!(decoded.state(), Some(harbor_a2a::TaskState::Working));
        }
    }

    #[test]
    fn error_events_are_protocol_errors() {
        let rest = harbor_a2a::A2aError::task_not_found("t")
            .to_rest_body()
            .to_string();
        let rpc = serde_json::json!({"jsonrpc": "2.0", "id": 1,
            "error": harbor_a2a::A2aError::task_not_found("t").to_json_rpc_error()})
        .to_string();
        for data in [rest, rpc] {
            match decode_event(Binding::HttpJson, &event("error", &data)) {
                Err(Error::Protocol(e)) => {
                    assert_eq!(e.kind(), harbor_a2a::ErrorKind::TaskNotFound)
                }
                other => panic!("{other:?}"),
            }
        }
        match decode_event(Binding::JsonRpc, &event("error", "oops")) {
            Err(Error::Protocol(e)) => {
                assert_eq!(e.kind(), harbor_a2a::ErrorKind::InvalidAgentResponse);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_interface_tenant_wins() -> Result<(), Error> {
        let req = harbor_a2a::GetTaskRequest {
            tenant: "mine".into(),
            id: "t".into(),
            history_length: None,
        };
        assert_eq!(request_fields(&req, "")?["tenant"], "mine");
        assert_eq!(request_fields(&req, "theirs")?["tenant"], "theirs");
        Ok(())
    }
}
