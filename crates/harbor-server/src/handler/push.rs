//! The push-notification config RPCs. The capability is checked by the caller first.

use harbor_a2a::validate::Validate;
use harbor_a2a::{
    A2aError, DeleteTaskPushNotificationConfigRequest, GetTaskPushNotificationConfigRequest,
    ListTaskPushNotificationConfigsRequest, ListTaskPushNotificationConfigsResponse,
    TaskPushNotificationConfig,
};
use harbor_distributed::CallContext;

use super::DefaultHandler;
use crate::runtime::store_error;

impl DefaultHandler {
    pub(super) async fn create_push(
        &self,
        ctx: &CallContext,
        req: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        req.validate()?;
        let owner = ctx.identity.owner();
        let stored = self
            .rt
            .store()
            .get(&owner, &req.task_id)
            .await
            .map_err(store_error)?;
        // The config covers the events appended from now on.
        self.rt
            .register_push(&owner, req, &stored.task.id, stored.version, true)
            .await
    }

    pub(super) async fn get_push(
        &self,
        ctx: &CallContext,
        req: GetTaskPushNotificationConfigRequest,
    ) -> Result<TaskPushNotificationConfig, A2aError> {
        req.validate()?;
        self.rt
            .store()
            .get_push_config(&ctx.identity.owner(), &req.task_id, &req.id)
            .await
            .map_err(store_error)
    }

    pub(super) async fn list_push(
        &self,
        ctx: &CallContext,
        req: ListTaskPushNotificationConfigsRequest,
    ) -> Result<ListTaskPushNotificationConfigsResponse, A2aError> {
        req.validate()?;
        let configs = self
            .rt
            .store()
            .list_push_configs(&ctx.identity.owner(), &req.task_id)
            .await
            .map_err(store_error)?;
        // Every config fits one page: a task has few webhooks.
        Ok(ListTaskPushNotificationConfigsResponse {
            configs,
            next_page_token: String::new(),
        })
    }

    pub(super) async fn delete_push(
        &self,
        ctx: &CallContext,
        req: DeleteTaskPushNotificationConfigRequest,
    ) -> Result<(), A2aError> {
        req.validate()?;
        self.rt
            .store()
            .delete_push_config(&ctx.identity.owner(), &req.task_id, &req.id)
            .await
            .map_err(store_error)?;
        if let Some(push) = self.rt.push() {
            push.untrack(&req.task_id, &req.id);
        }
        Ok(())
    }
}
