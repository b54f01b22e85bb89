//! [`GrpcService`]: the tonic `A2AService` over an [`A2aHandler`], one span per RPC.

use std::future::Future;
use std::sync::Arc;

use harbor_a2a::pb::a2a_service_server::A2aService;
use harbor_a2a::{Method, VersionErrorCode};
use harbor_distributed::{A2aHandler, CallContext, Identity};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::Instrument;

use super::config::GrpcConfig;
use super::context::authenticated_context;
use super::status::to_status;
use super::stream::{GrpcEventStream, grpc_stream};
use crate::auth::ClientCertificate;
use crate::telemetry::{self, Binding, RpcTimer};

/// The A2A gRPC service of one handler. Build it with [`service`](super::service).
pub struct GrpcService {
    handler: Arc<dyn A2aHandler>,
    anonymous: Identity,
    trust_identity_headers: bool,
    auth: crate::auth::Auth,
    version_code: VersionErrorCode,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for GrpcService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcService")
            .field("trust_identity_headers", &self.trust_identity_headers)
            .field("version_code", &self.version_code)
            .finish_non_exhaustive()
    }
}

impl GrpcService {
    pub(crate) fn new(
        handler: Arc<dyn A2aHandler>,
        config: &GrpcConfig,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            handler,
            anonymous: config.anonymous.clone(),
            trust_identity_headers: config.trust_identity_headers,
            auth: config.auth.clone(),
            version_code: config.version_error_code,
            shutdown,
        }
    }

    /// The call's context (its caller authenticated) and its request message.
    async fn split<T>(&self, request: Request<T>) -> Result<(CallContext, T), Status> {
        let peer = request.remote_addr();
        let certificate = request.peer_certs().and_then(|chain| {
            chain
                .first()
                .and_then(|leaf| ClientCertificate::from_der(leaf))
        });
        let (metadata, _, message) = request.into_parts();
        match authenticated_context(
            &self.auth,
            &self.anonymous,
            self.trust_identity_headers,
            metadata,
            peer,
            certificate,
        )
        .await
        {
            Ok(ctx) => Ok((ctx, message)),
            Err(error) => {
                // Also counted as the RPC's outcome: gRPC names its method in the path.
                telemetry::refused(Binding::Grpc, &error);
                let mut status = self.status(&error);
                if let Some(value) = error
                    .metadata()
                    .get("retryAfterSeconds")
                    .and_then(|retry| retry.parse().ok())
                {
                    status.metadata_mut().insert("retry-after", value);
                }
                Err(status)
            }
        }
    }

    fn status(&self, error: &harbor_a2a::A2aError) -> Status {
        tracing::debug!(%error, "rpc failed");
        to_status(error, self.version_code)
    }

    fn stream(&self, events: harbor_distributed::HandlerStream) -> GrpcEventStream {
        grpc_stream(
            events,
            self.version_code,
            &self.shutdown,
            tracing::Span::current(),
        )
    }
}

/// The RPC's span, continuing the caller's trace when its metadata carries one.
fn span<T>(method: Method, request: &Request<T>) -> tracing::Span {
    let span = tracing::info_span!("a2a.rpc", method = method.json_rpc_name(), binding = "grpc");
    let metadata = request.metadata();
    let parent = harbor_distributed::trace_context::extract_with(|name| {
        metadata.get(name).and_then(|v| v.to_str().ok())
    });
    harbor_distributed::trace_context::continue_context(&span, parent);
    span
}

/// The tonic reply type of each kind of the RPC list.
macro_rules! grpc_reply {
    (unary $resp:ident) => {
        harbor_a2a::$resp
    };
    (stream $resp:ident) => {
        GrpcEventStream
    };
    (empty $resp:ident) => {
        pbjson_types::Empty
    };
}

/// How a handler's reply of each kind becomes the tonic reply: a stream is counted while
/// open and ends with the server's shutdown.
macro_rules! grpc_wrap {
    (unary) => {
        |_, reply| reply
    };
    (stream) => {
        |service: &GrpcService, events| service.stream(telemetry::count_open(events, Binding::Grpc))
    };
    (empty) => {
        |_, ()| pbjson_types::Empty {}
    };
}

impl GrpcService {
    /// One RPC: context from metadata, the handler call, its reply (through `wrap`) as a
    /// response or its error as a status; in the RPC's span. A streaming RPC's errors before
    /// its first event are the call's status.
    async fn call<Req, Reply, Out, Fut>(
        &self,
        method: Method,
        request: Request<Req>,
        run: impl FnOnce(Arc<dyn A2aHandler>, CallContext, Req) -> Fut,
        wrap: impl FnOnce(&Self, Reply) -> Out,
    ) -> Result<Response<Out>, Status>
    where
        Fut: Future<Output = Result<Reply, harbor_a2a::A2aError>>,
    {
        let span = span(method, &request);
        // A call refused by authentication is not counted (as on the HTTP bindings).
        let timer = RpcTimer::start(method, Binding::Grpc);
        async {
            let (ctx, req) = self.split(request).await?;
            let reply = run(Arc::clone(&self.handler), ctx, req).await;
            timer.finish(reply.as_ref().err());
            match reply {
                Ok(reply) => Ok(Response::new(wrap(self, reply))),
                Err(error) => Err(self.status(&error)),
            }
        }
        .instrument(span)
        .await
    }
}

/// The tonic service: each RPC calls the handler method of the same name.
macro_rules! grpc_service {
    ($($(#[$doc:meta])* $variant:ident $fn:ident: $kind:ident($req:ident -> $resp:ident)
        [$($route:tt)*];)*) => {
        #[tonic::async_trait]
        impl A2aService for GrpcService {
            // tonic names a server stream's type after its RPC.
            type SendStreamingMessageStream = GrpcEventStream;
            type SubscribeToTaskStream = GrpcEventStream;

            $(
                async fn $fn(
                    &self,
                    request: Request<harbor_a2a::$req>,
                ) -> Result<Response<grpc_reply!($kind $resp)>, Status> {
                    let run = |handler: Arc<dyn A2aHandler>, ctx: CallContext, req| async move {
                        handler.$fn(&ctx, req).await
                    };
                    self.call(Method::$variant, request, run, grpc_wrap!($kind)).await
                }
            )*
        }
    };
}

harbor_a2a::for_each_rpc!(grpc_service);
