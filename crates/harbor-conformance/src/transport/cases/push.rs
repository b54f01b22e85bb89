//! Push-notification config CRUD and the extended card.

use std::collections::BTreeMap;

use harbor_a2a::{
    AuthenticationInfo, DeleteTaskPushNotificationConfigRequest, ErrorKind,
    GetExtendedAgentCardRequest, GetTaskPushNotificationConfigRequest,
    ListTaskPushNotificationConfigsRequest, SendMessageConfiguration, TaskPushNotificationConfig,
};
use harbor_distributed::Error;

use super::calls::{Client, expect_protocol, fixture, identity, send_req_with, user_message};
use super::declared;
use super::wait::within;
use crate::transport::TransportFactory;
use crate::transport::agent::EXTENDED_SKILL;
use crate::transport::model::unique_id;

fn config(task_id: &str, id: &str, url: &str) -> TaskPushNotificationConfig {
    TaskPushNotificationConfig {
        id: id.to_owned(),
        task_id: task_id.to_owned(),
        url: url.to_owned(),
        token: unique_id("token"),
        authentication: Some(AuthenticationInfo {
            scheme: "Bearer".to_owned(),
            credentials: unique_id("credentials"),
        }),
        ..TaskPushNotificationConfig::default()
    }
}

impl Client {
    async fn create_push(
        &self,
        config: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, Error> {
        let call = self
            .transport
            .create_task_push_notification_config(&self.peer, &self.ctx, config);
        within("CreateTaskPushNotificationConfig", call).await
    }

    async fn get_push(&self, task_id: &str, id: &str) -> Result<TaskPushNotificationConfig, Error> {
        let req = GetTaskPushNotificationConfigRequest {
            task_id: task_id.to_owned(),
            id: id.to_owned(),
            ..GetTaskPushNotificationConfigRequest::default()
        };
        let call = self
            .transport
            .get_task_push_notification_config(&self.peer, &self.ctx, req);
        within("GetTaskPushNotificationConfig", call).await
    }

    /// The task's configs by id.
    async fn list_push(
        &self,
        task_id: &str,
    ) -> Result<BTreeMap<String, TaskPushNotificationConfig>, Error> {
        let req = ListTaskPushNotificationConfigsRequest {
            task_id: task_id.to_owned(),
            ..ListTaskPushNotificationConfigsRequest::default()
        };
        let call = self
            .transport
            .list_task_push_notification_configs(&self.peer, &self.ctx, req);
        let page = within("ListTaskPushNotificationConfigs", call).await?;
        Ok(page
            .configs
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect())
    }

    async fn delete_push(&self, task_id: &str, id: &str) -> Result<(), Error> {
        let req = DeleteTaskPushNotificationConfigRequest {
            task_id: task_id.to_owned(),
            id: id.to_owned(),
            ..DeleteTaskPushNotificationConfigRequest::default()
        };
        let call = self
            .transport
            .delete_task_push_notification_config(&self.peer, &self.ctx, req);
        within("DeleteTaskPushNotificationConfig", call).await
    }
}

/// Push configs on a completed task: client ids are kept, create upserts, list shows the
/// live set, delete is idempotent, a deleted or foreign config is TaskNotFound, and an
/// inline config sent with a message is stored.
pub async fn push_config_crud(factory: &dyn TransportFactory) {
    if !declared(factory, "push_config_crud", "push notifications", |c| {
        c.push_notifications
    }) {
        return;
    }
    let fx = fixture(factory, 1).await;
    let tenant = unique_id("tenant");
    let alice = Client::new(&fx, 0, identity(&tenant, "alice"));
    let task = alice.new_task("tck-complete-task").await;
    let (first_id, second_id) = (unique_id("push"), unique_id("push"));
    let ok = |r: Result<TaskPushNotificationConfig, Error>, what: &str| {
        r.unwrap_or_else(|e| panic!("{what}: {e}"))
    };

    let sent = config(&task.id, &first_id, "https://example.invalid/hook/1");
    let created = ok(
        alice.create_push(sent.clone()).await,
        "creating a push config on a completed task",
    );
    assert_eq!(created.id, first_id, "the client's config id must be kept");
    assert_eq!(created.task_id, task.id, "the config names its task");
    assert_eq!(
        (&created.url, &created.token, &created.authentication),
        (&sent.url, &sent.token, &sent.authentication),
        "config fields"
    );
    let got = ok(
        alice.get_push(&task.id, &first_id).await,
        "GetTaskPushNotificationConfig",
    );
    assert_eq!(got, created, "Get returns what Create stored");

    let replaced = ok(
        alice
            .create_push(config(
                &task.id,
                &first_id,
                "https://example.invalid/hook/2",
            ))
            .await,
        "upsert",
    );
    ok(
        alice
            .create_push(config(
                &task.id,
                &second_id,
                "https://example.invalid/hook/3",
            ))
            .await,
        "a second config",
    );
    let listed = alice
        .list_push(&task.id)
        .await
        .unwrap_or_else(|e| panic!("ListTaskPushNotificationConfigs: {e}"));
    assert_eq!(
        listed.keys().cloned().collect::<Vec<_>>(),
        {
            let mut ids = vec![first_id.clone(), second_id.clone()];
            ids.sort();
            ids
        },
        "one config per id"
    );
    assert_eq!(
        listed.get(&first_id),
        Some(&replaced),
        "create with a known id replaces the config"
    );

    alice
        .delete_push(&task.id, &first_id)
        .await
        .unwrap_or_else(|e| panic!("Delete: {e}"));
    alice
        .delete_push(&task.id, &first_id)
        .await
        .unwrap_or_else(|e| panic!("deleting twice must succeed: {e}"));
    expect_protocol(
        alice.get_push(&task.id, &first_id).await,
        ErrorKind::TaskNotFound,
        "Get after Delete",
    );
    let listed = alice
        .list_push(&task.id)
        .await
        .unwrap_or_else(|e| panic!("List after Delete: {e}"));
    assert_eq!(
        listed.keys().cloned().collect::<Vec<_>>(),
        std::slice::from_ref(&second_id),
        "List after Delete"
    );

    let bob = alice.acting_as(identity(&tenant, "bob"));
    expect_protocol(
        bob.get_push(&task.id, &second_id).await,
        ErrorKind::TaskNotFound,
        "Get on another user's task",
    );
    expect_protocol(
        bob.list_push(&task.id).await,
        ErrorKind::TaskNotFound,
        "List on another user's task",
    );
    expect_protocol(
        bob.create_push(config(
            &task.id,
            &unique_id("push"),
            "https://example.invalid/x",
        ))
        .await,
        ErrorKind::TaskNotFound,
        "Create on another user's task",
    );

    let inline_id = unique_id("push-inline");
    let message_config = SendMessageConfiguration {
        task_push_notification_config: Some(config(
            "",
            &inline_id,
            "https://example.invalid/inline",
        )),
        ..SendMessageConfiguration::default()
    };
    let with_inline = alice
        .send_task(send_req_with(
            user_message("tck-complete-task"),
            message_config,
        ))
        .await;
    let inline = ok(
        alice.get_push(&with_inline.id, &inline_id).await,
        "the inline config of SendMessage",
    );
    assert_eq!(
        inline.task_id, with_inline.id,
        "an inline config is bound to the new task"
    );
}

/// GetExtendedAgentCard returns the agent's extended card, for the caller's identity.
pub async fn extended_card(factory: &dyn TransportFactory) {
    if !declared(factory, "extended_card", "the extended card", |c| {
        c.extended_card
    }) {
        return;
    }
    let fx = fixture(factory, 1).await;
    let hosted = fx.agent(0);
    let alice = Client::new(&fx, 0, identity(&unique_id("tenant"), "alice"));
    let call = alice.transport.get_extended_agent_card(
        &alice.peer,
        &alice.ctx,
        GetExtendedAgentCardRequest::default(),
    );
    let card = within("GetExtendedAgentCard", call)
        .await
        .unwrap_or_else(|e| panic!("GetExtendedAgentCard: {e}"));
    assert_eq!(
        card.name,
        hosted.agent.name(),
        "the card of the agent the peer hosts"
    );
    assert!(
        !card.supported_interfaces.is_empty(),
        "a card lists its interfaces: {card:?}"
    );
    assert_eq!(
        card.capabilities
            .as_ref()
            .and_then(|c| c.extended_agent_card),
        Some(true),
        "the card declares the extended card"
    );
    assert!(
        card.skills.iter().any(|s| s.id == EXTENDED_SKILL),
        "the extended card has the extended skill: {:?}",
        card.skills
    );
    let calls = hosted.agent.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.method == "GetExtendedAgentCard" && c.identity == alice.ctx.identity),
        "the agent saw the call with the caller's identity: {calls:?}"
    );
}
