//! `harbor serve` keeps its tasks in the embedded engine: they survive a graceful restart
//! and a SIGKILL, and a second server on the same data directory is refused.

use std::process::Command;
use std::time::Duration;

use harbor_a2a::{ListTasksResponse, Task, TaskState};

mod support;

use support::run::{run, send_task};
use support::serve::{Server, wait_with_deadline};

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
    let mut second = support::run::harbor()
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let status = wait_with_deadline(&mut second, EXIT_DEADLINE);
    let mut stderr = String::new();
    if let Some(mut pipe) = second.stderr.take() {
        std::io::Read::read_to_string(&mut pipe, &mut stderr).expect("stderr");
    }
    assert!(
        status.is_some_and(|s| !s.success()),
        "a second server started on a busy data directory ({status:?})"
    );
    assert!(stderr.contains("in use by another process"), "{stderr}");
}
