//! The SDK server as a child process: started on a free port, ready when it says so,
//! killed when dropped.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// Environment variable naming the Python interpreter that has `a2a-sdk` and uvicorn.
const PYTHON_ENV: &str = "HARBOR_INTEROP_PYTHON";
/// How long the SDK server may take to print its ready line.
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

/// The SDK server child process, killed when dropped.
pub(crate) struct SdkServer {
    child: Child,
    pub(crate) base_url: String,
    output: Arc<Mutex<String>>,
}

impl SdkServer {
    /// Starts `sdk_server.py 127.0.0.1 0`; `None` (after saying why) without the interpreter.
    pub(crate) fn start() -> Option<Self> {
        let Some(python) = std::env::var_os(PYTHON_ENV).filter(|p| !p.is_empty()) else {
            eprintln!(
                "skipping: {PYTHON_ENV} is not set; .ci/run sets it (to a venv made from \
                 interop/python/requirements.txt)"
            );
            return None;
        };
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop/python/sdk_server.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .args(["127.0.0.1", "0"])
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python:?} {script:?}: {e}"));
        let output = Arc::new(Mutex::new(String::new()));
        let (lines_tx, lines) = mpsc::channel();
        copy_lines(
            child.stdout.take().expect("piped stdout"),
            &output,
            Some(lines_tx),
        );
        copy_lines(child.stderr.take().expect("piped stderr"), &output, None);
        let mut server = Self {
            child,
            base_url: String::new(),
            output,
        };
        let end = Instant::now() + STARTUP_DEADLINE;
        loop {
            match lines.recv_timeout(end.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    if let Some(url) = line.trim().strip_prefix("READY ") {
                        server.base_url = url.trim().to_owned();
                        return Some(server);
                    }
                }
                Err(_) => panic!(
                    "the SDK server printed no READY line within {STARTUP_DEADLINE:?} (status \
                     {:?}); output:\n{}",
                    server.child.try_wait(),
                    server.output()
                ),
            }
        }
    }

    pub(crate) fn output(&self) -> String {
        self.output.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for SdkServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies a pipe's lines into `sink` (and to `lines`) on a thread, until EOF.
fn copy_lines(
    pipe: impl Read + Send + 'static,
    sink: &Arc<Mutex<String>>,
    lines: Option<mpsc::Sender<String>>,
) {
    let sink = Arc::clone(sink);
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Ok(mut s) = sink.lock() {
                s.push_str(&line);
                s.push('\n');
            }
            if let Some(tx) = &lines {
                let _ = tx.send(line);
            }
        }
    });
}
