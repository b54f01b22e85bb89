//! The gRPC side of the server suite: the same A2A semantics, called over
//! `lf.a2a.v1.A2AService` at the card's `GRPC` interface (`host:port`, plaintext, as the
//! conformance kit calls it).
//!
//! Answers are decoded into the protocol's messages and converted to ProtoJSON, so the
//! cases judge them with the same [`checks`](crate::server::checks) as the JSON bindings.
//! Errors are read from the status: its code, and the A2A `ErrorInfo` in the
//! `google.rpc.Status` of the `grpc-status-details-bin` trailer.

pub mod cases;

use std::future::Future;

use harbor_a2a::pb::a2a_service_client::A2aServiceClient;
use harbor_a2a::{ERROR_DOMAIN, ErrorKind, GrpcCode, RpcErrorInfo, RpcStatus};
use prost::Message as _;
use serde_json::Value;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};

use super::{At, Binding, CaseFailure, ServerTarget};

/// A gRPC error as the server sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct GrpcError {
    /// The status code.
    pub code: tonic::Code,
    /// The status message.
    pub message: String,
    /// The `reason` of the A2A ErrorInfo (domain `a2a-protocol.org`) in the details, if any.
    pub reason: Option<String>,
}

/// What one gRPC call answered, and where it was made.
#[derive(Debug)]
pub struct GrpcReply<T> {
    /// The RPC, on the gRPC binding.
    pub at: At,
    /// The answer, or the error status.
    pub result: Result<T, GrpcError>,
}

impl<T> GrpcReply<T> {
    /// The answer; fails when the server answered an error.
    pub fn ok(self) -> Result<T, CaseFailure> {
        self.result.map_err(|e| {
            self.at.fail(format!(
                "expected success, got {:?}: {} (ErrorInfo reason {:?})",
                e.code, e.message, e.reason
            ))
        })
    }

    /// The error, which must be `kind`: the table's gRPC code (either listed code for
    /// VersionNotSupported) and an ErrorInfo with the table's reason.
    pub fn expect_error(self, kind: ErrorKind) -> Result<GrpcError, CaseFailure> {
        let error = match self.result {
            Ok(_) => {
                return Err(self
                    .at
                    .fail(format!("expected {kind:?}, the call succeeded")));
            }
            Err(error) => error,
        };
        let mapping = kind.mapping();
        let codes: &[GrpcCode] = if kind == ErrorKind::VersionNotSupported {
            // v1.0.1 says FAILED_PRECONDITION, v1.0.0 (and the conformance kit) UNIMPLEMENTED.
            &[GrpcCode::FailedPrecondition, GrpcCode::Unimplemented]
        } else {
            std::slice::from_ref(&mapping.grpc)
        };
        let code = error.code as i32;
        self.at.ensure(codes.iter().any(|c| c.code() == code), || {
            format!(
                "expected {kind:?} as {}, got {:?}: {}",
                codes
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(" or "),
                error.code,
                error.message
            )
        })?;
        if (-32099..=-32001).contains(&mapping.json_rpc) {
            self.at
                .ensure(error.reason.as_deref() == Some(mapping.reason), || {
                    format!(
                        "expected an ErrorInfo (domain {ERROR_DOMAIN}) with reason {} in \
                         grpc-status-details-bin, got {:?}",
                        mapping.reason, error.reason
                    )
                })?;
        }
        Ok(error)
    }
}

/// Reads a status into a [`GrpcError`].
fn error_of(status: &tonic::Status) -> GrpcError {
    let reason = RpcStatus::decode(status.details()).ok().and_then(|s| {
        s.details.into_iter().find_map(|any| {
            if !any.type_url.ends_with("google.rpc.ErrorInfo") {
                return None;
            }
            let info = RpcErrorInfo::decode(any.value.as_slice()).ok()?;
            (info.domain == ERROR_DOMAIN).then_some(info.reason)
        })
    });
    GrpcError {
        code: status.code(),
        message: status.message().to_owned(),
        reason,
    }
}

/// A caller of the target's gRPC interface.
#[derive(Debug, Clone)]
pub struct GrpcRpc<'a> {
    target: &'a ServerTarget,
    client: A2aServiceClient<Channel>,
    version: Option<String>,
}

/// The largest message a case accepts.
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

impl<'a> GrpcRpc<'a> {
    /// A caller of the card's `GRPC` interface, or a skip when it declares none.
    pub fn new(target: &'a ServerTarget) -> Result<Self, CaseFailure> {
        let url = target.url(Binding::Grpc)?;
        if url.starts_with("https://") || url.starts_with("grpcs://") {
            return Err(CaseFailure::skipped(format!(
                "the gRPC interface {url} uses TLS; the suite calls gRPC in plaintext"
            )));
        }
        let url = if url.contains("://") {
            url.to_owned()
        } else {
            format!("http://{url}")
        };
        let at = At::new(Binding::Grpc, "connect");
        let endpoint = Endpoint::from_shared(url.clone())
            .map_err(|e| at.fail(format!("the gRPC interface {url} is not a URL: {e}")))?
            .tcp_nodelay(true)
            .connect_timeout(target.options.deadline);
        let client = A2aServiceClient::new(endpoint.connect_lazy())
            .max_decoding_message_size(MAX_MESSAGE_BYTES);
        Ok(Self {
            target,
            client,
            version: Some(target.options.version.clone()),
        })
    }

    /// A caller of the gRPC interface when the card also declares `capabilities.streaming`.
    pub fn streaming(target: &'a ServerTarget) -> Result<Self, CaseFailure> {
        let rpc = Self::new(target)?;
        if !target.declares("streaming") {
            return Err(CaseFailure::skipped(
                "the card does not declare capabilities.streaming",
            ));
        }
        Ok(rpc)
    }

    /// Sends `a2a-version: <version>` (`None`: no such metadata).
    #[must_use]
    pub fn with_version(mut self, version: Option<&str>) -> Self {
        self.version = version.map(str::to_owned);
        self
    }

    /// The target.
    pub fn target(&self) -> &'a ServerTarget {
        self.target
    }

    /// Where a check on `rpc` is made.
    pub fn at(&self, rpc: &str) -> At {
        At::new(Binding::Grpc, rpc)
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(version) = self
            .version
            .as_deref()
            .and_then(|v| MetadataValue::try_from(v).ok())
        {
            request.metadata_mut().insert("a2a-version", version);
        }
        request
    }

    /// Makes one unary call under the target's deadline.
    pub async fn call<Req, Resp, F, Fut>(
        &self,
        rpc: &str,
        message: Req,
        f: F,
    ) -> Result<GrpcReply<Resp>, CaseFailure>
    where
        F: FnOnce(A2aServiceClient<Channel>, tonic::Request<Req>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
    {
        let at = self.at(rpc);
        let deadline = self.target.options.deadline;
        let call = f(self.client.clone(), self.request(message));
        let result = match tokio::time::timeout(deadline, call).await {
            Err(_) => return Err(at.fail(format!("no answer within {deadline:?}"))),
            Ok(Ok(response)) => Ok(response.into_inner()),
            Ok(Err(status)) => Err(error_of(&status)),
        };
        Ok(GrpcReply { at, result })
    }

    /// Opens a server stream under the deadline and reads it to its end, each message
    /// under the deadline too. An error before the first message is the reply's error; one
    /// after it fails the case.
    pub async fn stream<Req, Resp, F, Fut>(
        &self,
        rpc: &str,
        message: Req,
        f: F,
    ) -> Result<GrpcReply<Vec<Resp>>, CaseFailure>
    where
        F: FnOnce(A2aServiceClient<Channel>, tonic::Request<Req>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<tonic::Streaming<Resp>>, tonic::Status>>,
    {
        let at = self.at(rpc);
        let deadline = self.target.options.deadline;
        let opened =
            match tokio::time::timeout(deadline, f(self.client.clone(), self.request(message)))
                .await
            {
                Err(_) => {
                    return Err(at.fail(format!("the stream did not open within {deadline:?}")));
                }
                Ok(Err(status)) => {
                    return Ok(GrpcReply {
                        at,
                        result: Err(error_of(&status)),
                    });
                }
                Ok(Ok(response)) => response.into_inner(),
            };
        let mut stream = opened;
        let mut events = Vec::new();
        loop {
            match tokio::time::timeout(deadline, stream.message()).await {
                Err(_) => {
                    return Err(at.fail(format!(
                        "no event or end of stream within {deadline:?} after {} event(s)",
                        events.len()
                    )));
                }
                Ok(Ok(Some(event))) => events.push(event),
                Ok(Ok(None)) => break,
                Ok(Err(status)) if events.is_empty() => {
                    return Ok(GrpcReply {
                        at,
                        result: Err(error_of(&status)),
                    });
                }
                Ok(Err(status)) => {
                    let error = error_of(&status);
                    return Err(at.fail(format!(
                        "the stream failed after {} event(s): {:?} {}",
                        events.len(),
                        error.code,
                        error.message
                    )));
                }
            }
        }
        Ok(GrpcReply {
            at,
            result: Ok(events),
        })
    }
}

/// A message as ProtoJSON, for the shared checks.
pub(crate) fn json<T: serde::Serialize>(at: &At, message: &T) -> Result<Value, CaseFailure> {
    harbor_a2a::to_json(message).map_err(|e| at.fail(format!("cannot render the answer: {e}")))
}
