//! The smallest agent: an `AgentExecutor` that greets, served with `harbor-server` on
//! JSON-RPC and HTTP+JSON.
//!
//! It shows the three pieces every Harbor agent has: the executor (what runs per message,
//! reporting through an `EventSink`), the agent card (what clients discover at
//! `/.well-known/agent-card.json`), and the `DefaultHandler` (A2A semantics: tasks,
//! streams, cancel, get, list) served by the HTTP router.
//!
//! Run it:  cargo run -p harbor-examples --bin minimal-agent
//!          harbor send http://127.0.0.1:9999 "Ada"          (prints "Hello, Ada!")
//! Or once, against itself (what CI does):
//!          cargo run -p harbor-examples --bin minimal-agent -- --demo

use std::sync::Arc;

use async_trait::async_trait;
use harbor::a2a::{A2aError, Message, Part, SendMessageRequest, TaskState, send_message_response};
use harbor::distributed::Peer;
use harbor::server::http::{HttpConfig, router};
use harbor::server::{AgentExecutor, DefaultHandler, EventSink, RequestContext};

/// The agent: one message in, one COMPLETED task out.
struct Greeter;

#[async_trait]
impl AgentExecutor for Greeter {
    async fn execute(&self, ctx: RequestContext, events: EventSink) -> Result<(), A2aError> {
        let name = ctx.message.text();
        events.complete(Some(&format!("Hello, {name}!"))).await
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = harbor_examples::demo_requested();
    let addr = if demo {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:9999"
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let url = format!("http://{}", listener.local_addr()?);

    // The card names the endpoints; the handler checks it when it is built.
    let card = harbor_examples::card("Greeter", "Says hello to whoever it is told.", &url);
    let handler = DefaultHandler::builder(card, Arc::new(Greeter)).build()?;
    let app = router(Arc::new(handler), &HttpConfig::default());
    // Served sockets set TCP_NODELAY: small stream events must not wait for Nagle.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    if !demo {
        println!("serving on {url} (Ctrl-C to stop)");
        println!("try: harbor send {url} Ada");
        tokio::select! {
            result = server => result??,
            result = tokio::signal::ctrl_c() => result?,
        }
        return Ok(());
    }

    // The demo: call ourselves as any A2A client would.
    let transport = harbor::default_registry()?.open_transport("a2a").await?;
    let request = SendMessageRequest {
        message: Some(Message::user("m-1", [Part::text("Ada")])),
        ..SendMessageRequest::default()
    };
    let reply = transport
        .send_message(&Peer::new(&url), &harbor_examples::caller()?, request)
        .await?;
    let Some(send_message_response::Payload::Task(task)) = reply.payload else {
        anyhow::bail!("expected a task, got {reply:?}");
    };
    let answer = task.status.as_ref().and_then(|s| s.message.as_ref());
    let answer = answer.map(Message::text).unwrap_or_default();
    println!("task {} is {:?}: {answer}", task.id, task.state());
    anyhow::ensure!(
        task.state() == TaskState::Completed,
        "the task did not complete"
    );
    anyhow::ensure!(answer == "Hello, Ada!", "unexpected answer {answer:?}");
    transport.close().await?;
    server.abort();
    Ok(())
}
