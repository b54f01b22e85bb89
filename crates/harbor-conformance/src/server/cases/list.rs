//! ListTasks: the empty page, paging, artifacts, the status filter and page-size bounds.

use std::collections::BTreeSet;

use harbor_a2a::ErrorKind;
use serde_json::{Value, json};

use super::support::{id_of, new_task, new_task_in_state, unique};
use crate::server::checks::{str_at, text_of};
use crate::server::rpc::Rpc;
use crate::server::{At, Binding, CaseFailure, ServerTarget};

/// Checks a ListTasksResponse's members (all four present) and returns its tasks.
pub(crate) fn page_of(at: &At, page: &Value) -> Result<Vec<Value>, CaseFailure> {
    let tasks = page.get("tasks").and_then(Value::as_array).ok_or_else(|| {
        at.fail(format!(
            "no tasks array (it is REQUIRED, even empty): {page}"
        ))
    })?;
    at.ensure(
        page.get("nextPageToken").is_some_and(Value::is_string),
        || format!("nextPageToken must always be present: {page}"),
    )?;
    at.ensure(page.get("pageSize").is_some_and(Value::is_i64), || {
        format!("pageSize must always be present: {page}")
    })?;
    at.ensure(page.get("totalSize").is_some_and(Value::is_i64), || {
        format!("totalSize must always be present: {page}")
    })?;
    Ok(tasks.clone())
}

async fn list(rpc: &Rpc<'_>, params: Value) -> Result<(At, Value, Vec<Value>), CaseFailure> {
    let reply = rpc.list_tasks(params).await?;
    let at = reply.at.clone();
    let page = reply.ok()?;
    let tasks = page_of(&at, &page)?;
    Ok((at, page, tasks))
}

/// ListTasks of a context nobody used answers `{"tasks": [], "nextPageToken": "",
/// "pageSize": n, "totalSize": 0}`, every member present.
pub async fn list_tasks_empty_context(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    for size in [2, 100] {
        let (at, page, tasks) = list(&rpc, json!({"contextId": unique("tck-unused-ctx"), "pageSize": size, "includeArtifacts": false})).await?;
        at.ensure(tasks.is_empty(), || {
            format!("an unused context has no tasks: {page}")
        })?;
        at.eq("nextPageToken", str_at(&page, "/nextPageToken"), "")?;
        at.eq("pageSize", &page["pageSize"], &json!(size))?;
        at.eq("totalSize", &page["totalSize"], &json!(0))?;
    }
    Ok(())
}

/// Paging with pageSize 2 over five tasks of a fresh context walks every task once,
/// newest first, with `totalSize` 5 on every page and an empty token on the last.
pub async fn list_tasks_paging(target: &ServerTarget, binding: Binding) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let context = unique("tck-paging-ctx");
    let mut created = BTreeSet::new();
    for _ in 0..5 {
        created.insert(id_of(
            &new_task(&rpc, "tck-complete-task", Some(&context)).await?,
        ));
    }
    let mut seen = Vec::new();
    let mut stamps = Vec::new();
    let mut token = String::new();
    for page_number in 1..=5 {
        let mut params = json!({"contextId": context, "pageSize": 2});
        if !token.is_empty() {
            params["pageToken"] = json!(token);
        }
        let (at, page, tasks) = list(&rpc, params).await?;
        at.eq("totalSize", &page["totalSize"], &json!(5))?;
        at.eq("pageSize", &page["pageSize"], &json!(2))?;
        at.ensure(tasks.len() <= 2, || {
            format!(
                "page {page_number} holds {} tasks, more than pageSize 2",
                tasks.len()
            )
        })?;
        for task in &tasks {
            let id = id_of(task);
            at.ensure(!seen.contains(&id), || {
                format!("task {id} appears twice while paging")
            })?;
            at.ensure(created.contains(&id), || {
                format!("task {id} is not one of this context's tasks")
            })?;
            stamps.push(timestamp_key(str_at(task, "/status/timestamp")));
            seen.push(id);
        }
        token = str_at(&page, "/nextPageToken").to_owned();
        if token.is_empty() {
            at.eq("tasks seen when nextPageToken is empty", &seen.len(), &5)?;
            let at = rpc.at("ListTasks");
            return at.ensure(stamps.windows(2).all(|w| w[0] >= w[1]), || {
                format!(
                    "tasks must come newest first (by status timestamp); got timestamps {stamps:?}"
                )
            });
        }
        at.ensure(!tasks.is_empty(), || {
            format!("page {page_number} is empty but has a nextPageToken")
        })?;
    }
    Err(rpc.at("ListTasks").fail(format!(
        "five tasks took more than five pages of 2; seen {}",
        seen.len()
    )))
}

/// A timestamp as a comparable `(date-time, nanoseconds)` pair.
fn timestamp_key(stamp: &str) -> (String, u64) {
    let (head, frac) = stamp
        .trim_end_matches('Z')
        .split_once('.')
        .unwrap_or((stamp.trim_end_matches('Z'), ""));
    let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
    (head.to_owned(), digits.parse().unwrap_or(0))
}

/// ListTasks omits `artifacts` unless `includeArtifacts` is true (also when it is
/// explicitly false), and includes them when it is.
pub async fn list_tasks_artifacts(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let context = unique("tck-artifacts-ctx");
    new_task_in_state(
        &rpc,
        "tck-artifact-text",
        "TASK_STATE_COMPLETED",
        Some(&context),
    )
    .await?;
    for params in [
        json!({"contextId": context}),
        json!({"contextId": context, "includeArtifacts": false}),
    ] {
        let (at, _, tasks) = list(&rpc, params.clone()).await?;
        at.eq("number of tasks", &tasks.len(), &1)?;
        at.ensure(tasks[0].get("artifacts").is_none(), || {
            format!(
                "with {params} the artifacts member must be omitted (not [] or null): {}",
                tasks[0]
            )
        })?;
    }
    let (at, _, tasks) = list(
        &rpc,
        json!({"contextId": context, "includeArtifacts": true}),
    )
    .await?;
    at.eq("number of tasks", &tasks.len(), &1)?;
    let artifact = tasks[0].pointer("/artifacts/0").ok_or_else(|| {
        at.fail(format!(
            "includeArtifacts true must include the artifacts: {}",
            tasks[0]
        ))
    })?;
    at.eq(
        "artifact text",
        text_of(artifact).as_str(),
        "Generated text content",
    )
}

/// The `status` filter keeps only tasks in that state.
pub async fn list_tasks_status_filter(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let context = unique("tck-status-ctx");
    let waiting = new_task_in_state(
        &rpc,
        "tck-input-required",
        "TASK_STATE_INPUT_REQUIRED",
        Some(&context),
    )
    .await?;
    let done = new_task_in_state(
        &rpc,
        "tck-complete-task",
        "TASK_STATE_COMPLETED",
        Some(&context),
    )
    .await?;
    let (at, _, all) = list(&rpc, json!({"contextId": context})).await?;
    at.eq("tasks without a status filter", &all.len(), &2)?;
    for (state, want) in [
        ("TASK_STATE_INPUT_REQUIRED", &waiting),
        ("TASK_STATE_COMPLETED", &done),
    ] {
        let (at, page, tasks) = list(&rpc, json!({"contextId": context, "status": state})).await?;
        let ids: Vec<String> = tasks.iter().map(id_of).collect();
        at.eq(
            &format!("tasks with status {state}"),
            &ids,
            &vec![id_of(want)],
        )?;
        at.eq("totalSize", &page["totalSize"], &json!(1))?;
    }
    Ok(())
}

/// pageSize 0 and 101 are InvalidParams (-32602 / 400).
pub async fn list_tasks_page_size_bounds(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    for size in [0, 101] {
        rpc.list_tasks(json!({"pageSize": size}))
            .await?
            .expect_error(ErrorKind::InvalidParams)?;
    }
    Ok(())
}
