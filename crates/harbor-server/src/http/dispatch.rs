//! One place that turns a method name and its ProtoJSON params into a handler call, for
//! both JSON bindings.

use harbor_a2a::{A2aError, Method, from_json_value, to_json};
use harbor_distributed::{A2aHandler, CallContext, HandlerStream};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument;

/// What a call produced.
pub(crate) enum Reply {
    /// One response message, as ProtoJSON.
    Unary(Value),
    /// A stream of events.
    Stream(HandlerStream),
}

fn params<T: DeserializeOwned>(value: Value) -> Result<T, A2aError> {
    from_json_value(value)
}

fn unary<T: serde::Serialize>(message: &T) -> Result<Reply, A2aError> {
    Ok(Reply::Unary(to_json(message)?))
}

/// Calls `method` on `handler` with `value` as its request, in a span named for the RPC.
pub(crate) async fn dispatch(
    handler: &dyn A2aHandler,
    method: Method,
    ctx: &CallContext,
    value: Value,
) -> Result<Reply, A2aError> {
    let span = tracing::info_span!("a2a.rpc", method = method.json_rpc_name());
    call(handler, method, ctx, value).instrument(span).await
}

async fn call(
    handler: &dyn A2aHandler,
    method: Method,
    ctx: &CallContext,
    value: Value,
) -> Result<Reply, A2aError> {
    match method {
        Method::SendMessage => unary(&handler.send_message(ctx, params(value)?).await?),
        Method::SendStreamingMessage => Ok(Reply::Stream(
            handler.send_streaming_message(ctx, params(value)?).await?,
        )),
        Method::GetTask => unary(&handler.get_task(ctx, params(value)?).await?),
        Method::ListTasks => unary(&handler.list_tasks(ctx, params(value)?).await?),
        Method::CancelTask => unary(&handler.cancel_task(ctx, params(value)?).await?),
        Method::SubscribeToTask => Ok(Reply::Stream(
            handler.subscribe_to_task(ctx, params(value)?).await?,
        )),
        Method::CreateTaskPushNotificationConfig => unary(
            &handler
                .create_task_push_notification_config(ctx, params(value)?)
                .await?,
        ),
        Method::GetTaskPushNotificationConfig => unary(
            &handler
                .get_task_push_notification_config(ctx, params(value)?)
                .await?,
        ),
        Method::ListTaskPushNotificationConfigs => unary(
            &handler
                .list_task_push_notification_configs(ctx, params(value)?)
                .await?,
        ),
        Method::GetExtendedAgentCard => {
            unary(&handler.get_extended_agent_card(ctx, params(value)?).await?)
        }
        Method::DeleteTaskPushNotificationConfig => {
            handler
                .delete_task_push_notification_config(ctx, params(value)?)
                .await?;
            Ok(Reply::Unary(Value::Object(serde_json::Map::new())))
        }
    }
}
