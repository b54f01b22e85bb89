//! Service parameters (A2A-Version, A2A-Extensions), unknown request fields, and the
//! serialization rules on a rich task.

use harbor_a2a::ErrorKind;
use serde_json::{Value, json};

use super::support::{id_of, message, new_task_in_state, request, send_task, unique, with};
use crate::server::checks::{is_utc_timestamp, same_json, state_of, str_at, timestamps};
use crate::server::{Binding, CaseFailure, ServerTarget};

/// `A2A-Version: 99.0` is VersionNotSupported (-32009 / 400), checked before anything
/// else (an unknown task id does not turn it into TaskNotFound).
pub async fn version_not_supported(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?.with_version(Some("99.0"));
    rpc.send_message(request(message("tck-complete-task")))
        .await?
        .expect_error(ErrorKind::VersionNotSupported)?;
    rpc.get_task(&unique("tck-nonexistent"), json!({}))
        .await?
        .expect_error(ErrorKind::VersionNotSupported)
        .map(drop)
}

/// An empty `A2A-Version` (and none at all) gets a well-formed answer: a result, or an
/// error of the binding's form that is not a server error.
pub async fn version_empty(target: &ServerTarget, binding: Binding) -> Result<(), CaseFailure> {
    for version in [Some(""), None] {
        let rpc = target.rpc(binding)?.with_version(version);
        let reply = rpc
            .send_message(request(message("tck-complete-task")))
            .await?;
        let at = reply.at.clone();
        if let Err(error) = &reply.result {
            at.ensure(error.http_status < 500, || {
                format!(
                    "A2A-Version {version:?} must not cause a server error: HTTP {} {}",
                    error.http_status, error.body
                )
            })?;
        }
    }
    Ok(())
}

/// Unknown URIs in `A2A-Extensions` are ignored: the call succeeds.
pub async fn unknown_extensions(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target
        .rpc(binding)?
        .with_extensions("urn:a2a:tck:unknown-extension-1, https://example.com/ext/unknown/v2");
    let task = send_task(&rpc, request(message("tck-complete-task"))).await?;
    rpc.at("SendMessage")
        .eq("state", state_of(&task), "TASK_STATE_COMPLETED")
}

/// Unknown fields in requests are ignored: in the request, its message and its
/// configuration (SendMessage), and in GetTask params or query.
pub async fn unknown_fields_ignored(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let sent = json!({
        "message": with(message("tck-complete-task"), "tckUnknownField", "ignored"),
        "configuration": {"tckUnknownField": true},
        "tckExtraParam": 1,
    });
    let task = send_task(&rpc, sent).await?;
    rpc.at("SendMessage")
        .eq("state", state_of(&task), "TASK_STATE_COMPLETED")?;
    let read = rpc
        .get_task(&id_of(&task), json!({"tckExtraParam": "ignored"}))
        .await?
        .ok()?;
    rpc.at("GetTask")
        .eq("task id", str_at(&read, "/id"), str_at(&task, "/id"))
}

/// A task with a data artifact, read by GetTask and ListTasks: enums are names, the data
/// part keeps its JSON types, and there are timestamps, each ending in `Z` (the suite
/// also checks keys, `kind` and timestamps on every answer).
pub async fn serialization_rules(
    target: &ServerTarget,
    binding: Binding,
) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let context = unique("tck-serial-ctx");
    let task = new_task_in_state(
        &rpc,
        "tck-artifact-data",
        "TASK_STATE_COMPLETED",
        Some(&context),
    )
    .await?;
    let read = rpc.get_task(&id_of(&task), json!({})).await?.ok()?;
    let listed = rpc
        .list_tasks(json!({"contextId": context, "includeArtifacts": true}))
        .await?
        .ok()?;
    for (rpc_name, document) in [
        ("SendMessage", &task),
        ("GetTask", &read),
        ("ListTasks", &listed),
    ] {
        let at = rpc.at(rpc_name);
        let stamps = timestamps(document);
        at.ensure(!stamps.is_empty(), || {
            format!("a task status must carry a timestamp: {document}")
        })?;
        at.ensure(stamps.iter().all(|s| is_utc_timestamp(s)), || {
            format!("timestamps must end in Z: {stamps:?}")
        })?;
    }
    let at = rpc.at("GetTask");
    at.ensure(
        str_at(&read, "/status/state").starts_with("TASK_STATE_"),
        || format!("the state must be an enum name: {read}"),
    )?;
    for m in read
        .get("history")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        at.ensure(str_at(m, "/role").starts_with("ROLE_"), || {
            format!("a role must be an enum name: {m}")
        })?;
    }
    let data = read
        .pointer("/artifacts/0/parts/0/data")
        .cloned()
        .unwrap_or_default();
    let want = json!({"key": "value", "count": 42});
    at.ensure(same_json(&data, &want), || {
        format!("the data part keeps its JSON types: got {data}, want {want}")
    })
}
