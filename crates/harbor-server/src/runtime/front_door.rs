//! A front door's own writes: in front-door mode no agent runs here, so the front door
//! creates a new task itself (SUBMITTED, under its first lease, kept alive by this
//! process's heartbeat until a worker takes it over) and writes a cancel's CANCELED
//! itself; the worker running the task sees that final status on its feed and stops.

use std::sync::Arc;

use harbor_a2a::{
    A2aError, Message, StreamResponse, Task, TaskPushNotificationConfig, TaskState, TaskStatus,
};
use harbor_distributed::{CallContext, LogEntry, Owner};
use tracing::debug;

use super::apply::{self, now};
use super::core::{Runtime, Started};
use super::feed::FeedHold;
use super::store_error;
use crate::executor::AgentEvent;

impl Runtime {
    /// Creates the task of a new message SUBMITTED, under this process's first lease, and
    /// publishes its work.
    pub(super) async fn submit_new(
        self: &Arc<Self>,
        call: CallContext,
        message: Message,
        push: Option<TaskPushNotificationConfig>,
    ) -> Result<Started, A2aError> {
        let Some((leasing, leases)) = self.leases() else {
            return Err(A2aError::internal(
                "a front door needs a store with execution leases",
            ));
        };
        let task = Task {
            id: message.task_id.clone(),
            context_id: message.context_id.clone(),
            status: Some(TaskStatus {
                state: TaskState::Submitted as i32,
                message: None,
                timestamp: Some(now()),
            }),
            history: vec![message],
            ..Task::default()
        };
        let owner = call.identity.owner();
        let fence = leasing.first();
        let event = StreamResponse::from(task.clone());
        let version = leases
            .append_fenced(
                &owner,
                &task,
                0,
                std::slice::from_ref(&event),
                &fence,
                leasing.ttl,
            )
            .await
            .map_err(store_error)?;
        crate::telemetry::log_appended(1);
        // The inline push config first, so that it takes the task's very first entry.
        if let Some(config) = push
            && let Err(error) = self.register_push(&owner, config, &task.id, 0, false).await
        {
            tracing::warn!(task_id = %task.id, %error, "the inline push config was not stored");
        }
        let entries = vec![LogEntry {
            sequence: version,
            event,
        }];
        self.appended(&owner, &task.id, &entries);
        let feed = self.feeds.create(owner, &task, entries);
        let reader = feed.reader(0);
        self.publish_work(&feed, &call.identity, fence, false).await;
        Ok(Started::Task { head: None, reader })
    }

    /// Cancels the task of `feed` by writing its CANCELED status here (under the task's
    /// lease when this process holds it or nobody does, else unfenced, ordered by the
    /// log's versions like any write); the worker running it stops when it sees that.
    pub(super) async fn cancel_here(
        &self,
        owner: &Owner,
        feed: &FeedHold,
    ) -> Result<Task, A2aError> {
        let _guard = Arc::clone(&feed.run_lock).lock_owned().await;
        let task_id = feed.current().0.id;
        // One attempt, no waiting: while a worker holds the lease, the cancel is written
        // without it.
        let fence = self.try_lease(owner, &task_id).await.map_err(store_error)?;
        let written = self
            .append_one(feed, owner, fence.as_ref(), |task| {
                if task.state().is_terminal() {
                    return Err(A2aError::new(
                        harbor_a2a::ErrorKind::TaskNotCancelable,
                        format!("task {} is already terminal", task.id),
                    )
                    .with_metadata("taskId", task.id.as_str()));
                }
                let mut task = task.clone();
                apply::apply(
                    &mut task,
                    AgentEvent::Status {
                        state: TaskState::Canceled,
                        message: None,
                    },
                )
            })
            .await;
        if let Some(fence) = &fence {
            self.release(&task_id, fence).await;
        }
        match written {
            Ok((task, _)) => Ok(task),
            // Canceled meanwhile by someone else: that is what was asked.
            Err(error) => {
                let (task, _) = feed.current();
                if task.state() == TaskState::Canceled {
                    debug!(%task_id, "the task was canceled meanwhile");
                    return Ok(task);
                }
                Err(error)
            }
        }
    }
}
