//! Calls without a complete identity are refused before any handler runs.

use harbor_a2a::{
    CancelTaskRequest, DeleteTaskPushNotificationConfigRequest, GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest, GetTaskRequest, ListTaskPushNotificationConfigsRequest,
    ListTasksRequest, Method, SubscribeToTaskRequest, TaskPushNotificationConfig,
};
use harbor_distributed::{CallContext, Error, Identity};

use super::super::calls::{Client, fixture, fresh_identity, send_req, user_message};
use super::super::wait::within;
use crate::transport::TransportFactory;
use crate::transport::model::unique_id;

/// Every RPC with this context; the name and outcome of each.
async fn every_call(
    client: &Client,
    ctx: &CallContext,
    task_id: &str,
) -> Vec<(&'static str, Result<(), Error>)> {
    let (t, p) = (&client.transport, &client.peer);
    let id = task_id.to_owned();
    let mut results = vec![
        (
            "SendMessage",
            t.send_message(p, ctx, send_req(user_message("tck-complete-task")))
                .await
                .map(drop),
        ),
        (
            "SendStreamingMessage",
            t.send_streaming_message(p, ctx, send_req(user_message("tck-stream-002")))
                .await
                .map(drop),
        ),
        (
            "GetTask",
            t.get_task(
                p,
                ctx,
                GetTaskRequest {
                    id: id.clone(),
                    ..Default::default()
                },
            )
            .await
            .map(drop),
        ),
        (
            "ListTasks",
            t.list_tasks(p, ctx, ListTasksRequest::default())
                .await
                .map(drop),
        ),
        (
            "CancelTask",
            t.cancel_task(
                p,
                ctx,
                CancelTaskRequest {
                    id: id.clone(),
                    ..Default::default()
                },
            )
            .await
            .map(drop),
        ),
        (
            "SubscribeToTask",
            t.subscribe_to_task(
                p,
                ctx,
                SubscribeToTaskRequest {
                    id: id.clone(),
                    ..Default::default()
                },
            )
            .await
            .map(drop),
        ),
    ];
    let config = TaskPushNotificationConfig {
        id: unique_id("push"),
        task_id: id.clone(),
        url: "https://example.invalid/hook".to_owned(),
        ..Default::default()
    };
    let get = GetTaskPushNotificationConfigRequest {
        task_id: id.clone(),
        id: config.id.clone(),
        ..Default::default()
    };
    let list = ListTaskPushNotificationConfigsRequest {
        task_id: id.clone(),
        ..Default::default()
    };
    let delete = DeleteTaskPushNotificationConfigRequest {
        task_id: id.clone(),
        id: config.id.clone(),
        ..Default::default()
    };
    results.extend([
        (
            "CreateTaskPushNotificationConfig",
            t.create_task_push_notification_config(p, ctx, config)
                .await
                .map(drop),
        ),
        (
            "GetTaskPushNotificationConfig",
            t.get_task_push_notification_config(p, ctx, get)
                .await
                .map(drop),
        ),
        (
            "ListTaskPushNotificationConfigs",
            t.list_task_push_notification_configs(p, ctx, list)
                .await
                .map(drop),
        ),
        (
            "GetExtendedAgentCard",
            t.get_extended_agent_card(p, ctx, GetExtendedAgentCardRequest::default())
                .await
                .map(drop),
        ),
        (
            "DeleteTaskPushNotificationConfig",
            t.delete_task_push_notification_config(p, ctx, delete)
                .await
                .map(drop),
        ),
    ]);
    // A new RPC of the list needs a call here too.
    let named: Vec<&str> = results.iter().map(|(name, _)| *name).collect();
    let all: Vec<&str> = Method::ALL.iter().map(|m| m.json_rpc_name()).collect();
    assert_eq!(
        named, all,
        "every RPC is called once, in the service's order"
    );
    results
}

/// Each of the 11 RPCs with an identity missing its tenant, user or session (or with an
/// empty run) fails with [`Error::IdentityRequired`] naming the missing part, and the agent
/// records no call; the same calls with the full identity do reach it.
pub async fn identity_required(factory: &dyn TransportFactory) {
    let fx = fixture(factory, 1).await;
    let agent = &fx.agent(0).agent;
    let full = fresh_identity();
    let client = Client::new(&fx, 0, full.clone());
    let incomplete = [
        (
            "tenant",
            Identity {
                tenant: "".into(),
                ..full.clone()
            },
        ),
        (
            "user",
            Identity {
                user: "".into(),
                ..full.clone()
            },
        ),
        (
            "session",
            Identity {
                session: "".into(),
                ..full.clone()
            },
        ),
        ("run", full.clone().with_run("")),
        ("tenant", Identity::default()),
    ];
    let task_id = unique_id("task");
    for (missing, identity) in incomplete {
        let ctx = CallContext::new(identity);
        for (method, result) in within(
            "calls without identity",
            every_call(&client, &ctx, &task_id),
        )
        .await
        {
            match result {
                Err(Error::IdentityRequired { missing: m }) if m == missing => {}
                other => panic!(
                    "{method} without {missing}: expected IdentityRequired({missing}), got {other:?}"
                ),
            }
        }
    }
    let calls = agent.calls();
    assert!(
        calls.is_empty(),
        "calls without identity reached the agent: {calls:?}"
    );

    // The same calls with the full identity do reach it (most then fail as protocol errors).
    within(
        "calls with identity",
        every_call(&client, &client.ctx, &task_id),
    )
    .await;
    let caps = factory.capabilities();
    let mut expected = vec!["SendMessage", "GetTask", "ListTasks", "CancelTask"];
    if caps.streaming {
        expected.extend(["SendStreamingMessage", "SubscribeToTask"]);
    }
    if caps.push_notifications {
        expected.extend([
            "CreateTaskPushNotificationConfig",
            "GetTaskPushNotificationConfig",
            "ListTaskPushNotificationConfigs",
            "DeleteTaskPushNotificationConfig",
        ]);
    }
    if caps.extended_card {
        expected.push("GetExtendedAgentCard");
    }
    let calls = agent.calls();
    for method in expected {
        assert!(
            calls.iter().any(|c| c.method == method),
            "{method} with a complete identity never reached the agent: {calls:?}"
        );
    }
    assert!(
        calls.iter().all(|c| c.identity == full),
        "the agent saw another identity: {calls:?}"
    );
}
