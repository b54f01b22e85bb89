//! An agent that calls another agent: the `Coordinator` hands each message to a
//! `Shouter` agent through the `a2a` `RemoteTransport`, and answers with what it got back.
//!
//! The transport comes from the driver registry (`open_transport("a2a")`), so the same
//! code calls an in-process `loopback` peer in tests. Every call names its peer and carries
//! a caller identity; by default the remote agent learns nothing of that identity (the
//! client's per-peer identity policy).
//!
//! Run it:  cargo run -p harbor-examples --bin calling-agent
//!          harbor send http://127.0.0.1:9999 "hello there"
//!          (the Shouter listens on 127.0.0.1:9998)
//! Or once, against itself:
//!          cargo run -p harbor-examples --bin calling-agent -- --demo

use std::sync::Arc;

use async_trait::async_trait;
use harbor::a2a::{
    A2aError, ErrorKind, Message, Part, SendMessageRequest, Task, TaskState, send_message_response,
};
use harbor::distributed::{Peer, RemoteTransport};
use harbor::server::{AgentExecutor, EventSink, RequestContext};

/// The downstream agent: answers with the message upper-cased.
struct Shouter;

#[async_trait]
impl AgentExecutor for Shouter {
    async fn execute(&self, ctx: RequestContext, events: EventSink) -> Result<(), A2aError> {
        events
            .complete(Some(&ctx.message.text().to_uppercase()))
            .await
    }
}

/// The agent clients talk to: it delegates to the Shouter and reports back.
struct Coordinator {
    transport: Arc<dyn RemoteTransport>,
    shouter: Peer,
}

#[async_trait]
impl AgentExecutor for Coordinator {
    async fn execute(&self, ctx: RequestContext, events: EventSink) -> Result<(), A2aError> {
        events.working().await?;
        let request = SendMessageRequest {
            message: Some(Message::user(
                format!("{}-delegated", ctx.message.message_id),
                [Part::text(ctx.message.text())],
            )),
            ..SendMessageRequest::default()
        };
        // The caller's context travels on; the transport's identity policy decides what the
        // Shouter learns of it.
        let reply = self
            .transport
            .send_message(&self.shouter, &ctx.call, request)
            .await
            .map_err(|e| A2aError::new(ErrorKind::Internal, format!("the shouter failed: {e}")))?;
        let heard = match reply.payload {
            Some(send_message_response::Payload::Task(task)) => status_text(&task),
            Some(send_message_response::Payload::Message(message)) => message.text(),
            None => String::new(),
        };
        events
            .complete(Some(&format!("the shouter said: {heard}")))
            .await
    }
}

fn status_text(task: &Task) -> String {
    let message = task.status.as_ref().and_then(|s| s.message.as_ref());
    message.map(Message::text).unwrap_or_default()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = harbor_examples::demo_requested();
    let (front, back) = if demo {
        ("127.0.0.1:0", "127.0.0.1:0")
    } else {
        ("127.0.0.1:9999", "127.0.0.1:9998")
    };
    let transport = harbor::default_registry()?.open_transport("a2a").await?;
    let shouter =
        harbor_examples::serve("Shouter", "Shouts back.", Arc::new(Shouter), back).await?;
    let coordinator = Coordinator {
        transport: Arc::clone(&transport),
        shouter: Peer::new(&shouter.url),
    };
    let about = "Asks the Shouter and reports what it said.";
    let served = harbor_examples::serve("Coordinator", about, Arc::new(coordinator), front).await?;
    if !demo {
        let try_it = format!("harbor send {} \"hello there\"", served.url);
        return harbor_examples::serve_until_ctrl_c(&served, &try_it).await;
    }

    let request = SendMessageRequest {
        message: Some(Message::user("m-1", [Part::text("hello there")])),
        ..SendMessageRequest::default()
    };
    let reply = transport
        .send_message(
            &Peer::new(&served.url),
            &harbor_examples::caller()?,
            request,
        )
        .await?;
    let Some(send_message_response::Payload::Task(task)) = reply.payload else {
        anyhow::bail!("expected a task, got {reply:?}");
    };
    let answer = status_text(&task);
    println!(
        "coordinator task {} is {:?}: {answer}",
        task.id,
        task.state()
    );
    anyhow::ensure!(task.state() == TaskState::Completed, "not completed");
    anyhow::ensure!(
        answer == "the shouter said: HELLO THERE",
        "unexpected {answer:?}"
    );
    transport.close().await?;
    Ok(())
}
