//! `harbor serve` keeps its tasks in the embedded engine: they survive a graceful restart
//! and a SIGKILL; a second server on the same data directory, a data file that is not
//! Harbor's, and TLS files that cannot be read are refused before the server listens.

use std::process::Command;
use std::time::Duration;

use harbor_a2a::{ListTasksResponse, Task, TaskState};

mod support;

use support::run::{run, send_task};
use support::serve::{Server, refused, wait_with_deadline};

/// How long a stopping server may take to exit.
const EXIT_DEADLINE: Duration = Duration::from_secs(20);

fn get(server: &Server, id: &str) -> Task {
    let out = run(&["get", &server.base_url, id, "--json"]).ok("get --json");
    harbor_a2a::from_json(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

fn list_ids(server: &Server) -> Vec<String> {
    let out = run(&["list", &server.base_url, "--json"]).ok("list --json");
    let page: ListTasksResponse =
        harbor_a2a::from_json(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    page.tasks.into_iter().map(|t| t.id).collect()
}

/// Creates three completed tasks and returns them as the server answered.
fn create_tasks(server: &Server) -> Vec<Task> {
    let tasks: Vec<Task> = (0..3)
        .map(|_| send_task(server, "tck-complete-task", &[]))
        .collect();
    for task in &tasks {
        let state = task.status.as_ref().map(|s| s.state);
        assert_eq!(state, Some(TaskState::Completed as i32), "{task:?}");
    }
    tasks
}

/// The restarted server answers GetTask and ListTasks with exactly the tasks of before.
fn assert_same_tasks(server: &Server, before: &[Task]) {
    for task in before {
        assert_eq!(&get(server, &task.id), task, "task {} changed", task.id);
    }
    let listed = list_ids(server);
    for task in before {
        assert!(
            listed.contains(&task.id),
            "{} missing from {listed:?}",
            task.id
        );
    }
}

#[test]
fn tasks_survive_a_graceful_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = Server::start_in(dir.path(), &[]);
    let before = create_tasks(&first);

    let pid = first.child.id().to_string();
    let signalled = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(signalled.is_ok_and(|s| s.success()), "kill -TERM failed");
    let status = wait_with_deadline(&mut first.child, EXIT_DEADLINE);
    assert!(
        status.is_some_and(|s| s.success()),
        "serve did not exit cleanly on SIGTERM ({status:?}); output:\n{}",
        first.output()
    );

    let second = Server::start_in(dir.path(), &[]);
    assert_same_tasks(&second, &before);
}

#[test]
fn tasks_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = Server::start_in(dir.path(), &[]);
    let before = create_tasks(&first);
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("reap");

    let second = Server::start_in(dir.path(), &[]);
    assert_same_tasks(&second, &before);
}

#[test]
fn a_second_server_on_the_same_data_directory_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _first = Server::start_in(dir.path(), &[]);
    let stderr = refused(&["--data-dir".as_ref(), dir.path().as_os_str()]);
    assert!(stderr.contains("in use by another process"), "{stderr}");
}

#[test]
fn a_data_directory_holding_something_else_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(harbor::embedded::FILE_NAME),
        b"not a database",
    )
    .expect("write garbage");
    let stderr = refused(&["--data-dir".as_ref(), dir.path().as_os_str()]);
    assert!(
        stderr.contains("not a readable Harbor database"),
        "{stderr}"
    );
    let kept = std::fs::read(dir.path().join(harbor::embedded::FILE_NAME)).expect("read");
    assert_eq!(kept, b"not a database", "the refused file was changed");
}

#[test]
fn missing_grpc_tls_files_stop_the_server_before_it_listens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("missing-cert.pem");
    let key = dir.path().join("missing-key.pem");
    let stderr = refused(&[
        "--in-memory".as_ref(),
        "--grpc-tls-cert".as_ref(),
        cert.as_os_str(),
        "--grpc-tls-key".as_ref(),
        key.as_os_str(),
    ]);
    assert!(
        stderr.contains("cannot read the gRPC TLS certificate"),
        "{stderr}"
    );
}

#[test]
fn a_bus_that_cannot_be_opened_stops_the_server_before_it_listens() {
    let stderr = refused(&[
        "--in-memory".as_ref(),
        "--bus".as_ref(),
        "embedded".as_ref(),
    ]);
    assert!(
        stderr.contains("--in-memory and --store do not have"),
        "{stderr}"
    );
    let stderr = refused(&[
        "--in-memory".as_ref(),
        "--bus".as_ref(),
        "carrier-pigeon://x".as_ref(),
    ]);
    assert!(
        stderr.contains("cannot open the bus") && stderr.contains("unknown driver"),
        "{stderr}"
    );
}
