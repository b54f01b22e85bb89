//! The official Python SDK's client (`interop/python/sdk_client_vs_harbor.py`) run against
//! a Harbor server, for the interop tests.
//!
//! `.ci/run` builds a venv from `interop/python/requirements.txt` and exports
//! `HARBOR_INTEROP_PYTHON` (its interpreter); without it the runs are skipped, saying why.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::serve::{drain, wait_with_deadline};

/// How long one run of the SDK script may take (it has its own per-call timeouts).
const SCRIPT_DEADLINE: Duration = Duration::from_secs(240);

/// The API key the SDK client authenticates with.
pub const INTEROP_KEY: &str = "interop-sdk-key-0123456789abcdef";

/// Environment variable naming the Python interpreter that has `a2a-sdk` installed.
const PYTHON_ENV: &str = "HARBOR_INTEROP_PYTHON";

/// The interpreter to run the SDK with, or `None` (said on stderr) to skip.
pub fn python(what: &str) -> Option<std::ffi::OsString> {
    let python = std::env::var_os(PYTHON_ENV).filter(|p| !p.is_empty());
    if python.is_none() {
        eprintln!(
            "skipping {what}: {PYTHON_ENV} is not set; .ci/run sets it \
             (to a venv made from interop/python/requirements.txt)"
        );
    }
    python
}

/// A key file (`harbor serve --api-keys`) holding [`INTEROP_KEY`], in `dir`.
pub fn key_file(dir: &std::path::Path) -> PathBuf {
    let file = dir.join("keys.txt");
    std::fs::write(
        &file,
        format!(
            "interop sdk {}\n",
            harbor_server::auth::hash_api_key(INTEROP_KEY)
        ),
    )
    .expect("write the key file");
    file
}

/// Runs the SDK client with `python` over `binding` against the server whose card is at
/// `base_url`; panics with its output and `server_output()` when it fails.
pub fn run_sdk_client(
    python: &std::ffi::OsStr,
    base_url: &str,
    binding: &str,
    server_output: impl Fn() -> String,
) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../interop/python/sdk_client_vs_harbor.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg(base_url)
        .arg(binding)
        .env("PYTHONUNBUFFERED", "1")
        .env("HARBOR_INTEROP_API_KEY", INTEROP_KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python:?} (from {PYTHON_ENV}): {e}"));
    let output = Arc::new(Mutex::new(String::new()));
    drain(
        child.stdout.take().expect("piped stdout"),
        Arc::clone(&output),
        None,
    );
    drain(
        child.stderr.take().expect("piped stderr"),
        Arc::clone(&output),
        Some("stderr: "),
    );
    let status = wait_with_deadline(&mut child, SCRIPT_DEADLINE);
    // Give the drain threads a moment to take the last lines after the exit.
    thread::sleep(Duration::from_millis(200));
    let printed = output.lock().map(|s| s.clone()).unwrap_or_default();
    match status {
        Some(status) if status.success() => println!("{printed}"),
        Some(status) => panic!(
            "the a2a-sdk client failed over {binding} ({status}):\n{printed}\n--- server output ---\n{}",
            server_output()
        ),
        None => panic!(
            "the a2a-sdk client over {binding} did not finish within {SCRIPT_DEADLINE:?} (killed):\n{printed}\n--- server output ---\n{}",
            server_output()
        ),
    }
}
