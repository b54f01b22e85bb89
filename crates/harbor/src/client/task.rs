//! `harbor get | list | cancel | subscribe`: the task RPCs.

use clap::Args;
use harbor_a2a::{
    CancelTaskRequest, GetTaskRequest, ListTasksRequest, SubscribeToTaskRequest, TaskState,
};
use harbor_distributed::RemoteTransport;

use super::args::{Common, parse_state};
use super::exit::Outcome;
use super::session::Session;
use super::{render, stream};

/// Options of `harbor get`.
#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    #[command(flatten)]
    common: Common,
    /// The task.
    #[arg(value_name = "TASK_ID")]
    task_id: String,
    /// At most this many history messages.
    #[arg(long, value_parser = clap::value_parser!(i32).range(0..))]
    history_length: Option<i32>,
}

/// Options of `harbor list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    common: Common,
    /// Only tasks of this context.
    #[arg(long)]
    context_id: Option<String>,
    /// Only tasks in this state (completed, input-required, ...).
    #[arg(long, value_parser = parse_state)]
    status: Option<TaskState>,
    /// Tasks per page (the agent's default when unset; 1 to 100).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    page_size: Option<i32>,
    /// The page after the one that returned this token.
    #[arg(long)]
    page_token: Option<String>,
    /// At most this many history messages per task.
    #[arg(long, value_parser = clap::value_parser!(i32).range(0..))]
    history_length: Option<i32>,
    /// Include each task's artifacts.
    #[arg(long)]
    include_artifacts: bool,
}

/// Options of `harbor cancel`.
#[derive(Debug, Args)]
pub(crate) struct CancelArgs {
    #[command(flatten)]
    common: Common,
    /// The task.
    #[arg(value_name = "TASK_ID")]
    task_id: String,
}

/// Options of `harbor subscribe`.
#[derive(Debug, Args)]
pub(crate) struct SubscribeArgs {
    #[command(flatten)]
    common: Common,
    /// The task (not yet ended).
    #[arg(value_name = "TASK_ID")]
    task_id: String,
}

/// `harbor get`: GetTask.
pub(crate) async fn get(args: GetArgs) -> Outcome {
    let req = GetTaskRequest {
        id: args.task_id,
        history_length: args.history_length,
        ..GetTaskRequest::default()
    };
    Session::with(&args.common, async |s| {
        s.show(s.transport.get_task(&s.peer, &s.ctx, req), render::task)
            .await
    })
    .await
}

fn list_request(args: &ListArgs) -> ListTasksRequest {
    ListTasksRequest {
        context_id: args.context_id.clone().unwrap_or_default(),
        status: args.status.map_or(0, |s| s as i32),
        page_size: args.page_size,
        page_token: args.page_token.clone().unwrap_or_default(),
        history_length: args.history_length,
        include_artifacts: args.include_artifacts.then_some(true),
        ..ListTasksRequest::default()
    }
}

/// `harbor list`: ListTasks, one page.
pub(crate) async fn list(args: ListArgs) -> Outcome {
    let req = list_request(&args);
    Session::with(&args.common, async |s| {
        s.show(
            s.transport.list_tasks(&s.peer, &s.ctx, req),
            render::task_list,
        )
        .await
    })
    .await
}

/// `harbor cancel`: CancelTask, then the task as it is afterwards.
pub(crate) async fn cancel(args: CancelArgs) -> Outcome {
    let req = CancelTaskRequest {
        id: args.task_id,
        ..CancelTaskRequest::default()
    };
    Session::with(&args.common, async |s| {
        s.show(s.transport.cancel_task(&s.peer, &s.ctx, req), render::task)
            .await
    })
    .await
}

/// `harbor subscribe`: SubscribeToTask, each event printed until the task ends.
pub(crate) async fn subscribe(args: SubscribeArgs) -> Outcome {
    let session = Session::open(&args.common)?;
    let req = SubscribeToTaskRequest {
        id: args.task_id,
        ..SubscribeToTaskRequest::default()
    };
    let open = session
        .transport
        .subscribe_to_task(&session.peer, &session.ctx, req);
    let outcome = stream::follow(&session, open).await;
    session.close().await;
    outcome
}
