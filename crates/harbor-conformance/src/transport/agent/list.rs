//! ListTasks over one owner's tasks: filters, newest first, cursor paging.

use harbor_a2a::{A2aError, ListTasksRequest, ListTasksResponse, TaskState};
use harbor_distributed::Owner;

use super::state::{TaskRecord, Tasks};
use crate::transport::model::with_history;

/// The page size when the request names none.
const DEFAULT_PAGE_SIZE: i32 = 50;
/// The largest page size accepted.
const MAX_PAGE_SIZE: i32 = 100;

/// One page of `owner`'s tasks matching `req`.
///
/// The page token is the logical update time of the last task returned; the next page holds
/// the tasks updated before it. `nextPageToken` is empty on the last page.
pub(super) fn list(
    tasks: &Tasks,
    owner: &Owner,
    req: &ListTasksRequest,
) -> Result<ListTasksResponse, A2aError> {
    let page_size = req.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(A2aError::invalid_params(format!(
            "pageSize must be between 1 and {MAX_PAGE_SIZE}, not {page_size}"
        )));
    }
    if req.history_length.is_some_and(|n| n < 0) {
        return Err(A2aError::invalid_params(
            "historyLength must not be negative",
        ));
    }
    let before = if req.page_token.is_empty() {
        u64::MAX
    } else {
        req.page_token
            .parse::<u64>()
            .map_err(|_| A2aError::invalid_params("pageToken is not one this agent issued"))?
    };
    let status = TaskState::try_from(req.status).unwrap_or(TaskState::Unspecified);
    let after = req
        .status_timestamp_after
        .as_ref()
        .map(|t| (t.seconds, t.nanos));

    let mut matching: Vec<&TaskRecord> = tasks
        .owned_by(owner)
        .filter(|r| req.context_id.is_empty() || r.task.context_id == req.context_id)
        .filter(|r| status == TaskState::Unspecified || r.state() == status)
        .filter(|r| {
            let stamp = r.task.status.as_ref().and_then(|s| s.timestamp.as_ref());
            after.is_none_or(|after| stamp.is_some_and(|t| (t.seconds, t.nanos) >= after))
        })
        .collect();
    matching.sort_by_key(|r| std::cmp::Reverse(r.updated));

    let size = usize::try_from(page_size).unwrap_or(1);
    let rest: Vec<&TaskRecord> = matching
        .iter()
        .copied()
        .filter(|r| r.updated < before)
        .collect();
    let page = &rest[..rest.len().min(size)];
    let next_page_token = match page.last() {
        Some(last) if rest.len() > page.len() => last.updated.to_string(),
        _ => String::new(),
    };
    let include_artifacts = req.include_artifacts.unwrap_or(false);
    Ok(ListTasksResponse {
        tasks: page
            .iter()
            .map(|r| {
                let mut task = with_history(r.task.clone(), req.history_length);
                if !include_artifacts {
                    task.artifacts.clear();
                }
                task
            })
            .collect(),
        next_page_token,
        page_size,
        total_size: i32::try_from(matching.len()).unwrap_or(i32::MAX),
    })
}
