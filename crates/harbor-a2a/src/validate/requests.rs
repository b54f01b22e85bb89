//! Rules for the request messages of the 11 RPCs and the two list responses.

use super::{Check, Path};
use crate::json::check_timestamp;
use crate::{
    A2aError, AuthenticationInfo, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTaskPushNotificationConfigsRequest, ListTaskPushNotificationConfigsResponse,
    ListTasksRequest, ListTasksResponse, Role, SendMessageConfiguration, SendMessageRequest,
    SubscribeToTaskRequest, TaskPushNotificationConfig, TaskState,
};

/// The `pageSize` range of ListTasks.
const LIST_TASKS_PAGE_SIZE: std::ops::RangeInclusive<i32> = 1..=100;

impl Check for SendMessageRequest {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        let message = at.require("message", &self.message)?;
        message.check(&at.field("message"))?;
        // The client speaks for the user; an agent's messages come from the agent.
        if message.role != Role::User as i32 {
            return Err(at
                .field("message")
                .field("role")
                .error("a message sent to an agent must have role ROLE_USER"));
        }
        at.optional("configuration", &self.configuration)
    }
}

impl Check for SendMessageConfiguration {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.non_negative("historyLength", self.history_length)?;
        at.optional(
            "taskPushNotificationConfig",
            &self.task_push_notification_config,
        )
    }
}

impl Check for GetTaskRequest {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("id", &self.id)?;
        at.non_negative("historyLength", self.history_length)
    }
}

impl Check for ListTasksRequest {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        // UNSPECIFIED (or absent) means "no filter"; only unknown numbers are wrong.
        if TaskState::try_from(self.status).is_err() {
            return Err(at
                .field("status")
                .error(format!("unknown task state {}", self.status)));
        }
        if let Some(size) = self.page_size
            && !LIST_TASKS_PAGE_SIZE.contains(&size)
        {
            return Err(at
                .field("pageSize")
                .error(format!("must be between 1 and 100, got {size}")));
        }
        at.non_negative("historyLength", self.history_length)?;
        if let Some(ts) = &self.status_timestamp_after {
            check_timestamp(ts).map_err(|e| at.field("statusTimestampAfter").error(e.message()))?;
        }
        Ok(())
    }
}

impl Check for ListTasksResponse {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.each("tasks", &self.tasks)?;
        at.non_negative("pageSize", Some(self.page_size))?;
        at.non_negative("totalSize", Some(self.total_size))
    }
}

impl Check for CancelTaskRequest {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("id", &self.id)
    }
}

impl Check for SubscribeToTaskRequest {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("id", &self.id)
    }
}

impl Check for TaskPushNotificationConfig {
    /// `taskId` is not checked: it is empty in an inline config (SendMessageConfiguration)
    /// and comes from the path on REST.
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("url", &self.url)?;
        super::push::check_config(at, self)?;
        at.optional("authentication", &self.authentication)
    }
}

impl Check for AuthenticationInfo {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("scheme", &self.scheme)?;
        super::push::check_authentication(at, self)
    }
}

impl Check for GetTaskPushNotificationConfigRequest {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("taskId", &self.task_id)?;
        at.require_str("id", &self.id)
    }
}

impl Check for DeleteTaskPushNotificationConfigRequest {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("taskId", &self.task_id)?;
        at.require_str("id", &self.id)
    }
}

impl Check for ListTaskPushNotificationConfigsRequest {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.require_str("taskId", &self.task_id)?;
        at.non_negative("pageSize", Some(self.page_size))
    }
}

impl Check for ListTaskPushNotificationConfigsResponse {
    fn check(&self, at: &Path<'_>) -> Result<(), A2aError> {
        at.each("configs", &self.configs)
    }
}

impl Check for GetExtendedAgentCardRequest {
    fn check(&self, _at: &Path<'_>) -> Result<(), A2aError> {
        Ok(())
    }
}
