//! The client commands: `harbor card | send | stream | get | list | cancel | subscribe | push`,
//! which call any A2A v1.0 agent through [`harbor_client::A2aTransport`].
//!
//! `URL` is the agent's base URL: its card is fetched from `URL/.well-known/agent-card.json`
//! and the call goes to the first interface of the card that the client speaks (JSON-RPC,
//! HTTP+JSON or gRPC; `--binding` narrows and orders them, `--binding grpc` calls the
//! card's gRPC interface). Plain `http://` is allowed to loopback only, unless
//! `--allow-insecure-http`.
//!
//! # Output
//!
//! Human-readable by default: task id, context, state, the agent's status message, artifacts
//! (text printed, files and data summarized); stream events are printed as they arrive.
//! With `--json`, each result is one JSON document (the protocol's ProtoJSON: `send` prints
//! the `SendMessageResponse`, `{"task": …}` or `{"message": …}`; `get` and `cancel` a `Task`;
//! `list` a `ListTasksResponse`; `card` an `AgentCard`; `push` commands a
//! `TaskPushNotificationConfig`, a list response or `{}`), and `stream`/`subscribe` print one
//! `StreamResponse` per line. Errors go to stderr. Push credentials, tokens and `--header`
//! values are never shown in human output nor in `Debug`; `--json` prints what the agent
//! returned.
//!
//! # Identity
//!
//! The CLI acts as one local identity (`--tenant`, default `local`; `--user`, default
//! `$USER`; `--session`, default a new UUID per invocation). By default none of it is sent to
//! the agent (the client's default identity policy); `--send-identity` sends it as Harbor's
//! identity headers, for Harbor servers told to trust them.
//!
//! # Exit codes
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (and a stream that ended normally) |
//! | 1 | a local failure (stdout closed, the client could not be set up) |
//! | 2 | usage: bad arguments, or a URL the client refuses (plain HTTP to another host) |
//! | 3 | the agent answered with an A2A protocol error (its kind, code and message are printed) |
//! | 4 | transport failure: nothing listening, a broken connection, an HTTP error that is not an A2A error, an unusable card |
//! | 5 | timeout (`--timeout`) |
//! | 130 | Ctrl-C during `stream` or `subscribe` (the stream is closed cleanly first) |

mod args;
mod card;
mod dead_letters;
mod exit;
mod message;
mod output;
mod push;
mod render;
mod session;
mod stream;
mod task;

use std::process::ExitCode;

use clap::Subcommand;

use exit::EXIT_CODES_HELP;

/// The client commands, flattened into the `harbor` command line.
#[derive(Debug, Subcommand)]
pub(crate) enum ClientCommand {
    /// Fetch an agent's card and show it (with the interface the client would call).
    #[command(after_help = EXIT_CODES_HELP)]
    Card(card::CardArgs),
    /// Send a message (SendMessage) and print the task or message the agent returns.
    #[command(after_help = EXIT_CODES_HELP)]
    Send(message::SendArgs),
    /// Send a message with streaming (SendStreamingMessage) and print events as they arrive.
    #[command(after_help = EXIT_CODES_HELP)]
    Stream(message::StreamArgs),
    /// Show one task (GetTask).
    #[command(after_help = EXIT_CODES_HELP)]
    Get(task::GetArgs),
    /// List tasks, one page at a time (ListTasks).
    #[command(after_help = EXIT_CODES_HELP)]
    List(task::ListArgs),
    /// Cancel a task (CancelTask) and print it as it is afterwards.
    #[command(after_help = EXIT_CODES_HELP)]
    Cancel(task::CancelArgs),
    /// Follow a task's events until it ends (SubscribeToTask).
    #[command(after_help = EXIT_CODES_HELP)]
    Subscribe(task::SubscribeArgs),
    /// Manage a task's push notification configs.
    #[command(subcommand, after_help = EXIT_CODES_HELP)]
    Push(push::PushCommand),
}

/// Runs one client command; the exit code says how it went (see the module docs).
pub(crate) async fn run(command: ClientCommand) -> ExitCode {
    let outcome = match command {
        ClientCommand::Card(args) => card::run(args).await,
        ClientCommand::Send(args) => message::send(args).await,
        ClientCommand::Stream(args) => message::stream(args).await,
        ClientCommand::Get(args) => task::get(args).await,
        ClientCommand::List(args) => task::list(args).await,
        ClientCommand::Cancel(args) => task::cancel(args).await,
        ClientCommand::Subscribe(args) => task::subscribe(args).await,
        ClientCommand::Push(command) => push::run(command).await,
    };
    exit::finish(outcome)
}
