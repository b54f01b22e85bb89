//! `harbor send` and `harbor stream`: one user message, answered by a task or a message.

use clap::Args;
use harbor_a2a::send_message_response::Payload;
use harbor_a2a::{Message, Part, SendMessageConfiguration, SendMessageRequest};
use harbor_distributed::RemoteTransport;

use super::args::Common;
use super::exit::Outcome;
use super::session::Session;
use super::{output, render, stream};

/// The message and where it goes.
#[derive(Debug, Args)]
pub(crate) struct MessageOptions {
    /// The message text (one text part).
    #[arg(value_name = "TEXT")]
    text: String,
    /// The message id. Default: a new UUID. (Conformance agents pick their behaviour from its
    /// prefix, e.g. tck-complete-task-1.)
    #[arg(long)]
    message_id: Option<String>,
    /// Continue this conversation (context id).
    #[arg(long)]
    context_id: Option<String>,
    /// Follow up on this task (one waiting for input, say).
    #[arg(long)]
    task_id: Option<String>,
    /// At most this many history messages in the returned task.
    #[arg(long, value_parser = clap::value_parser!(i32).range(0..))]
    history_length: Option<i32>,
}

/// Options of `harbor send`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    message: MessageOptions,
    /// Return as soon as the task exists instead of when it ends or waits for input.
    #[arg(long)]
    return_immediately: bool,
}

/// Options of `harbor stream`.
#[derive(Debug, Args)]
pub(crate) struct StreamArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    message: MessageOptions,
}

fn request(options: &MessageOptions, return_immediately: bool) -> SendMessageRequest {
    let id = options
        .message_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut message = Message::user(id, [Part::text(options.text.clone())]);
    if let Some(context) = &options.context_id {
        message = message.with_context_id(context.clone());
    }
    if let Some(task) = &options.task_id {
        message = message.with_task_id(task.clone());
    }
    let configuration = (options.history_length.is_some() || return_immediately).then(|| {
        SendMessageConfiguration {
            history_length: options.history_length,
            return_immediately,
            ..SendMessageConfiguration::default()
        }
    });
    SendMessageRequest {
        message: Some(message),
        configuration,
        ..SendMessageRequest::default()
    }
}

/// `harbor send`: SendMessage, then the task or message.
pub(crate) async fn send(args: SendArgs) -> Outcome {
    let session = Session::open(&args.common)?;
    let req = request(&args.message, args.return_immediately);
    let outcome = async {
        let response = session
            .call(
                session
                    .transport
                    .send_message(&session.peer, &session.ctx, req),
            )
            .await?;
        if session.json {
            return output::document(&response);
        }
        match &response.payload {
            Some(Payload::Task(task)) => output::text(&render::task(task)),
            Some(Payload::Message(message)) => output::text(&render::message(message)),
            None => output::text("(the agent returned neither a task nor a message)"),
        }
    }
    .await;
    session.close().await;
    outcome
}

/// `harbor stream`: SendStreamingMessage, each event printed as it arrives.
pub(crate) async fn stream(args: StreamArgs) -> Outcome {
    let session = Session::open(&args.common)?;
    let req = request(&args.message, false);
    let open = session
        .transport
        .send_streaming_message(&session.peer, &session.ctx, req);
    let outcome = stream::follow(&session, open).await;
    session.close().await;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_carries_the_options() {
        let options = MessageOptions {
            text: "hi".into(),
            message_id: Some("tck-complete-task-1".into()),
            context_id: Some("c1".into()),
            task_id: Some("t1".into()),
            history_length: Some(2),
        };
        let req = request(&options, true);
        let message = req.message.expect("a message");
        assert_eq!(message.message_id, "tck-complete-task-1");
        assert_eq!(
            (message.context_id.as_str(), message.task_id.as_str()),
            ("c1", "t1")
        );
        assert_eq!(message.text(), "hi");
        let config = req.configuration.expect("a configuration");
        assert_eq!(config.history_length, Some(2));
        assert!(config.return_immediately);

        let plain = MessageOptions {
            text: "hi".into(),
            message_id: None,
            context_id: None,
            task_id: None,
            history_length: None,
        };
        let req = request(&plain, false);
        assert!(req.configuration.is_none());
        assert!(!req.message.expect("a message").message_id.is_empty());
    }
}
