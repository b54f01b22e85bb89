//! `harbor push create | get | list | delete`: a task's push notification configs; and
//! `harbor push dead-letters | redrive`, through a server's admin listener.

use clap::{Args, Subcommand};
use harbor_a2a::{
    AuthenticationInfo, DeleteTaskPushNotificationConfigRequest,
    GetTaskPushNotificationConfigRequest, ListTaskPushNotificationConfigsRequest,
    TaskPushNotificationConfig,
};
use harbor_distributed::RemoteTransport;

use super::args::{Common, Secret};
use super::exit::{EXIT_CODES_HELP, Outcome};
use super::session::Session;
use super::{output, render};

/// The push config commands.
#[derive(Debug, Subcommand)]
pub(crate) enum PushCommand {
    /// Register a webhook for a task's updates (CreateTaskPushNotificationConfig).
    #[command(after_help = EXIT_CODES_HELP)]
    Create(CreateArgs),
    /// Show one config (GetTaskPushNotificationConfig).
    #[command(after_help = EXIT_CODES_HELP)]
    Get(ConfigArgs),
    /// List a task's configs (ListTaskPushNotificationConfigs).
    #[command(after_help = EXIT_CODES_HELP)]
    List(ListArgs),
    /// Delete one config (DeleteTaskPushNotificationConfig).
    #[command(after_help = EXIT_CODES_HELP)]
    Delete(ConfigArgs),
    /// List push deliveries that gave up, with their reasons (through the admin listener of
    /// `harbor serve --admin ADDR`; every tenant's).
    #[command(after_help = EXIT_CODES_HELP)]
    DeadLetters(super::dead_letters::DeadLettersArgs),
    /// Deliver a dead letter again, from the event it gave up on (admin listener).
    #[command(after_help = EXIT_CODES_HELP)]
    Redrive(super::dead_letters::RedriveArgs),
}

/// Options of `harbor push create`.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    #[command(flatten)]
    common: Common,
    /// The task.
    #[arg(value_name = "TASK_ID")]
    task_id: String,
    /// Where the agent POSTs the task's updates.
    #[arg(long, value_name = "URL")]
    webhook: String,
    /// The config's id (the agent picks one when unset).
    #[arg(long)]
    id: Option<String>,
    /// A token the agent sends back with each notification (never printed).
    #[arg(long)]
    token: Option<Secret>,
    /// The scheme of the Authorization header the agent sends (e.g. Bearer).
    #[arg(long, value_name = "SCHEME")]
    auth_scheme: Option<String>,
    /// The credentials that go with --auth-scheme (never printed).
    #[arg(long, value_name = "CREDENTIALS", requires = "auth_scheme")]
    auth_credentials: Option<Secret>,
}

/// Options of `harbor push get` and `harbor push delete`.
#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    #[command(flatten)]
    common: Common,
    /// The task.
    #[arg(value_name = "TASK_ID")]
    task_id: String,
    /// The config.
    #[arg(value_name = "ID")]
    id: String,
}

/// Options of `harbor push list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    common: Common,
    /// The task.
    #[arg(value_name = "TASK_ID")]
    task_id: String,
    /// Configs per page (the agent's default when unset).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    page_size: Option<i32>,
    /// The page after the one that returned this token.
    #[arg(long)]
    page_token: Option<String>,
}

/// Runs one push command.
pub(crate) async fn run(command: PushCommand) -> Outcome {
    match command {
        PushCommand::Create(args) => create(args).await,
        PushCommand::Get(args) => get(args).await,
        PushCommand::List(args) => list(args).await,
        PushCommand::Delete(args) => delete(args).await,
        PushCommand::DeadLetters(args) => super::dead_letters::list(args).await,
        PushCommand::Redrive(args) => super::dead_letters::redrive(args).await,
    }
}

fn config(args: &CreateArgs) -> TaskPushNotificationConfig {
    TaskPushNotificationConfig {
        id: args.id.clone().unwrap_or_default(),
        task_id: args.task_id.clone(),
        url: args.webhook.clone(),
        token: args.token.as_ref().map(|t| t.0.clone()).unwrap_or_default(),
        authentication: args.auth_scheme.as_ref().map(|scheme| AuthenticationInfo {
            scheme: scheme.clone(),
            credentials: args
                .auth_credentials
                .as_ref()
                .map(|c| c.0.clone())
                .unwrap_or_default(),
        }),
        ..TaskPushNotificationConfig::default()
    }
}

async fn create(args: CreateArgs) -> Outcome {
    let req = config(&args);
    Session::with(&args.common, async |s| {
        let call = s
            .transport
            .create_task_push_notification_config(&s.peer, &s.ctx, req);
        s.show(call, render::push_config).await
    })
    .await
}

async fn get(args: ConfigArgs) -> Outcome {
    let req = GetTaskPushNotificationConfigRequest {
        task_id: args.task_id,
        id: args.id,
        ..GetTaskPushNotificationConfigRequest::default()
    };
    Session::with(&args.common, async |s| {
        let call = s
            .transport
            .get_task_push_notification_config(&s.peer, &s.ctx, req);
        s.show(call, render::push_config).await
    })
    .await
}

async fn list(args: ListArgs) -> Outcome {
    let req = ListTaskPushNotificationConfigsRequest {
        task_id: args.task_id,
        page_size: args.page_size.unwrap_or_default(),
        page_token: args.page_token.unwrap_or_default(),
        ..ListTaskPushNotificationConfigsRequest::default()
    };
    Session::with(&args.common, async |s| {
        let call = s
            .transport
            .list_task_push_notification_configs(&s.peer, &s.ctx, req);
        s.show(call, render::push_configs).await
    })
    .await
}

async fn delete(args: ConfigArgs) -> Outcome {
    let shown = format!("deleted push config {} of task {}", args.id, args.task_id);
    let req = DeleteTaskPushNotificationConfigRequest {
        task_id: args.task_id,
        id: args.id,
        ..DeleteTaskPushNotificationConfigRequest::default()
    };
    Session::with(&args.common, async |s| {
        let call = s
            .transport
            .delete_task_push_notification_config(&s.peer, &s.ctx, req);
        s.call(call).await?;
        // The RPC's result is google.protobuf.Empty.
        output::text(if s.json { "{}" } else { &shown })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug() {
        let args = CreateArgs {
            common: crate::client::args::parse_common(&["http://127.0.0.1:1"]),
            task_id: "t1".into(),
            webhook: "https://hooks.example/a2a".into(),
            id: None,
            token: Some(Secret("tok-s3cret".into())),
            auth_scheme: Some("Bearer".into()),
            auth_credentials: Some(Secret("cred-s3cret".into())),
        };
        assert!(!format!("{args:?}").contains("s3cret"));
        let config = config(&args);
        assert_eq!(config.token, "tok-s3cret");
        let auth = config.authentication.expect("authentication");
        assert_eq!(
            (auth.scheme.as_str(), auth.credentials.as_str()),
            ("Bearer", "cred-s3cret")
        );
    }
}
