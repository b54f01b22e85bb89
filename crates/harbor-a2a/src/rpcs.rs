//! The list of the 11 RPCs of `lf.a2a.v1.A2AService`: the one place that names them all.
//!
//! [`for_each_rpc!`](crate::for_each_rpc) hands the list to a macro of the caller's, which
//! turns it into whatever it needs: the [`Method`](crate::Method) enum and its tables here,
//! the handler and transport traits in `harbor-distributed`, the dispatch of each binding in
//! `harbor-server` and `harbor-client`. A new RPC is one more entry here (and its proto), its
//! handler, and nothing else written out by hand per RPC.

/// Calls `$callback! { … }` with every RPC of `lf.a2a.v1.A2AService`, in the service's order.
///
/// Each entry reads
///
/// ```text
/// /// docs
/// Variant snake_name: kind(RequestType -> ResponseType) [Verb "/path" Fields, …];
/// ```
///
/// - `Variant` is the [`Method`](crate::Method) variant, the JSON-RPC method name and the gRPC
///   method name; `snake_name` is the name of the RPC's method on every Rust trait;
/// - `kind` is `unary`, `stream` (the reply is a stream of `ResponseType`) or `empty` (the
///   reply is `google.protobuf.Empty`, written `Empty`, and `()` in Rust);
/// - `RequestType` and `ResponseType` are names of this crate's root (and of `lf.a2a.v1`);
/// - each route is a [`HttpVerb`](crate::HttpVerb) variant, a path template and a
///   [`RouteFields`](crate::methods::RouteFields) variant.
///
/// A callback that ignores the routes matches them as `[$($route:tt)*]`.
///
/// # Example
///
/// ```
/// macro_rules! names {
///     ($($(#[$doc:meta])* $variant:ident $fn:ident: $kind:ident($req:ident -> $resp:ident)
///         [$($route:tt)*];)*) => {
///         [$(stringify!($fn)),*]
///     };
/// }
/// let names = harbor_a2a::for_each_rpc!(names);
/// assert_eq!(names.len(), 11);
/// assert_eq!(names[0], "send_message");
/// ```
#[macro_export]
macro_rules! for_each_rpc {
    ($callback:ident) => {
        $callback! {
            /// `SendMessage`: send a message, get a task or a message back.
            SendMessage send_message: unary(SendMessageRequest -> SendMessageResponse)
                [Post "/message:send" Body];
            /// `SendStreamingMessage`: send a message, get a stream of `StreamResponse`.
            SendStreamingMessage send_streaming_message: stream(SendMessageRequest -> StreamResponse)
                [Post "/message:stream" Body];
            /// `GetTask`: read a task.
            GetTask get_task: unary(GetTaskRequest -> Task)
                [Get "/tasks/{id}" Query];
            /// `ListTasks`: list the caller's tasks, one page (with its `next_page_token`) at a
            /// time.
            ListTasks list_tasks: unary(ListTasksRequest -> ListTasksResponse)
                [Get "/tasks" Query];
            /// `CancelTask`: ask for a task to be canceled; the reply is the task after it.
            CancelTask cancel_task: unary(CancelTaskRequest -> Task)
                [Post "/tasks/{id}:cancel" Body];
            /// `SubscribeToTask`: stream a task's updates from its current state.
            // The proto says GET; the spec text and the conformance kit use POST. Both are
            // served, POST first (the one clients send).
            SubscribeToTask subscribe_to_task: stream(SubscribeToTaskRequest -> StreamResponse)
                [Post "/tasks/{id}:subscribe" Body, Get "/tasks/{id}:subscribe" PathOnly];
            /// `CreateTaskPushNotificationConfig`: register a webhook for a task.
            CreateTaskPushNotificationConfig create_task_push_notification_config:
                unary(TaskPushNotificationConfig -> TaskPushNotificationConfig)
                [Post "/tasks/{task_id}/pushNotificationConfigs" Body];
            /// `GetTaskPushNotificationConfig`: read one webhook registration.
            GetTaskPushNotificationConfig get_task_push_notification_config:
                unary(GetTaskPushNotificationConfigRequest -> TaskPushNotificationConfig)
                [Get "/tasks/{task_id}/pushNotificationConfigs/{id}" PathOnly];
            /// `ListTaskPushNotificationConfigs`: list a task's webhook registrations.
            ListTaskPushNotificationConfigs list_task_push_notification_configs:
                unary(ListTaskPushNotificationConfigsRequest -> ListTaskPushNotificationConfigsResponse)
                [Get "/tasks/{task_id}/pushNotificationConfigs" Query];
            /// `GetExtendedAgentCard`: the card for an authenticated caller.
            GetExtendedAgentCard get_extended_agent_card:
                unary(GetExtendedAgentCardRequest -> AgentCard)
                [Get "/extendedAgentCard" PathOnly];
            /// `DeleteTaskPushNotificationConfig`: remove a webhook registration.
            DeleteTaskPushNotificationConfig delete_task_push_notification_config:
                empty(DeleteTaskPushNotificationConfigRequest -> Empty)
                [Delete "/tasks/{task_id}/pushNotificationConfigs/{id}" PathOnly];
        }
    };
}
