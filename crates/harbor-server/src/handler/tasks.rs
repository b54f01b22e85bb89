//! GetTask, ListTasks, CancelTask and SubscribeToTask.

use std::time::{Duration, UNIX_EPOCH};

use harbor_a2a::validate::Validate;
use harbor_a2a::{
    A2aError, CancelTaskRequest, GetTaskRequest, ListTasksRequest, ListTasksResponse,
    SubscribeToTaskRequest, Task, TaskState,
};
use harbor_distributed::{CallContext, HandlerStream, StoredTask, TaskQuery};

use super::DefaultHandler;
use super::budget::fit_task;
use super::send::{Until, log_stream};
use crate::runtime::feed::is_terminal;
use crate::runtime::{limit_history, store_error};

/// The page size when a ListTasks request sets none.
const DEFAULT_PAGE_SIZE: i32 = 50;

impl DefaultHandler {
    /// The caller's task `id` (another owner's is TaskNotFound).
    async fn load(&self, ctx: &CallContext, id: &str) -> Result<StoredTask, A2aError> {
        self.rt
            .store()
            .get(&ctx.identity.owner(), id)
            .await
            .map_err(store_error)
    }

    pub(super) async fn get(
        &self,
        ctx: &CallContext,
        req: GetTaskRequest,
    ) -> Result<Task, A2aError> {
        req.validate()?;
        let stored = self.load(ctx, &req.id).await?;
        let mut task = stored.task;
        limit_history(&mut task, req.history_length);
        fit_task(&mut task, self.config.max_task_bytes);
        Ok(task)
    }

    pub(super) async fn list(
        &self,
        ctx: &CallContext,
        req: ListTasksRequest,
    ) -> Result<ListTasksResponse, A2aError> {
        req.validate()?;
        let page_size = req.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        let status = match TaskState::try_from(req.status) {
            Ok(TaskState::Unspecified) => None,
            Ok(state) => Some(state),
            Err(_) => {
                return Err(A2aError::invalid_params(format!(
                    "status {} is not a task state",
                    req.status
                )));
            }
        };
        let status_after = req.status_timestamp_after.map(|t| {
            let secs = u64::try_from(t.seconds).unwrap_or(0);
            UNIX_EPOCH + Duration::new(secs, u32::try_from(t.nanos).unwrap_or(0))
        });
        let query = TaskQuery {
            context_id: Some(req.context_id).filter(|c| !c.is_empty()),
            status,
            status_after,
            page_size: u32::try_from(page_size).unwrap_or(0),
            page_token: req.page_token,
            max_bytes: Some(self.config.max_list_bytes),
        };
        let page = self
            .rt
            .store()
            .list(&ctx.identity.owner(), &query)
            .await
            .map_err(|e| match e {
                harbor_distributed::Error::InvalidArgument(m) => A2aError::invalid_params(m),
                other => store_error(other),
            })?;
        let include_artifacts = req.include_artifacts.unwrap_or(false);
        let tasks = page
            .tasks
            .into_iter()
            .map(|mut task| {
                if !include_artifacts {
                    task.artifacts.clear();
                }
                limit_history(&mut task, req.history_length);
                fit_task(&mut task, self.config.max_task_bytes);
                task
            })
            .collect();
        Ok(ListTasksResponse {
            tasks,
            next_page_token: page.next_page_token,
            page_size,
            total_size: i32::try_from(page.total_size).unwrap_or(i32::MAX),
        })
    }

    pub(super) async fn cancel(
        &self,
        ctx: &CallContext,
        req: CancelTaskRequest,
    ) -> Result<Task, A2aError> {
        req.validate()?;
        let stored = self.load(ctx, &req.id).await?;
        self.rt.cancel(ctx.clone(), stored).await
    }

    /// SubscribeToTask: the task now, then every later event until it is terminal. With
    /// `Last-Event-ID: n` (a resumed stream) it sends exactly the events after entry `n`
    /// instead, also for a task that has ended since (then it closes after them).
    pub(super) async fn subscribe(
        &self,
        ctx: &CallContext,
        req: SubscribeToTaskRequest,
    ) -> Result<HandlerStream, A2aError> {
        req.validate()?;
        let stored = self.load(ctx, &req.id).await?;
        let resume = ctx
            .last_event_id()
            .map(|id| resume_position(id, &stored))
            .transpose()?;
        let feed = self.rt.feed(&stored);
        match resume {
            Some(after) => Ok(log_stream(None, feed.reader(after), Until::Terminal, None)),
            None if is_terminal(&stored.task) => Err(A2aError::unsupported(format!(
                "task {} is in a terminal state; there is nothing to subscribe to",
                req.id
            ))
            .with_metadata("taskId", req.id.as_str())),
            None => {
                let (task, version, reader) = feed.subscribe();
                Ok(log_stream(
                    Some((task, version)),
                    reader,
                    Until::Terminal,
                    None,
                ))
            }
        }
    }
}

/// The log position a `Last-Event-ID` names: an event sequence of this task's log.
fn resume_position(id: &str, stored: &StoredTask) -> Result<u64, A2aError> {
    let position = id.trim().parse::<u64>().map_err(|_| {
        A2aError::invalid_params(format!(
            "Last-Event-ID {:?} is not an event id of this server (a sequence number)",
            truncate(id)
        ))
    })?;
    if position > stored.version {
        return Err(A2aError::invalid_params(format!(
            "Last-Event-ID {position} is past the last event of task {} ({})",
            stored.task.id, stored.version
        )));
    }
    Ok(position)
}

/// At most 64 characters of a caller's string, for an error message.
fn truncate(s: &str) -> &str {
    s.char_indices().nth(64).map_or(s, |(i, _)| &s[..i])
}
