//! The client commands (`harbor card | send | stream | get | list | cancel | subscribe |
//! push`) against a `harbor serve` child, over all three bindings where it matters.
//!
//! Every command runs as its own process under a deadline; a test that waits for output
//! (the subscription) waits for a line, never for a fixed time.

use std::net::TcpListener;
use std::process::Command;

use harbor_a2a::stream_response::Payload as Event;
use harbor_a2a::{ListTasksResponse, StreamResponse, Task, TaskState};

mod support;

use support::run::{Subscription, message_id, run, send_task};
use support::serve::Server;

const BINDINGS: [&str; 3] = ["jsonrpc", "http-json", "grpc"];

#[test]
fn card_prints_the_card_for_people_and_as_json() {
    let server = Server::start(&[]);
    let human = run(&["card", &server.base_url]).ok("card");
    assert!(
        human.stdout.contains("Harbor Conformance Agent"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("(calls go here)"), "{}", human.stdout);
    assert!(
        human.stdout.contains("streaming, push notifications"),
        "{}",
        human.stdout
    );

    let json = run(&["card", &server.base_url, "--json"]).ok("card --json");
    let card: harbor_a2a::AgentCard =
        harbor_a2a::from_json(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", json.stdout));
    assert_eq!(card.name, "Harbor Conformance Agent");
    assert_eq!(card.supported_interfaces.len(), 3);
    let grpc = &card.supported_interfaces[2];
    assert_eq!(grpc.protocol_binding, "GRPC");
    assert_eq!(Some(&grpc.url), server.grpc_url.as_ref());

    // Without authentication nobody is entitled to the extended card: it is not declared
    // (tests/serve_auth.rs fetches it with a key).
    let extended = run(&["card", &server.base_url, "--extended", "--json"]);
    assert_eq!(extended.code, Some(3), "{}", extended.stderr);
    assert!(
        extended.stderr.contains("UNSUPPORTED_OPERATION")
            || extended.stderr.contains("unsupported"),
        "{}",
        extended.stderr
    );
}

#[test]
fn send_prints_the_completed_task() {
    let server = Server::start(&[]);
    for binding in BINDINGS {
        let id = message_id("tck-complete-task");
        let out = run(&[
            "send",
            &server.base_url,
            "hello",
            "--message-id",
            &id,
            "--binding",
            binding,
        ])
        .ok("send");
        assert!(
            out.stdout.contains("COMPLETED"),
            "{binding}: {}",
            out.stdout
        );
        assert!(
            out.stdout.contains("Hello from TCK"),
            "{binding}: {}",
            out.stdout
        );

        let task = send_task(&server, "tck-complete-task", &["--binding", binding]);
        assert_eq!(task.state(), TaskState::Completed, "{binding}");
        assert!(!task.id.is_empty());
    }
}

#[test]
fn send_prints_a_direct_message() {
    let server = Server::start(&[]);
    let id = message_id("tck-message-response");
    let out = run(&["send", &server.base_url, "hello", "--message-id", &id]).ok("send");
    assert!(
        out.stdout.contains("Direct message response"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("from agent"), "{}", out.stdout);
    assert!(!out.stdout.contains("state"), "{}", out.stdout);
}

#[test]
fn stream_prints_events_in_order() {
    let server = Server::start(&[]);
    for binding in BINDINGS {
        let id = message_id("tck-stream-001");
        let out = run(&[
            "stream",
            &server.base_url,
            "hi",
            "--message-id",
            &id,
            "--binding",
            binding,
        ])
        .ok("stream");
        let lines: Vec<&str> = out.stdout.lines().collect();
        let position = |needle: &str| {
            lines
                .iter()
                .position(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("{binding}: no {needle:?} in\n{}", out.stdout))
        };
        assert!(lines[0].starts_with("[task]"), "{binding}: {}", out.stdout);
        assert!(position("WORKING") < position("Stream hello from TCK"));
        assert!(position("Stream hello from TCK") < position("COMPLETED"));
        assert!(
            lines.last().is_some_and(|l| l.contains("COMPLETED")),
            "{}",
            out.stdout
        );

        let id = message_id("tck-stream-001");
        let json = run(&[
            "stream",
            &server.base_url,
            "hi",
            "--json",
            "--message-id",
            &id,
            "--binding",
            binding,
        ])
        .ok("stream --json");
        let events: Vec<StreamResponse> = json
            .stdout
            .lines()
            .map(|l| harbor_a2a::from_json(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert!(events.len() >= 3, "{binding}: {}", json.stdout);
        assert!(
            matches!(events[0].payload, Some(Event::Task(_))),
            "{}",
            json.stdout
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e.payload, Some(Event::ArtifactUpdate(_))))
        );
        assert_eq!(
            events.last().and_then(StreamResponse::state),
            Some(TaskState::Completed)
        );
    }
}

#[test]
fn get_and_list_show_tasks() {
    let server = Server::start(&[]);
    let first = send_task(&server, "tck-complete-task", &[]);
    send_task(&server, "tck-complete-task", &[]);

    let got = run(&["get", &server.base_url, &first.id]).ok("get");
    assert!(
        got.stdout.contains(&first.id) && got.stdout.contains("COMPLETED"),
        "{}",
        got.stdout
    );
    let json = run(&[
        "get",
        &server.base_url,
        &first.id,
        "--json",
        "--history-length",
        "0",
    ])
    .ok("get --json");
    let task: Task =
        harbor_a2a::from_json(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", json.stdout));
    assert_eq!(task.id, first.id);
    assert!(task.history.is_empty(), "historyLength 0: {}", json.stdout);

    let listed = run(&["list", &server.base_url, "--page-size", "1", "--json"]).ok("list --json");
    let raw: serde_json::Value =
        serde_json::from_str(&listed.stdout).unwrap_or_else(|e| panic!("{e}: {}", listed.stdout));
    let token = raw["nextPageToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no nextPageToken: {raw}"));
    assert!(!token.is_empty(), "two tasks, pages of one: {raw}");
    let page: ListTasksResponse =
        harbor_a2a::from_json(&listed.stdout).expect("a ListTasksResponse");
    assert_eq!(page.tasks.len(), 1);

    let next = run(&[
        "list",
        &server.base_url,
        "--page-size",
        "1",
        "--page-token",
        token,
    ])
    .ok("list");
    assert!(next.stdout.contains("COMPLETED"), "{}", next.stdout);
    let filtered =
        run(&["list", &server.base_url, "--status", "input-required"]).ok("list --status");
    assert!(
        filtered.stdout.contains("0 task(s) on this page"),
        "{}",
        filtered.stdout
    );
}

#[test]
fn cancel_ends_a_task_waiting_for_input() {
    let server = Server::start(&[]);
    for binding in BINDINGS {
        let task = send_task(&server, "tck-input-required", &[]);
        assert_eq!(task.state(), TaskState::InputRequired);
        let out = run(&["cancel", &server.base_url, &task.id, "--binding", binding]).ok("cancel");
        assert!(out.stdout.contains("CANCELED"), "{binding}: {}", out.stdout);
        assert!(out.stdout.contains(&task.id), "{binding}: {}", out.stdout);
    }
}

#[test]
fn subscribe_follows_a_task_until_it_ends() {
    let server = Server::start(&[]);
    for binding in BINDINGS {
        let task = send_task(&server, "tck-input-required", &[]);
        let mut subscription = Subscription::start(&server, &task.id, &["--binding", binding]);
        // The first event, the task as it is, proves the subscription is open.
        subscription.wait_for(|l| l.starts_with("[task]"));

        let id = message_id("tck-complete-task");
        run(&[
            "send",
            &server.base_url,
            "more",
            "--task-id",
            &task.id,
            "--message-id",
            &id,
        ])
        .ok("follow-up");

        let (code, lines) = subscription.finish();
        assert_eq!(code, Some(0), "{binding}: {}", lines.join("\n"));
        let last_status = lines.iter().rev().find(|l| l.starts_with("[status]"));
        assert!(
            last_status.is_some_and(|l| l.contains("COMPLETED")),
            "{binding}: the last state is not COMPLETED:\n{}",
            lines.join("\n")
        );
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_ends_a_subscription_cleanly() {
    let server = Server::start(&[]);
    let task = send_task(&server, "tck-input-required", &[]);
    let mut subscription = Subscription::start(&server, &task.id, &["--json"]);
    subscription.wait_for(|l| l.contains("\"task\""));
    let pid = subscription.child.id().to_string();
    let signalled = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(signalled.success());
    let (code, lines) = subscription.finish();
    assert_eq!(code, Some(130), "{}", lines.join("\n"));
    // The task itself is untouched.
    let after = run(&["get", &server.base_url, &task.id]).ok("get");
    assert!(after.stdout.contains("INPUT_REQUIRED"), "{}", after.stdout);
}

#[test]
fn push_configs_are_created_read_listed_and_deleted() {
    let server = Server::start(&[]);
    let task = send_task(&server, "tck-complete-task", &[]);
    let url = server.base_url.as_str();
    let created = run(&[
        "push",
        "create",
        url,
        &task.id,
        "--webhook",
        "http://127.0.0.1:9/a2a-hook",
        "--id",
        "p1",
        "--token",
        "tok-s3cret",
        "--auth-scheme",
        "Bearer",
        "--auth-credentials",
        "cred-s3cret",
    ])
    .ok("push create");
    assert!(
        created.stdout.contains("p1") && created.stdout.contains("http://127.0.0.1:9/a2a-hook"),
        "{}",
        created.stdout
    );
    assert!(
        !created.stdout.contains("s3cret"),
        "a secret was printed:\n{}",
        created.stdout
    );

    let got = run(&["push", "get", url, &task.id, "p1"]).ok("push get");
    assert!(
        got.stdout.contains("Bearer") && !got.stdout.contains("s3cret"),
        "{}",
        got.stdout
    );
    let json = run(&["push", "get", url, &task.id, "p1", "--json"]).ok("push get --json");
    let config: harbor_a2a::TaskPushNotificationConfig =
        harbor_a2a::from_json(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", json.stdout));
    assert_eq!(
        (config.id.as_str(), config.task_id.as_str()),
        ("p1", task.id.as_str())
    );

    let listed = run(&["push", "list", url, &task.id]).ok("push list");
    assert!(listed.stdout.contains("1 config(s)"), "{}", listed.stdout);

    run(&["push", "delete", url, &task.id, "p1"]).ok("push delete");
    let gone = run(&["push", "get", url, &task.id, "p1"]);
    assert_eq!(gone.code, Some(3), "{}", gone.stderr);
    let empty = run(&["push", "list", url, &task.id, "--binding", "http-json"]).ok("push list");
    assert!(empty.stdout.contains("0 config(s)"), "{}", empty.stdout);
}

#[test]
fn a_protocol_error_exits_3_and_names_the_error() {
    let server = Server::start(&[]);
    for binding in BINDINGS {
        let out = run(&[
            "get",
            &server.base_url,
            "no-such-task",
            "--binding",
            binding,
        ]);
        assert_eq!(out.code, Some(3), "{binding}: {}", out.stderr);
        assert!(
            out.stderr.contains("TASK_NOT_FOUND"),
            "{binding}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }
}

#[test]
fn nothing_listening_exits_4() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let out = run(&[
        "card",
        &format!("http://127.0.0.1:{port}"),
        "--timeout",
        "10",
    ]);
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert!(out.stderr.contains("transport failure"), "{}", out.stderr);
}

#[test]
fn a_silent_agent_exits_5() {
    // The kernel accepts the connection into the backlog; nobody ever answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("a listener");
    let port = silent.local_addr().expect("an address").port();
    let out = run(&[
        "card",
        &format!("http://127.0.0.1:{port}"),
        "--timeout",
        "0.5",
    ]);
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(out.stderr.contains("--timeout"), "{}", out.stderr);
    drop(silent);
}

#[test]
fn bad_usage_exits_2() {
    // Refused before anything is resolved or sent: plain HTTP to a host that is not loopback.
    let out = run(&["get", "http://agent.invalid", "t1"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("--allow-insecure-http"),
        "{}",
        out.stderr
    );
    let out = run(&["send", "http://127.0.0.1:1"]);
    assert_eq!(
        out.code,
        Some(2),
        "a missing TEXT is a usage error: {}",
        out.stderr
    );
}
