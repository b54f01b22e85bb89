//! The default [`A2aHandler`]: A2A semantics over an [`AgentExecutor`] and a [`TaskStore`].

mod budget;
mod push;
mod ready;
mod send;
mod tasks;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use harbor_a2a::validate::{CheckLimits, Limits};
use harbor_a2a::{
    A2aError, AgentCard, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest, ErrorKind,
    GetExtendedAgentCardRequest, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTaskPushNotificationConfigsRequest, ListTaskPushNotificationConfigsResponse,
    ListTasksRequest, ListTasksResponse, SendMessageRequest, SendMessageResponse,
    SubscribeToTaskRequest, Task, TaskPushNotificationConfig,
};
use harbor_distributed::{
    A2aHandler, CallContext, HandlerStream, MemoryTaskStore, MessageBus, PushCursor, TaskLog,
};

pub use ready::Readiness;

use crate::executor::AgentExecutor;
use crate::push::PushConfig;
use crate::push::dispatch::Dispatcher;
use crate::runtime::{EventObserver, Recovered, Runtime};

/// Settings of the default handler. Data only; see [`DefaultHandler::builder`].
#[derive(Debug, Clone)]
pub struct HandlerConfig {
    /// The public agent card. Its capabilities decide which RPCs are served.
    pub card: AgentCard,
    /// The extended card, served when `capabilities.extendedAgentCard` is true.
    /// Default: none (the RPC then answers ExtendedAgentCardNotConfigured).
    pub extended_card: Option<AgentCard>,
    /// Whether a request without `A2A-Version` is served as the current version (true, the
    /// default, for hand-written clients) or refused as 0.3 (false, the literal spec rule).
    pub accept_missing_version: bool,
    /// How long CancelTask waits for the task to reach a terminal state. Default 5 s.
    pub cancel_timeout: Duration,
    /// Size limits every request is checked against before anything is stored (depth of
    /// `data` and `metadata`, parts, ids, fields, push URLs and secrets). Default
    /// [`Limits::default`].
    pub limits: Limits,
    /// Largest task a GetTask, ListTasks or stream snapshot answers, in bytes (protobuf
    /// encoding): past it the oldest history messages are left out. Default 16 MiB (the
    /// gRPC binding's default response limit).
    pub max_task_bytes: usize,
    /// Bytes of tasks (as stored) after which a ListTasks page stops, shorter than its
    /// `pageSize`, with a next-page token; a page always holds at least one task.
    /// Default 8 MiB.
    pub max_list_bytes: usize,
    /// This process's name among the processes sharing a bus (see
    /// [`DefaultHandlerBuilder::bus`]): the session of its log notices and the consumer
    /// group it follows the others' in. One segment of an edge (no dots, wildcards or
    /// spaces). Give a stable name to a process that restarts: on a durable bus each name
    /// is a durable consumer group. Default: `harbor-` and a random id.
    pub replica: String,
    /// How long an execution's lease lives without renewal, on a store that several
    /// processes share (one with [`Leases`](harbor_distributed::Leases)): a task whose
    /// process died is taken over by another within this time and half of it. Leases are
    /// renewed every third of it. Default [`DEFAULT_LEASE_TTL`].
    pub lease_ttl: Duration,
}

/// The default [`HandlerConfig::lease_ttl`]: 10 s.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(10);

/// The shortest [`HandlerConfig::lease_ttl`]: renewals every third of it must have time
/// to reach the store.
const MIN_LEASE_TTL: Duration = Duration::from_millis(300);

impl HandlerConfig {
    /// Settings for `card` with every other field at its default.
    pub fn new(card: AgentCard) -> Self {
        Self {
            card,
            extended_card: None,
            accept_missing_version: true,
            cancel_timeout: Duration::from_secs(5),
            limits: Limits::default(),
            max_task_bytes: 16 * 1024 * 1024,
            max_list_bytes: 8 * 1024 * 1024,
            replica: format!("harbor-{}", uuid::Uuid::new_v4().simple()),
            lease_ttl: DEFAULT_LEASE_TTL,
        }
    }
}

/// Builds a [`DefaultHandler`].
pub struct DefaultHandlerBuilder {
    config: HandlerConfig,
    executor: Arc<dyn AgentExecutor>,
    store: Option<Arc<dyn TaskLog>>,
    observer: Option<Arc<dyn EventObserver>>,
    push: Option<PushConfig>,
    bus: Option<Arc<dyn MessageBus>>,
    front_door: bool,
}

impl DefaultHandlerBuilder {
    /// Keeps tasks in this store, each as its event log (default: a fresh
    /// [`MemoryTaskStore`]).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TaskLog>) -> Self {
        self.store = Some(store);
        self
    }

    /// Delivers push notifications (see [`crate::push`]) with these settings, for an agent
    /// whose card declares push notifications. Default: none (push configs are stored, but
    /// nothing is delivered).
    #[must_use]
    pub fn push(mut self, config: PushConfig) -> Self {
        self.push = Some(config);
        self
    }

    /// Tells `observer` about every event appended to a task's log.
    #[must_use]
    pub fn observer(mut self, observer: Arc<dyn EventObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Announces every append on `bus` and follows the appends other processes announce
    /// there, so streams and subscribers here see tasks written elsewhere as they change
    /// (see [`harbor_distributed::store::fanout`]). Default: none, for a server that is the
    /// only writer of its store. [`build`](Self::build) then needs a tokio runtime.
    #[must_use]
    pub fn bus(mut self, bus: Arc<dyn MessageBus>) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Makes this handler a front door for agent [`Worker`](crate::Worker)s: it runs no
    /// agent code. A new message's task is created SUBMITTED here, under this process's
    /// lease, and a follow-up message is appended here; then work is published on the bus
    /// for the workers' consumer group, and a worker takes the lease over and runs the
    /// agent. CancelTask writes CANCELED here, and the worker stops. Streams, subscribers
    /// and blocking sends follow the task through the bus as they do for any task another
    /// process runs. Tasks whose lease expires are failed here, or their work is published
    /// again when the agent is [`retry_safe`](AgentExecutor::retry_safe) (the executor given
    /// to the builder only answers that question). Needs [`bus`](Self::bus) and a store with
    /// execution leases (PostgreSQL); see `docs/workers.md`.
    #[must_use]
    pub fn workers(mut self) -> Self {
        self.front_door = true;
        self
    }

    /// Sets the extended card.
    #[must_use]
    pub fn extended_card(mut self, card: AgentCard) -> Self {
        self.config.extended_card = Some(card);
        self
    }

    /// Changes the settings.
    #[must_use]
    pub fn configure(mut self, f: impl FnOnce(&mut HandlerConfig)) -> Self {
        f(&mut self.config);
        self
    }

    /// Checks the card and builds the handler.
    pub fn build(self) -> Result<DefaultHandler, A2aError> {
        harbor_a2a::validate::Validate::validate(&self.config.card)?;
        self.config.limits.check()?;
        if self.config.lease_ttl < MIN_LEASE_TTL {
            return Err(A2aError::invalid_params(format!(
                "a lease time to live of {:?} is shorter than the {MIN_LEASE_TTL:?} its renewals need",
                self.config.lease_ttl
            )));
        }
        if self.bus.is_some() {
            harbor_distributed::edge::validate_edge(&self.config.replica)
                .ok()
                .filter(|()| !self.config.replica.contains('.'))
                .ok_or_else(|| {
                    A2aError::invalid_params(format!(
                        "replica name {:?} must be one edge segment (no dots, wildcards or spaces)",
                        self.config.replica
                    ))
                })?;
            tokio::runtime::Handle::try_current().map_err(|_| {
                A2aError::internal("a handler with a bus must be built inside a tokio runtime")
            })?;
        }
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryTaskStore::new()));
        if self.front_door && (self.bus.is_none() || store.leases().is_none()) {
            return Err(A2aError::invalid_params(
                "a front door for workers needs a bus and a store with execution leases (PostgreSQL)",
            ));
        }
        if store.leases().is_some() {
            tokio::runtime::Handle::try_current().map_err(|_| {
                A2aError::internal(
                    "a handler on a store with execution leases must be built inside a tokio runtime",
                )
            })?;
        }
        let push = self
            .push
            .map(|config| Dispatcher::new(Arc::clone(&store), config))
            .transpose()
            .map_err(|e| A2aError::internal(format!("cannot make the webhook client: {e}")))?;
        let rt = Runtime::new(
            store,
            self.executor,
            self.observer,
            push,
            self.bus,
            (&self.config.replica, self.config.lease_ttl),
            (self.config.cancel_timeout, self.front_door),
        );
        Ok(DefaultHandler {
            rt,
            config: Arc::new(self.config),
        })
    }
}

/// A2A semantics (digest §6) over an agent and a task store; every binding serves it.
#[derive(Clone)]
pub struct DefaultHandler {
    rt: Arc<Runtime>,
    config: Arc<HandlerConfig>,
}

impl std::fmt::Debug for DefaultHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DefaultHandler")
            .field("agent", &self.config.card.name)
            .finish_non_exhaustive()
    }
}

impl DefaultHandler {
    /// A builder for `executor` described by `card`.
    pub fn builder(card: AgentCard, executor: Arc<dyn AgentExecutor>) -> DefaultHandlerBuilder {
        DefaultHandlerBuilder {
            config: HandlerConfig::new(card),
            executor,
            store: None,
            observer: None,
            push: None,
            bus: None,
            front_door: false,
        }
    }

    /// The settings.
    pub fn config(&self) -> &HandlerConfig {
        &self.config
    }

    /// Open streams, subscriptions and blocking sends waiting on a task: zero once every
    /// client is gone.
    pub fn open_streams(&self) -> usize {
        self.rt.open_readers()
    }

    /// Agent executions still running.
    pub fn running_executions(&self) -> usize {
        self.rt.running()
    }

    /// Stops the executions: they get `grace` to finish by themselves, then they are
    /// cancelled, and a task left SUBMITTED or WORKING by a cancelled execution is marked
    /// FAILED (unless the agent is [`retry_safe`](AgentExecutor::retry_safe)), so open
    /// streams of it end with that final status.
    pub async fn shutdown(&self, grace: Duration) {
        self.rt.shutdown(grace).await;
    }

    /// Picks up what an earlier process of this server left: push deliveries resume where
    /// their cursors stand, and tasks whose execution died with it (still SUBMITTED or
    /// WORKING in the store, not running here) are re-run when the agent is
    /// [`retry_safe`](AgentExecutor::retry_safe), else FAILED with a status message saying
    /// the execution was lost. Call it once at start, and only when this server is the
    /// only one writing its store (the embedded engine is one process's, by construction).
    ///
    /// # Errors
    ///
    /// The store's error when it cannot be read.
    pub async fn recover(&self) -> Result<Recovered, A2aError> {
        self.rt.recover().await.map_err(|e| e.to_a2a())
    }

    /// Push deliveries that gave up, any owner's (for operators), at most `limit` after the
    /// `(task id, config id)` `after`.
    ///
    /// # Errors
    ///
    /// The store's error; UnsupportedOperation when push delivery is off.
    pub async fn push_dead_letters(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, A2aError> {
        self.dispatcher()?
            .dead_letters(after, limit)
            .await
            .map_err(|e| e.to_a2a())
    }

    /// Delivers a dead letter again from the event it gave up on; false when there is no
    /// such dead letter.
    ///
    /// # Errors
    ///
    /// The store's error; UnsupportedOperation when push delivery is off.
    pub async fn redrive_push(&self, task_id: &str, config_id: &str) -> Result<bool, A2aError> {
        self.dispatcher()?
            .redrive(task_id, config_id)
            .await
            .map_err(|e| e.to_a2a())
    }

    /// Push delivery's counters; `None` when push delivery is off.
    pub fn push_counters(&self) -> Option<&crate::push::Counters> {
        self.rt.push().map(|push| push.counters())
    }

    fn dispatcher(&self) -> Result<&Arc<Dispatcher>, A2aError> {
        self.rt
            .push()
            .ok_or_else(|| A2aError::unsupported("push delivery is not configured"))
    }

    /// The card's capabilities (none declared reads as all off).
    fn capabilities(&self) -> &harbor_a2a::AgentCapabilities {
        static NONE: harbor_a2a::AgentCapabilities = harbor_a2a::AgentCapabilities {
            streaming: None,
            push_notifications: None,
            extensions: Vec::new(),
            extended_agent_card: None,
        };
        self.config.card.capabilities.as_ref().unwrap_or(&NONE)
    }

    /// The request against the size limits: once, at the edge, for every binding.
    fn check_limits(&self, req: &impl CheckLimits) -> Result<(), A2aError> {
        req.check_limits(&self.config.limits)
    }

    /// The service-parameter checks every RPC makes first: version, then extensions.
    fn check_call(&self, ctx: &CallContext) -> Result<(), A2aError> {
        match ctx.version.as_deref().map(str::trim) {
            None | Some("") if self.config.accept_missing_version => {}
            Some(v) if v.split('.').next() == Some("1") => {}
            other => {
                let asked = other.filter(|v| !v.is_empty()).unwrap_or("0.3");
                return Err(A2aError::new(
                    ErrorKind::VersionNotSupported,
                    format!("A2A version {asked} is not supported; this agent speaks 1.0"),
                )
                .with_metadata("version", asked));
            }
        }
        for ext in self.capabilities().extensions.iter().filter(|e| e.required) {
            if !ctx.extensions.contains(&ext.uri) {
                return Err(A2aError::new(
                    ErrorKind::ExtensionSupportRequired,
                    format!("this agent requires the extension {}", ext.uri),
                )
                .with_metadata("extension", ext.uri.as_str()));
            }
        }
        Ok(())
    }

    fn require_push(&self) -> Result<(), A2aError> {
        if self.capabilities().push_notifications == Some(true) {
            Ok(())
        } else {
            Err(A2aError::new(
                ErrorKind::PushNotificationNotSupported,
                "this agent does not support push notifications",
            ))
        }
    }

    fn require_streaming(&self) -> Result<(), A2aError> {
        if self.capabilities().streaming == Some(true) {
            Ok(())
        } else {
            Err(A2aError::unsupported(
                "this agent does not support streaming",
            ))
        }
    }
}

#[async_trait]
impl A2aHandler for DefaultHandler {
    async fn send_message(
        &self,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<SendMessageResponse, A2aError> {
        self.check_call(ctx)?;
        self.check_limits(&req)?;
        self.send(ctx, req).await
    }

    async fn send_streaming_message(
        &self,
        ctx: &CallContext,
        req: SendMessageRequest,
    ) -> Result<HandlerStream, A2aError> {
        self.check_call(ctx)?;
        self.check_limits(&req)?;
        self.require_streaming()?;
        self.send_streaming(ctx, req).await
    }

    async fn get_task(&self, ctx: &CallContext, req: GetTaskRequest) -> Result<Task, A2aError> {
        self.check_call(ctx)?;
        self.check_limits(&req)?;
        self.get(ctx, req).await
    }

    async fn list_tasks(
        &self,
        ctx: &CallContext,
        req: ListTasksRequest,
    ) -> Result<ListTasksResponse, A2aError> {
        self.check_call(ctx)?;
        self.check_limits(&req)?;
        self.list(ctx, req).await
    }

    async fn cancel_task(
        &self,
        ctx: &CallContext,
        req: CancelTaskRequest,
    ) -> Result<Task, A2aError> {
        self.check_call(ctx)?;
        self.check_limits(&req)?;
        self.cancel(ctx, req).await
    }

    async fn subscribe_to_task(
        &self,
        ctx: &CallContext,
        req: SubscribeToTaskRequest,
    ) -> Result<HandlerStream, A2aError> {
        self.check_call(ctx)?;
        self.check_limits(&req)?;
        self.require_streaming()?;
        self.subscribe(ctx, req).await
    }

    async fn create_task_push_notification_config(
        &self,
        ctx: &CallContext,
        req: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        self.check_call(ctx)?;
        self.check_limits(&req)?;
        self.require_push()?;
        self.create_push(ctx, req).await
    }

    async fn get_task_push_notification_config(
        &self,
        ctx: &CallContext,
        req: GetTaskPushNotificationConfigRequest,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        self.check_call(ctx)?;
        self.check_limits(&req)?;
        self.require_push()?;
        self.get_push(ctx, req).await
    }

    async fn list_task_push_notification_configs(
        &self,
        ctx: &CallContext,
        req: ListTaskPushNotificationConfigsRequest,
    ) -> Result<ListTaskPushNotificationConfigsResponse, A2aError> {
        self.check_call(ctx)?;
        self.check_limits(&req)?;
        self.require_push()?;
        self.list_push(ctx, req).await
    }

    async fn get_extended_agent_card(
        &self,
        ctx: &CallContext,
        req: GetExtendedAgentCardRequest,
    ) -> Result<AgentCard, A2aError> {
        self.check_call(ctx)?;
        self.check_limits(&req)?;
        let _ = req;
        if self.capabilities().extended_agent_card != Some(true) {
            return Err(A2aError::unsupported("this agent has no extended card"));
        }
        self.config.extended_card.clone().ok_or_else(|| {
            A2aError::new(
                ErrorKind::ExtendedAgentCardNotConfigured,
                "the extended agent card is declared but not configured",
            )
        })
    }

    async fn delete_task_push_notification_config(
        &self,
        ctx: &CallContext,
        req: DeleteTaskPushNotificationConfigRequest,
    ) -> Result<(), A2aError> {
        self.check_call(ctx)?;
        self.check_limits(&req)?;
        self.require_push()?;
        self.delete_push(ctx, req).await
    }

    async fn agent_card(&self) -> Result<AgentCard, A2aError> {
        Ok(self.config.card.clone())
    }
}
