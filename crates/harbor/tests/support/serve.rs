//! A `harbor serve` child process for the binary's integration tests.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long `harbor serve` may take to print its JSON-RPC endpoint.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// A `harbor serve` child process, killed when dropped (also when a test panics).
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`: where the agent card lives.
    pub base_url: String,
    /// The JSON-RPC endpoint URL as printed by the server.
    pub jsonrpc_url: String,
    /// The gRPC interface (`host:port`) as printed by the server; `None` with `--no-grpc`.
    pub grpc_url: Option<String>,
    /// The address the HTTP bindings listen on, as printed by the server (`host:port`; the
    /// base URL may name a proxy in front of it instead).
    pub listening: String,
    /// Everything the server printed, stdout and stderr, for failure messages.
    output: Arc<Mutex<String>>,
    /// The data directory of a server started by [`Server::start`], removed with it.
    _data_dir: Option<tempfile::TempDir>,
}

impl Server {
    /// A server on a fresh data directory of its own, removed when the server is dropped.
    pub fn start(extra_args: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("a temporary data directory");
        let mut server = Self::start_in(dir.path(), extra_args);
        server._data_dir = Some(dir);
        server
    }

    /// A server on the data directory `dir`, which outlives it (for restart tests).
    pub fn start_in(dir: &Path, extra_args: &[&str]) -> Server {
        let mut args = vec!["--data-dir".as_ref(), dir.as_os_str()];
        args.extend(extra_args.iter().map(std::ffi::OsStr::new));
        Self::start_with(&args)
    }

    /// A server with exactly `args` after `serve --host 127.0.0.1 --port 0` (no data
    /// directory unless they name one).
    pub fn start_with(args: &[&std::ffi::OsStr]) -> Server {
        Self::start_with_env(args, &[])
    }

    /// As [`start_with`](Self::start_with), with `env` set for the server (e.g. `RUST_LOG`).
    pub fn start_with_env(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_harbor"))
            .args(["serve", "--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start `harbor serve`");
        let output = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        drain(stderr, Arc::clone(&output), None);
        let (lines_tx, lines_rx) = mpsc::channel();
        drain_stdout(stdout, Arc::clone(&output), lines_tx);

        let mut server = Server {
            child,
            base_url: String::new(),
            jsonrpc_url: String::new(),
            grpc_url: None,
            listening: String::new(),
            output,
            _data_dir: None,
        };
        let deadline = Instant::now() + STARTUP_DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines_rx.recv_timeout(left) {
                Ok(line) => {
                    let line = line.trim();
                    if let Some(addr) = line.strip_prefix("harbor serve: listening on ") {
                        server.listening = addr.trim().to_owned();
                    } else if let Some(url) = line.strip_prefix("JSON-RPC") {
                        server.jsonrpc_url = url.trim().to_owned();
                    } else if let Some(url) = line.strip_prefix("gRPC") {
                        server.grpc_url = Some(url.trim().to_owned());
                    }
                    // The banner ends with "Press Ctrl-C"; the gRPC line may be absent.
                    let done = server.grpc_url.is_some() || line.starts_with("Press Ctrl-C");
                    if !server.jsonrpc_url.is_empty() && done {
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                    "`harbor serve` printed no JSON-RPC line within {STARTUP_DEADLINE:?}; output:\n{}",
                    server.output()
                ),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = server.child.wait().ok();
                    panic!(
                        "`harbor serve` stopped before printing its JSON-RPC line (status {status:?}); output:\n{}",
                        server.output()
                    )
                }
            }
        }
        server.base_url = origin_of(&server.jsonrpc_url).unwrap_or_else(|| {
            panic!(
                "cannot read a base URL from the JSON-RPC line {:?}",
                server.jsonrpc_url
            )
        });
        server
    }

    pub fn output(&self) -> String {
        self.output.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// `host:port` of the server, for raw TCP requests.
    pub fn authority(&self) -> &str {
        self.base_url.trim_start_matches("http://")
    }

    /// Path of the JSON-RPC endpoint (e.g. `/a2a/jsonrpc`).
    pub fn jsonrpc_path(&self) -> &str {
        let path = &self.jsonrpc_url[self.base_url.len()..];
        if path.is_empty() { "/" } else { path }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// `http://host:port` from `http://host:port/path` (or `https`).
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    (!authority.is_empty() && (scheme == "http" || scheme == "https"))
        .then(|| format!("{scheme}://{authority}"))
}

/// Copies a pipe into `sink` on a thread until EOF (so the child never blocks on a full pipe).
pub fn drain(
    pipe: impl Read + Send + 'static,
    sink: Arc<Mutex<String>>,
    prefix: Option<&'static str>,
) {
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = String::new();
        while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
            if let Ok(mut s) = sink.lock() {
                s.push_str(prefix.unwrap_or(""));
                s.push_str(&line);
            }
            line.clear();
        }
    });
}

/// Like [`drain`], and also hands every stdout line to `lines`.
fn drain_stdout(pipe: ChildStdout, sink: Arc<Mutex<String>>, lines: mpsc::Sender<String>) {
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = String::new();
        while matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
            if let Ok(mut s) = sink.lock() {
                s.push_str(&line);
            }
            let _ = lines.send(line.clone());
            line.clear();
        }
    });
}

/// Waits for a child with a deadline; kills it when the deadline passes.
pub fn wait_with_deadline(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let end = Instant::now() + deadline;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < end => thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Runs `harbor serve --port 0` with `args`, which must make it refuse to start: asserts
/// that it exits unsuccessfully before the startup deadline and never says it listens, and
/// returns its stderr.
pub fn refused(args: &[&std::ffi::OsStr]) -> String {
    let mut child = crate::support::run::harbor()
        .args(["serve", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn harbor serve");
    let status = wait_with_deadline(&mut child, STARTUP_DEADLINE);
    let stdout = read_all(child.stdout.take());
    let stderr = read_all(child.stderr.take());
    assert!(
        status.is_some_and(|s| !s.success()),
        "harbor serve {args:?} started ({status:?}); stderr: {stderr}"
    );
    assert!(
        !stdout.contains("listening"),
        "harbor serve {args:?} said it listens before refusing: {stdout}"
    );
    stderr
}

/// Everything left in a finished child's pipe.
fn read_all(pipe: Option<impl Read>) -> String {
    let mut text = String::new();
    if let Some(mut pipe) = pipe {
        pipe.read_to_string(&mut text).expect("read a pipe");
    }
    text
}
