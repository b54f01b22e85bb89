//! Handler rules that need a particular card or agent: capability switches, required
//! extensions, versions, agent failures and cancelling a running execution.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use harbor_a2a::{
    A2aError, AgentCapabilities, AgentCard, AgentExtension, CancelTaskRequest, ErrorKind,
    GetExtendedAgentCardRequest, GetTaskRequest, Message, Part, SendMessageRequest,
    SubscribeToTaskRequest, TaskPushNotificationConfig, TaskState, send_message_response::Payload,
};
use harbor_distributed::{A2aHandler, CallContext, Identity};
use harbor_server::agent::ConformanceAgent;
use harbor_server::{AgentExecutor, DefaultHandler, EventSink, RequestContext};
use harbor_test_support::cards;

fn card(capabilities: AgentCapabilities) -> AgentCard {
    cards::card("handler", "test", cards::NOWHERE, capabilities)
}

fn ctx() -> CallContext {
    CallContext::new(Identity::new("t", "u", "s").expect("identity"))
}

fn send(id: &str) -> SendMessageRequest {
    SendMessageRequest {
        message: Some(Message::user(id, [Part::text("hi")])),
        ..SendMessageRequest::default()
    }
}

fn kind<T: std::fmt::Debug>(result: Result<T, A2aError>) -> ErrorKind {
    result.expect_err("expected an error").kind()
}

#[tokio::test]
async fn switched_off_capabilities_refuse_before_any_lookup() {
    let handler = DefaultHandler::builder(
        card(AgentCapabilities::default()),
        Arc::new(ConformanceAgent::default()),
    )
    .build()
    .expect("handler");
    let push = TaskPushNotificationConfig {
        task_id: "t".into(),
        url: "https://example.com/hook".into(),
        ..TaskPushNotificationConfig::default()
    };
    assert_eq!(
        kind(
            handler
                .create_task_push_notification_config(&ctx(), push)
                .await
        ),
        ErrorKind::PushNotificationNotSupported
    );
    let stream = handler
        .send_streaming_message(&ctx(), send("m-1"))
        .await
        .map(drop);
    assert_eq!(kind(stream), ErrorKind::UnsupportedOperation);
    let subscribe = handler
        .subscribe_to_task(
            &ctx(),
            SubscribeToTaskRequest {
                id: "nope".into(),
                ..Default::default()
            },
        )
        .await
        .map(drop);
    assert_eq!(kind(subscribe), ErrorKind::UnsupportedOperation);
    let extended = handler
        .get_extended_agent_card(&ctx(), GetExtendedAgentCardRequest::default())
        .await;
    assert_eq!(kind(extended), ErrorKind::UnsupportedOperation);
}

#[tokio::test]
async fn a_declared_but_missing_extended_card_is_not_configured() {
    let capabilities = AgentCapabilities {
        extended_agent_card: Some(true),
        ..AgentCapabilities::default()
    };
    let handler =
        DefaultHandler::builder(card(capabilities), Arc::new(ConformanceAgent::default()))
            .build()
            .expect("handler");
    let extended = handler
        .get_extended_agent_card(&ctx(), GetExtendedAgentCardRequest::default())
        .await;
    assert_eq!(kind(extended), ErrorKind::ExtendedAgentCardNotConfigured);
}

#[tokio::test]
async fn required_extensions_and_versions_are_checked_first() {
    let capabilities = AgentCapabilities {
        extensions: vec![
            AgentExtension {
                uri: "urn:required".into(),
                required: true,
                ..AgentExtension::default()
            },
            AgentExtension {
                uri: "urn:optional".into(),
                ..AgentExtension::default()
            },
        ],
        ..AgentCapabilities::default()
    };
    let handler =
        DefaultHandler::builder(card(capabilities), Arc::new(ConformanceAgent::default()))
            .build()
            .expect("handler");
    let get = || GetTaskRequest {
        id: "missing".into(),
        ..GetTaskRequest::default()
    };
    assert_eq!(
        kind(handler.get_task(&ctx(), get()).await),
        ErrorKind::ExtensionSupportRequired
    );
    let declared = ctx()
        .with_extension("urn:unknown")
        .with_extension("urn:required");
    assert_eq!(
        kind(handler.get_task(&declared, get()).await),
        ErrorKind::TaskNotFound,
        "with the extension the call proceeds"
    );
    for (version, expected) in [
        (Some("99.0"), Some(ErrorKind::VersionNotSupported)),
        (Some("0.3"), Some(ErrorKind::VersionNotSupported)),
        (Some("1.1"), None),
        (None, None),
        (Some(""), None),
    ] {
        let mut call = declared.clone();
        call.version = version.map(str::to_owned);
        let got = handler.get_task(&call, get()).await.err().map(|e| e.kind());
        let expected = expected.or(Some(ErrorKind::TaskNotFound));
        assert_eq!(got, expected, "A2A-Version {version:?}");
    }
}

/// Fails at once, or after reporting WORKING, as told by the message id.
struct Failing;

#[async_trait]
impl AgentExecutor for Failing {
    async fn execute(&self, ctx: RequestContext, events: EventSink) -> Result<(), A2aError> {
        if ctx.message.message_id.starts_with("late") {
            events.working().await?;
        }
        Err(A2aError::internal("the model is down"))
    }
}

#[tokio::test]
async fn agent_failures_fail_the_request_or_the_task() {
    let handler = DefaultHandler::builder(card(AgentCapabilities::default()), Arc::new(Failing))
        .build()
        .expect("handler");
    let early = handler.send_message(&ctx(), send("early-1")).await;
    assert_eq!(
        early.expect_err("no task was created").message(),
        "the model is down"
    );
    let late = handler
        .send_message(&ctx(), send("late-1"))
        .await
        .expect("a task was created");
    let Some(Payload::Task(task)) = late.payload else {
        panic!("expected a task, got {late:?}")
    };
    assert_eq!(task.state(), TaskState::Failed);
    let text = task
        .status
        .and_then(|s| s.message)
        .map(|m| m.text())
        .unwrap_or_default();
    assert!(
        text.contains("the model is down"),
        "the failure is explained: {text:?}"
    );
}

#[tokio::test]
async fn cancel_stops_a_running_execution() {
    let agent = ConformanceAgent {
        resubscribe_delay: Duration::from_secs(30),
    };
    let handler = DefaultHandler::builder(card(AgentCapabilities::default()), Arc::new(agent))
        .build()
        .expect("handler");
    let mut request = send("test-resubscribe-message-id-1");
    request.configuration = Some(harbor_a2a::SendMessageConfiguration {
        return_immediately: true,
        ..Default::default()
    });
    let started = handler.send_message(&ctx(), request).await.expect("send");
    let Some(Payload::Task(task)) = started.payload else {
        panic!("expected a task")
    };
    let canceled = tokio::time::timeout(
        Duration::from_secs(5),
        handler.cancel_task(
            &ctx(),
            CancelTaskRequest {
                id: task.id.clone(),
                ..Default::default()
            },
        ),
    )
    .await
    .expect("cancel must not wait for the 30 s execution")
    .expect("cancel");
    assert_eq!(canceled.state(), TaskState::Canceled);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while handler.running_executions() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the execution was not stopped"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let again = handler
        .cancel_task(
            &ctx(),
            CancelTaskRequest {
                id: task.id,
                ..Default::default()
            },
        )
        .await
        .expect("canceling twice returns the task");
    assert_eq!(again.state(), TaskState::Canceled);
}
