//! [`GrpcService`]: the tonic `A2AService` over an [`A2aHandler`], one span per RPC.

use std::sync::Arc;

use harbor_a2a::pb::a2a_service_server::A2aService;
use harbor_a2a::{
    AgentCard, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTaskPushNotificationConfigsRequest, ListTaskPushNotificationConfigsResponse,
    ListTasksRequest, ListTasksResponse, Method, SendMessageRequest, SendMessageResponse,
    SubscribeToTaskRequest, Task, TaskPushNotificationConfig, VersionErrorCode,
};
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

/// One unary RPC: context from metadata, the handler call, its result as a response or a
/// status; in the RPC's span.
macro_rules! unary {
    ($self:ident, $request:ident, $method:expr, $call:ident) => {{
        let span = span($method, &$request);
        // A call refused by authentication is not counted (as on the HTTP bindings).
        let timer = RpcTimer::start($method, Binding::Grpc);
        async {
            let (ctx, req) = $self.split($request).await?;
            let reply = $self.handler.$call(&ctx, req).await;
            timer.finish(reply.as_ref().err());
            match reply {
                Ok(reply) => Ok(Response::new(reply)),
                Err(error) => Err($self.status(&error)),
            }
        }
        .instrument(span)
        .await
    }};
}

/// One streaming RPC: errors before the first event are the call's status.
macro_rules! streaming {
    ($self:ident, $request:ident, $method:expr, $call:ident) => {{
        let span = span($method, &$request);
        let timer = RpcTimer::start($method, Binding::Grpc);
        async {
            let (ctx, req) = $self.split($request).await?;
            let reply = $self.handler.$call(&ctx, req).await;
            timer.finish(reply.as_ref().err());
            match reply {
                Ok(events) => Ok(Response::new(
                    $self.stream(telemetry::count_open(events, Binding::Grpc)),
                )),
                Err(error) => Err($self.status(&error)),
            }
        }
        .instrument(span)
        .await
    }};
}

#[tonic::async_trait]
impl A2aService for GrpcService {
    type SendStreamingMessageStream = GrpcEventStream;
    type SubscribeToTaskStream = GrpcEventStream;

    async fn send_message(
        &self,
        request: Request<SendMessageRequest>,
    ) -> Result<Response<SendMessageResponse>, Status> {
        unary!(self, request, Method::SendMessage, send_message)
    }

    async fn send_streaming_message(
        &self,
        request: Request<SendMessageRequest>,
    ) -> Result<Response<GrpcEventStream>, Status> {
        let method = Method::SendStreamingMessage;
        streaming!(self, request, method, send_streaming_message)
    }

    async fn get_task(&self, request: Request<GetTaskRequest>) -> Result<Response<Task>, Status> {
        unary!(self, request, Method::GetTask, get_task)
    }

    async fn list_tasks(
        &self,
        request: Request<ListTasksRequest>,
    ) -> Result<Response<ListTasksResponse>, Status> {
        unary!(self, request, Method::ListTasks, list_tasks)
    }

    async fn cancel_task(
        &self,
        request: Request<CancelTaskRequest>,
    ) -> Result<Response<Task>, Status> {
        unary!(self, request, Method::CancelTask, cancel_task)
    }

    async fn subscribe_to_task(
        &self,
        request: Request<SubscribeToTaskRequest>,
    ) -> Result<Response<GrpcEventStream>, Status> {
        streaming!(self, request, Method::SubscribeToTask, subscribe_to_task)
    }

    async fn create_task_push_notification_config(
        &self,
        request: Request<TaskPushNotificationConfig>,
    ) -> Result<Response<TaskPushNotificationConfig>, Status> {
        let method = Method::CreateTaskPushNotificationConfig;
        unary!(self, request, method, create_task_push_notification_config)
    }

    async fn get_task_push_notification_config(
        &self,
        request: Request<GetTaskPushNotificationConfigRequest>,
    ) -> Result<Response<TaskPushNotificationConfig>, Status> {
        let method = Method::GetTaskPushNotificationConfig;
        unary!(self, request, method, get_task_push_notification_config)
    }

    async fn list_task_push_notification_configs(
        &self,
        request: Request<ListTaskPushNotificationConfigsRequest>,
    ) -> Result<Response<ListTaskPushNotificationConfigsResponse>, Status> {
        let method = Method::ListTaskPushNotificationConfigs;
        unary!(self, request, method, list_task_push_notification_configs)
    }

    async fn get_extended_agent_card(
        &self,
        request: Request<GetExtendedAgentCardRequest>,
    ) -> Result<Response<AgentCard>, Status> {
        unary!(
            self,
            request,
            Method::GetExtendedAgentCard,
            get_extended_agent_card
        )
    }

    async fn delete_task_push_notification_config(
        &self,
        request: Request<DeleteTaskPushNotificationConfigRequest>,
    ) -> Result<Response<pbjson_types::Empty>, Status> {
        let method = Method::DeleteTaskPushNotificationConfig;
        let span = span(method, &request);
        let timer = RpcTimer::start(method, Binding::Grpc);
        async {
            let (ctx, req) = self.split(request).await?;
            let reply = self
                .handler
                .delete_task_push_notification_config(&ctx, req)
                .await;
            timer.finish(reply.as_ref().err());
            match reply {
                Ok(()) => Ok(Response::new(pbjson_types::Empty {})),
                Err(error) => Err(self.status(&error)),
            }
        }
        .instrument(span)
        .await
    }
}
