//! Push-notification configs: kept per task, by the id the client chose.
//!
//! The agent stores configs (including inline ones from SendMessage) but delivers nothing:
//! delivery is the server's job, not the transport's.

use harbor_a2a::{
    A2aError, DeleteTaskPushNotificationConfigRequest, GetTaskPushNotificationConfigRequest,
    ListTaskPushNotificationConfigsRequest, ListTaskPushNotificationConfigsResponse,
    TaskPushNotificationConfig,
};
use harbor_distributed::Owner;

use super::state::Tasks;

/// Creates or replaces (same id) a config of `owner`'s task. An empty id becomes the task id;
/// configs of finished tasks are accepted.
pub(super) fn create(
    tasks: &mut Tasks,
    owner: &Owner,
    mut config: TaskPushNotificationConfig,
) -> Result<TaskPushNotificationConfig, A2aError> {
    if config.url.is_empty() {
        return Err(A2aError::invalid_params("a push config needs a url"));
    }
    let record = tasks.get_mut(owner, &config.task_id)?;
    if config.id.is_empty() {
        config.id.clone_from(&config.task_id);
    }
    let configs = &mut record.push_configs;
    match configs.iter_mut().find(|c| c.id == config.id) {
        Some(existing) => *existing = config.clone(),
        None => configs.push(config.clone()),
    }
    Ok(config)
}

/// One config; an unknown id is TaskNotFound.
pub(super) fn get(
    tasks: &Tasks,
    owner: &Owner,
    req: &GetTaskPushNotificationConfigRequest,
) -> Result<TaskPushNotificationConfig, A2aError> {
    let record = tasks.get(owner, &req.task_id)?;
    record
        .push_configs
        .iter()
        .find(|c| c.id == req.id)
        .cloned()
        .ok_or_else(|| {
            A2aError::task_not_found(&req.task_id)
                .with_metadata("pushNotificationConfigId", &req.id)
        })
}

/// Every config of a task, in creation order, on one page.
pub(super) fn list(
    tasks: &Tasks,
    owner: &Owner,
    req: &ListTaskPushNotificationConfigsRequest,
) -> Result<ListTaskPushNotificationConfigsResponse, A2aError> {
    let record = tasks.get(owner, &req.task_id)?;
    Ok(ListTaskPushNotificationConfigsResponse {
        configs: record.push_configs.clone(),
        next_page_token: String::new(),
    })
}

/// Deletes a config; deleting one that does not exist succeeds.
pub(super) fn delete(
    tasks: &mut Tasks,
    owner: &Owner,
    req: &DeleteTaskPushNotificationConfigRequest,
) -> Result<(), A2aError> {
    let record = tasks.get_mut(owner, &req.task_id)?;
    record.push_configs.retain(|c| c.id != req.id);
    Ok(())
}
