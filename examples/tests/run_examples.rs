//! Runs every example to completion (`--demo`, or the bus worker as it is) and checks what
//! it printed: CI builds and runs the examples through this test.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one example may run.
const DEADLINE: Duration = Duration::from_secs(60);

/// Runs `program args`, which must exit 0 within the deadline; returns its stdout.
fn run(program: &str, args: &[&str]) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let end = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "{program} {args:?} ended with {status:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

fn contains_all(output: &str, lines: &[&str]) {
    for line in lines {
        assert!(output.contains(line), "missing {line:?} in:\n{output}");
    }
}

#[test]
fn minimal_agent() {
    let out = run(env!("CARGO_BIN_EXE_minimal-agent"), &["--demo"]);
    contains_all(&out, &["is Completed: Hello, Ada!"]);
}

#[test]
fn streaming_agent() {
    let out = run(env!("CARGO_BIN_EXE_streaming-agent"), &["--demo"]);
    contains_all(
        &out,
        &[
            "chunk     \"one \" append=false last=false",
            "chunk     \"four \" append=true last=true",
            "status    Some(Completed)",
            "canceled  Canceled after",
        ],
    );
}

#[test]
fn calling_agent() {
    let out = run(env!("CARGO_BIN_EXE_calling-agent"), &["--demo"]);
    contains_all(&out, &["is Completed: the shouter said: HELLO THERE"]);
}

#[test]
fn bus_worker_on_the_memory_bus() {
    let out = run(env!("CARGO_BIN_EXE_bus-worker"), &[]);
    contains_all(
        &out,
        &[
            "skipped   order-2 (already billed)",
            "nacked    poison (attempt 3)",
            "dead letter poison on dead-letter.billing.orders.created: no price for this order after 3 attempts",
            "billed 4 orders once each; 1 dead letter",
        ],
    );
}

#[test]
fn bus_worker_on_the_embedded_bus() {
    // The embedded engine dedups publishes: the second order-2 is stored once.
    let out = run(env!("CARGO_BIN_EXE_bus-worker"), &["--bus", "embedded"]);
    contains_all(
        &out,
        &[
            "published order-2 (duplicate: true)",
            "dead letter poison on dead-letter.billing.orders.created: no price for this order after 3 attempts",
            "billed 4 orders once each; 1 dead letter",
        ],
    );
}
