//! Running `harbor` client commands as processes, each under a deadline, and following a
//! `harbor subscribe` line by line.

// Each test binary uses its own part of these helpers.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use harbor_a2a::send_message_response::Payload;
use harbor_a2a::{SendMessageResponse, Task};

use crate::support::serve::{Server, wait_with_deadline};

/// How long one command may take.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(60);
/// How long a subscription may take to print its first event, and to end after the task did.
pub const STREAM_DEADLINE: Duration = Duration::from_secs(30);

/// What a finished command left behind.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self, what: &str) -> Self {
        assert_eq!(
            self.code,
            Some(0),
            "{what} failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

pub fn harbor() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_harbor"));
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn read_all(pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(pipe).read_to_string(&mut text);
        text
    })
}

/// Runs `harbor ARGS` to its end (killed past [`COMMAND_DEADLINE`]).
pub fn run(args: &[&str]) -> Run {
    let mut child = harbor().args(args).spawn().expect("cannot start `harbor`");
    let stdout = read_all(child.stdout.take().expect("piped stdout"));
    let stderr = read_all(child.stderr.take().expect("piped stderr"));
    let status = wait_with_deadline(&mut child, COMMAND_DEADLINE);
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    assert!(
        status.is_some(),
        "`harbor {}` did not end within {COMMAND_DEADLINE:?}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        run.stdout,
        run.stderr
    );
    run
}

/// A unique message id with the behaviour `prefix` (the conformance agent's table).
pub fn message_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// `harbor send --json` and the task it returned.
pub fn send_task(server: &Server, prefix: &str, extra: &[&str]) -> Task {
    let id = message_id(prefix);
    let mut args = vec![
        "send",
        &server.base_url,
        "hello",
        "--json",
        "--message-id",
        &id,
    ];
    args.extend_from_slice(extra);
    let out = run(&args).ok("send --json");
    let response: SendMessageResponse =
        harbor_a2a::from_json(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    match response.payload {
        Some(Payload::Task(task)) => task,
        other => panic!("expected a task, got {other:?}"),
    }
}

/// A running `harbor subscribe`, its stdout lines on a channel.
pub struct Subscription {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Subscription {
    pub fn start(server: &Server, task_id: &str, extra: &[&str]) -> Self {
        let mut child = harbor()
            .args(["subscribe", &server.base_url, task_id])
            .args(extra)
            .spawn()
            .expect("cannot start `harbor subscribe`");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line that satisfies `want`.
    pub fn wait_for(&mut self, want: impl Fn(&str) -> bool) {
        let end = Instant::now() + STREAM_DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let hit = want(&line);
                    self.seen.push(line);
                    if hit {
                        return;
                    }
                }
                Err(_) => panic!(
                    "the subscription printed no expected line; it printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Waits for the process to end and returns its exit code and every line it printed.
    pub fn finish(mut self) -> (Option<i32>, Vec<String>) {
        let status = wait_with_deadline(&mut self.child, STREAM_DEADLINE);
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        let end = Instant::now() + STREAM_DEADLINE;
        // The reader thread ends at EOF, which follows the exit.
        while let Ok(line) = self
            .lines
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line);
        }
        assert!(
            status.is_some(),
            "the subscription did not end:\n{}\n{stderr}",
            self.seen.join("\n")
        );
        (status.and_then(|s| s.code()), self.seen)
    }
}
