//! SendMessage: replies keep their shape, parts cross intact, configuration is honoured.

use harbor_a2a::part::Content;
use harbor_a2a::{
    ListTasksRequest, Role, SendMessageConfiguration, TaskState, send_message_response,
};

use super::calls::{
    Client, fixture, follow_up, fresh_identity, send_req, send_req_with, user_message,
};
use super::wait::eventually;
use crate::transport::TransportFactory;
use crate::transport::model::{state_of, text_of, unique_id};

/// SendMessage answers a task as a task (completed, with the user message in its history
/// and the agent's status message) and a direct reply as a message; a client-chosen
/// `contextId` is kept; a direct reply creates no task.
pub async fn send_round_trip(factory: &dyn TransportFactory) {
    let fx = fixture(factory, 1).await;
    let alice = Client::new(&fx, 0, fresh_identity());

    let message = user_message("tck-complete-task");
    let task = alice.send_task(send_req(message.clone())).await;
    assert!(
        !task.id.is_empty(),
        "SendMessage: the task has no id: {task:?}"
    );
    assert!(
        !task.context_id.is_empty(),
        "SendMessage: the task has no contextId: {task:?}"
    );
    assert_eq!(
        state_of(&task),
        TaskState::Completed,
        "SendMessage(tck-complete-task) is blocking and must return the completed task: {task:?}"
    );
    let status = task.status.clone().unwrap_or_default();
    let status_message = status.message.unwrap_or_default();
    assert_eq!(
        status_message.role(),
        Role::Agent,
        "the status message must be the agent's"
    );
    assert_eq!(
        text_of(&status_message.parts),
        "Hello from TCK",
        "status message text"
    );
    assert!(
        status.timestamp.is_some(),
        "the status has no timestamp: {task:?}"
    );
    let sent = task
        .history
        .iter()
        .find(|m| m.message_id == message.message_id)
        .unwrap_or_else(|| panic!("the user message is not in the task's history: {task:?}"));
    assert_eq!(sent.role(), Role::User, "the user message changed role");
    assert_eq!(
        text_of(&sent.parts),
        "hello",
        "the user message changed text"
    );
    assert_eq!(
        sent.task_id, task.id,
        "the recorded user message names another task"
    );
    assert_eq!(
        sent.context_id, task.context_id,
        "the recorded user message names another context"
    );

    let reply = alice
        .send(send_req(user_message("tck-message-response")))
        .await;
    match reply {
        Ok(harbor_a2a::SendMessageResponse {
            payload: Some(send_message_response::Payload::Message(m)),
        }) => {
            assert_eq!(
                m.role(),
                Role::Agent,
                "a direct reply comes from the agent: {m:?}"
            );
            assert_eq!(
                text_of(&m.parts),
                "Direct message response",
                "direct reply text"
            );
            assert!(m.task_id.is_empty(), "a direct reply names no task: {m:?}");
            assert!(
                !m.context_id.is_empty(),
                "a direct reply carries a contextId: {m:?}"
            );
        }
        other => panic!("SendMessage(tck-message-response): expected a message, got {other:?}"),
    }

    let mut in_context = user_message("tck-complete-task");
    in_context.context_id = unique_id("ctx");
    let task2 = alice.send_task(send_req(in_context.clone())).await;
    assert_eq!(
        task2.context_id, in_context.context_id,
        "a client-chosen contextId must be kept"
    );

    let all = alice.list(ListTasksRequest::default()).await;
    assert_eq!(
        all.total_size, 2,
        "two tasks were started (the direct reply starts none): {all:?}"
    );
}

/// Artifacts with text, raw bytes, a URL and structured data arrive as the agent made them.
pub async fn send_artifact_parts(factory: &dyn TransportFactory) {
    let fx = fixture(factory, 1).await;
    let alice = Client::new(&fx, 0, fresh_identity());

    for prefix in [
        "tck-artifact-text",
        "tck-artifact-file",
        "tck-artifact-file-url",
        "tck-artifact-data",
    ] {
        let task = alice.new_task(prefix).await;
        assert_eq!(
            state_of(&task),
            TaskState::Completed,
            "{prefix}: task state"
        );
        assert_eq!(
            task.artifacts.len(),
            1,
            "{prefix}: expected one artifact: {task:?}"
        );
        let artifact = &task.artifacts[0];
        assert!(
            !artifact.artifact_id.is_empty(),
            "{prefix}: the artifact has no id"
        );
        let part = artifact
            .parts
            .first()
            .unwrap_or_else(|| panic!("{prefix}: the artifact has no part"));
        match (prefix, &part.content) {
            ("tck-artifact-text", Some(Content::Text(t))) => {
                assert_eq!(t, "Generated text content", "{prefix}: text");
            }
            ("tck-artifact-file", Some(Content::Raw(bytes))) => {
                assert_eq!(bytes.as_slice(), b"tck", "{prefix}: raw bytes");
            }
            ("tck-artifact-file-url", Some(Content::Url(url))) => {
                assert_eq!(url, "https://example.com/output.txt", "{prefix}: url");
            }
            ("tck-artifact-data", Some(Content::Data(value))) => {
                let expected = pbjson_types::Value::from(std::collections::HashMap::from([
                    ("key".to_owned(), pbjson_types::Value::from("value")),
                    ("count".to_owned(), pbjson_types::Value::from(42.0)),
                ]));
                assert_eq!(value, &expected, "{prefix}: data");
            }
            (_, other) => panic!("{prefix}: unexpected part content {other:?}"),
        }
        if prefix.starts_with("tck-artifact-file") {
            assert_eq!(part.filename, "output.txt", "{prefix}: filename");
            assert_eq!(part.media_type, "text/plain", "{prefix}: mediaType");
        }
    }
}

/// `returnImmediately` answers before the work is done; `historyLength` caps the history of
/// the returned task.
pub async fn send_configuration(factory: &dyn TransportFactory) {
    let fx = fixture(factory, 1).await;
    let agent = &fx.agent(0).agent;
    let alice = Client::new(&fx, 0, fresh_identity());

    // The slow behaviour works for seconds: a blocking send could not answer before it ends.
    let config = SendMessageConfiguration {
        return_immediately: true,
        ..SendMessageConfiguration::default()
    };
    let slow = user_message("test-resubscribe-message-id");
    let task = alice.send_task(send_req_with(slow, config)).await;
    assert!(
        matches!(state_of(&task), TaskState::Submitted | TaskState::Working),
        "returnImmediately must answer before the task is done: {task:?}"
    );
    let canceled = alice
        .cancel(&task.id)
        .await
        .unwrap_or_else(|e| panic!("canceling the working task failed: {e}"));
    assert_eq!(
        state_of(&canceled),
        TaskState::Canceled,
        "cancel of a working task"
    );
    eventually("work left after the cancel", 0, || agent.active_work()).await;

    let waiting = alice.new_task("tck-input-required").await;
    assert_eq!(
        state_of(&waiting),
        TaskState::InputRequired,
        "tck-input-required state"
    );
    let config = SendMessageConfiguration {
        history_length: Some(1),
        ..SendMessageConfiguration::default()
    };
    let next = follow_up("tck-input-required", &waiting.id);
    let capped = alice.send_task(send_req_with(next.clone(), config)).await;
    assert_eq!(
        capped.history.len(),
        1,
        "historyLength 1 keeps one message: {capped:?}"
    );
    assert_eq!(
        capped.history[0].message_id, next.message_id,
        "historyLength keeps the newest"
    );

    let config = SendMessageConfiguration {
        history_length: Some(0),
        ..SendMessageConfiguration::default()
    };
    let last = follow_up("tck-complete-task", &waiting.id);
    let bare = alice.send_task(send_req_with(last, config)).await;
    assert!(
        bare.history.is_empty(),
        "historyLength 0 returns no history: {bare:?}"
    );
    assert_eq!(
        state_of(&bare),
        TaskState::Completed,
        "the last follow-up completes the task"
    );
    let full = alice.get_ok(&waiting.id).await;
    assert_eq!(
        full.history.len(),
        3,
        "every user message is kept: {full:?}"
    );
}
