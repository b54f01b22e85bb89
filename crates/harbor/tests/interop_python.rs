//! Interop with the official A2A SDK: `harbor serve` driven by the Python `a2a-sdk` client.
//!
//! `.ci/run` builds a venv from `interop/python/requirements.txt` and exports
//! `HARBOR_INTEROP_PYTHON` (its interpreter). Each binding test (JSON-RPC, HTTP+JSON, gRPC)
//! starts its own `harbor serve --port 0 --api-keys FILE` (the SDK client sends its key on
//! every binding, as `HARBOR_INTEROP_API_KEY` tells the script), then runs
//! `interop/python/sdk_client_vs_harbor.py BASE_URL BINDING`,
//! which goes through every RPC with the SDK client and prints `FAIL <RPC> over <BINDING>: …`
//! for each failure. Outside CI, without the variable, those two tests print why and pass.
//!
//! The shutdown test needs no Python: it opens a SubscribeToTask stream with a plain TCP
//! request, sends SIGTERM and expects the stream to end and the process to exit 0 promptly.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::interop;
use support::serve::{Server, wait_with_deadline};

/// Grace we give `harbor serve` on SIGTERM; the shutdown test expects it is not needed.
const SHUTDOWN_GRACE_SECS: u64 = 60;
/// How long after SIGTERM the open stream must end and the process must exit.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(15);

/// Runs the SDK script for one binding against a fresh `harbor serve`.
fn run_sdk_client(binding: &str) {
    let Some(python) = interop::python(&format!("the {binding} interop run")) else {
        return;
    };
    // An authenticated server: the SDK client sends an API key on every binding, and the
    // extended card (served to authenticated callers only) is declared.
    let keys = tempfile::tempdir().expect("a temporary directory");
    let key_file = interop::key_file(keys.path());
    let server = Server::start(&["--api-keys", key_file.to_str().expect("utf-8 path")]);
    interop::run_sdk_client(&python, &server.base_url, binding, || server.output());
}

#[test]
fn python_sdk_client_over_jsonrpc() {
    run_sdk_client("JSONRPC");
}

#[test]
fn python_sdk_client_over_http_json() {
    run_sdk_client("HTTP+JSON");
}

#[test]
fn python_sdk_client_over_grpc() {
    run_sdk_client("GRPC");
}

/// One HTTP/1.1 request with `Connection: close`; returns the open stream after the request.
fn post(server: &Server, path: &str, accept: &str, body: &str) -> TcpStream {
    let mut stream = TcpStream::connect(server.authority())
        .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", server.authority()));
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("set_read_timeout");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Accept: {accept}\r\nA2A-Version: 1.0\r\nContent-Length: {len}\r\n\
         Connection: close\r\n\r\n{body}",
        host = server.authority(),
        len = body.len(),
    );
    stream.write_all(request.as_bytes()).expect("write request");
    stream
}

/// Reads from `stream` until `done(received)` holds, EOF, or the deadline.
/// Returns what was read and whether EOF was seen.
fn read_until(
    stream: &mut TcpStream,
    deadline: Duration,
    done: impl Fn(&str) -> bool,
) -> (String, bool) {
    let end = Instant::now() + deadline;
    let mut received = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        if done(&String::from_utf8_lossy(&received)) {
            return (String::from_utf8_lossy(&received).into_owned(), false);
        }
        if Instant::now() >= end {
            return (String::from_utf8_lossy(&received).into_owned(), false);
        }
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&received).into_owned(), true),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (String::from_utf8_lossy(&received).into_owned(), true),
        }
    }
}

/// The `"id"` of the task in a JSON-RPC SendMessage answer (`{"result":{"task":{"id":…}}}`).
fn task_id_of(http_response: &str) -> Option<String> {
    // The body may come chunked: decode it before parsing.
    let (head, body) = http_response.split_once("\r\n\r\n")?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)?
    } else {
        body.to_owned()
    };
    let value: serde_json::Value = serde_json::from_str(body.trim()).ok()?;
    value
        .pointer("/result/task/id")?
        .as_str()
        .map(str::to_owned)
}

fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size..)?.strip_prefix("\r\n")?;
    }
}

#[cfg(unix)]
#[test]
fn sigterm_ends_open_subscriptions_and_exits_zero() {
    let grace = SHUTDOWN_GRACE_SECS.to_string();
    let mut server = Server::start(&["--shutdown-grace", &grace]);
    let path = server.jsonrpc_path().to_owned();

    // An input-required task: it stays open, so a subscription on it stays open too.
    let send = r#"{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"messageId":"tck-input-required-5167e4a1","role":"ROLE_USER","parts":[{"text":"wait for me"}]}}}"#;
    let mut answer = post(&server, &path, "application/json", send);
    let (response, _) = read_until(&mut answer, Duration::from_secs(15), |_| false);
    let task_id = task_id_of(&response).unwrap_or_else(|| {
        panic!(
            "SendMessage over JSON-RPC gave no task id; response:\n{response}\nserver:\n{}",
            server.output()
        )
    });

    let subscribe = format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"SubscribeToTask","params":{{"id":"{task_id}"}}}}"#
    );
    let mut stream = post(&server, &path, "text/event-stream", &subscribe);
    let (opened, eof) = read_until(&mut stream, Duration::from_secs(15), |got| {
        got.contains("data:") && got.contains("\"task\"")
    });
    assert!(
        !eof && opened.contains("text/event-stream") && opened.contains("data:"),
        "SubscribeToTask over JSON-RPC did not open an SSE stream with a first event (eof {eof}):\n{opened}\nserver:\n{}",
        server.output()
    );

    let pid = server.child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill -TERM");
    assert!(killed.success(), "kill -TERM {pid} failed: {killed}");
    let sent = Instant::now();

    // The open stream must end (EOF) well before the grace period would have run out.
    let (rest, eof) = read_until(&mut stream, SHUTDOWN_DEADLINE, |_| false);
    assert!(
        eof,
        "the SSE stream was still open {SHUTDOWN_DEADLINE:?} after SIGTERM (grace {SHUTDOWN_GRACE_SECS} s); \
         read after SIGTERM:\n{rest}\nserver:\n{}",
        server.output()
    );
    let left = SHUTDOWN_DEADLINE.saturating_sub(sent.elapsed());
    let status = wait_with_deadline(&mut server.child, left.max(Duration::from_secs(1)));
    match status {
        Some(status) => assert!(
            status.success(),
            "`harbor serve` exited with {status} after SIGTERM; output:\n{}",
            server.output()
        ),
        None => panic!(
            "`harbor serve` did not exit within {SHUTDOWN_DEADLINE:?} of SIGTERM while a stream was open \
             (killed); output:\n{}",
            server.output()
        ),
    }
}
