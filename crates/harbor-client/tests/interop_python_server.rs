//! Interop the other way round: Harbor's client against the official Python SDK *server*
//! (`a2a-sdk[http-server,grpc]` 1.3.0: JSON bindings under uvicorn, gRPC on `grpc.aio`;
//! `interop/python/sdk_server.py`).
//!
//! `.ci/run` builds a venv from `interop/python/requirements.txt` and exports
//! `HARBOR_INTEROP_PYTHON`; without it these tests print why and pass. Each test starts the
//! script on a free port (a child killed on drop), waits for its `READY <url>` line, and
//! drives every RPC through [`A2aTransport`](harbor_client::A2aTransport) forced onto one
//! binding. All checks run; the test then fails listing each failed check as
//! `<RPC> over <BINDING>: <what>`.
//!
//! The checks assert what the specification says, not what the SDK happens to do: where
//! the SDK server deviates, the check fails and says so, rather than the client bending.

/// `Err(message)` unless `cond` (for the checks).
macro_rules! ensure {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(format!($($why)+));
        }
    };
}

#[path = "interop_python_server/agent.rs"]
mod agent;
#[path = "interop_python_server/checks.rs"]
mod checks;
#[path = "interop_python_server/process.rs"]
mod process;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use agent::{Agent, Checked};
use harbor_client::Binding;
use harbor_distributed::RemoteTransport;
use process::SdkServer;

/// How long one check may take.
const CHECK_DEADLINE: Duration = Duration::from_secs(30);

type Check<'a> = Pin<Box<dyn Future<Output = Checked> + 'a>>;

/// Runs every check over `binding`; fails listing each failed check.
async fn every_rpc_over(binding: Binding) {
    let Some(server) = SdkServer::start() else {
        return;
    };
    let agent = Agent::new(&server.base_url, binding);
    let checks: Vec<(&str, Check<'_>)> = vec![
        ("agent card", Box::pin(checks::card(&agent))),
        ("SendMessage (task)", Box::pin(checks::send_task(&agent))),
        (
            "SendMessage (message)",
            Box::pin(checks::send_message(&agent)),
        ),
        ("SendStreamingMessage", Box::pin(checks::stream(&agent))),
        ("GetTask", Box::pin(checks::get_task(&agent))),
        ("ListTasks", Box::pin(checks::list_tasks(&agent))),
        ("CancelTask", Box::pin(checks::cancel_task(&agent))),
        ("SubscribeToTask", Box::pin(checks::subscribe(&agent))),
        (
            "push configs (Create/Get/List/Delete)",
            Box::pin(checks::push_configs(&agent)),
        ),
        (
            "GetExtendedAgentCard",
            Box::pin(checks::extended_card(&agent)),
        ),
    ];
    let mut failures = Vec::new();
    for (rpc, check) in checks {
        match tokio::time::timeout(CHECK_DEADLINE, check).await {
            Ok(Ok(())) => println!("ok   {rpc} over {binding}"),
            Ok(Err(why)) => failures.push(format!("FAIL {rpc} over {binding}: {why}")),
            Err(_) => failures.push(format!(
                "FAIL {rpc} over {binding}: no result within {CHECK_DEADLINE:?}"
            )),
        }
    }
    if let Err(error) = agent.transport.close().await {
        failures.push(format!("FAIL close over {binding}: {error}"));
    }
    assert!(
        failures.is_empty(),
        "{} check(s) failed against the a2a-sdk server:\n{}\n--- SDK server output ---\n{}",
        failures.len(),
        failures.join("\n"),
        server.output()
    );
}

#[tokio::test]
async fn sdk_server_over_jsonrpc() {
    every_rpc_over(Binding::JsonRpc).await;
}

#[tokio::test]
async fn sdk_server_over_http_json() {
    every_rpc_over(Binding::HttpJson).await;
}

#[tokio::test]
async fn sdk_server_over_grpc() {
    every_rpc_over(Binding::Grpc).await;
}
