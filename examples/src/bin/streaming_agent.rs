//! A streaming agent: status updates and an artifact sent in chunks (`append`,
//! `lastChunk`), stopping when the task is canceled.
//!
//! The executor types its answer back one word at a time. Clients of
//! SendStreamingMessage (or SubscribeToTask) see each chunk as it is emitted; GetTask
//! shows the artifact assembled. A CancelTask fires `ctx.cancel`: the executor stops where
//! it is and the handler ends the task CANCELED.
//!
//! Run it:  cargo run -p harbor-examples --bin streaming-agent
//!          harbor stream http://127.0.0.1:9999 "one two three four"
//! Or once, against itself (a stream, then a cancel half-way):
//!          cargo run -p harbor-examples --bin streaming-agent -- --demo

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use harbor::a2a::stream_response::Payload;
use harbor::a2a::{
    A2aError, Artifact, CancelTaskRequest, GetTaskRequest, Message, Part, SendMessageConfiguration,
    SendMessageRequest, TaskState, send_message_response,
};
use harbor::distributed::Peer;
use harbor::server::{AgentExecutor, EventSink, RequestContext, text_part};

/// The pause between two chunks.
const PACE: Duration = Duration::from_millis(100);

/// Echoes the message back, one word per artifact chunk.
struct Typewriter;

#[async_trait]
impl AgentExecutor for Typewriter {
    async fn execute(&self, ctx: RequestContext, events: EventSink) -> Result<(), A2aError> {
        let text = ctx.message.text();
        let words: Vec<&str> = text.split_whitespace().collect();
        let typing = events.agent_message(vec![text_part("typing…")]);
        events.status(TaskState::Working, Some(typing)).await?;
        for (i, word) in words.iter().enumerate() {
            tokio::select! {
                () = tokio::time::sleep(PACE) => {}
                // Canceled: stop here; the handler's cancel ends the task CANCELED.
                () = ctx.cancel.cancelled() => return Ok(()),
            }
            let chunk = Artifact {
                artifact_id: "typed".into(),
                name: "typed".into(),
                parts: vec![text_part(&format!("{word} "))],
                ..Artifact::default()
            };
            // The first chunk creates the artifact; later ones append to it.
            events.artifact(chunk, i > 0, i + 1 == words.len()).await?;
        }
        events.complete(Some("done typing")).await
    }
}

fn request(text: &str, return_immediately: bool) -> SendMessageRequest {
    SendMessageRequest {
        message: Some(Message::user(format!("m-{text}"), [Part::text(text)])),
        configuration: Some(SendMessageConfiguration {
            return_immediately,
            ..SendMessageConfiguration::default()
        }),
        ..SendMessageRequest::default()
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
    let about = "Types your message back, one word at a time.";
    let served = harbor_examples::serve("Typewriter", about, Arc::new(Typewriter), addr).await?;
    if !demo {
        let try_it = format!("harbor stream {} \"one two three four\"", served.url);
        return harbor_examples::serve_until_ctrl_c(&served, &try_it).await;
    }

    let transport = harbor::default_registry()?.open_transport("a2a").await?;
    let (peer, ctx) = (Peer::new(&served.url), harbor_examples::caller()?);

    // 1. A stream: the task, WORKING, one chunk per word, COMPLETED.
    let mut stream = transport
        .send_streaming_message(&peer, &ctx, request("one two three four", false))
        .await?;
    let mut typed = String::new();
    let mut last_state = None;
    while let Some(event) = stream.next().await {
        match event?.payload {
            Some(Payload::Task(task)) => println!("task      {}", task.id),
            Some(Payload::StatusUpdate(update)) => {
                let state = update.status.map(|s| s.state());
                println!("status    {state:?}");
                last_state = state;
            }
            Some(Payload::ArtifactUpdate(update)) => {
                let chunk: String = update
                    .artifact
                    .iter()
                    .map(|a| a.parts.iter().filter_map(Part::as_text).collect::<String>())
                    .collect();
                println!(
                    "chunk     {chunk:?} append={} last={}",
                    update.append, update.last_chunk
                );
                typed.push_str(&chunk);
            }
            other => println!("other     {other:?}"),
        }
    }
    anyhow::ensure!(typed == "one two three four ", "typed {typed:?}");
    anyhow::ensure!(
        last_state == Some(TaskState::Completed),
        "ended {last_state:?}"
    );

    // 2. A cancel half-way: start without waiting, cancel after a few words, see it stop.
    let long: Vec<String> = (1..=50).map(|i| format!("w{i}")).collect();
    let reply = transport
        .send_message(&peer, &ctx, request(&long.join(" "), true))
        .await?;
    let Some(send_message_response::Payload::Task(task)) = reply.payload else {
        anyhow::bail!("expected a task");
    };
    let get = GetTaskRequest {
        id: task.id.clone(),
        ..GetTaskRequest::default()
    };
    let typed_words =
        |task: &harbor::a2a::Task| task.artifacts.first().map_or(0, |a| a.parts.len());
    while typed_words(&transport.get_task(&peer, &ctx, get.clone()).await?) < 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cancel = CancelTaskRequest {
        id: task.id.clone(),
        ..CancelTaskRequest::default()
    };
    let canceled = transport.cancel_task(&peer, &ctx, cancel).await?;
    let chunks = typed_words(&canceled);
    println!(
        "canceled  {:?} after {chunks} of {} words",
        canceled.state(),
        long.len()
    );
    anyhow::ensure!(canceled.state() == TaskState::Canceled, "not canceled");
    anyhow::ensure!(
        (3..long.len()).contains(&chunks),
        "the cancel did not stop the typing"
    );
    transport.close().await?;
    Ok(())
}
