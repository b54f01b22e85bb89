//! One run of the program: spawned in a process group of its own, fed on stdin, its
//! stderr logged, and its whole group stopped when the run ends.

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::config::ExecConfig;
use super::lines::BoundedLines;
use super::protocol::CANCEL_LINE;
use crate::executor::RequestContext;

/// The largest `HARBOR_TEXT`: environment strings are limited, and a big text belongs in
/// the request line.
const MAX_ENV_TEXT: usize = 64 * 1024;

/// A running program. Dropping it kills whatever is left of its process group.
pub(super) struct Program {
    child: Child,
    /// The process group (the child's pid), while the child has not been reaped.
    group: Option<u32>,
    writer: JoinHandle<()>,
    stderr: Option<JoinHandle<()>>,
    last_stderr: Arc<Mutex<String>>,
}

impl Program {
    /// Starts the program for `ctx`: writes `request` on its stdin, and the cancel line
    /// when `ctx.cancel` fires. Returns the program and a reader of its stdout lines.
    pub(super) fn spawn(
        config: &ExecConfig,
        ctx: &RequestContext,
        request: Vec<u8>,
    ) -> std::io::Result<(Self, BoundedLines<BufReader<ChildStdout>>)> {
        let mut command = Command::new(&config.program);
        command
            .args(&config.args)
            .envs(config.env.iter().map(|(k, v)| (k, v)))
            .env("HARBOR_TASK_ID", &ctx.task_id)
            .env("HARBOR_CONTEXT_ID", &ctx.context_id)
            .env("HARBOR_MESSAGE_ID", &ctx.message.message_id)
            .env_remove("HARBOR_TEXT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let text = ctx.message.text();
        if text.len() <= MAX_ENV_TEXT && !text.contains('\0') {
            command.env("HARBOR_TEXT", text);
        }
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command.spawn()?;
        let group = child.id();
        let missing = |what: &str| std::io::Error::other(format!("no {what} pipe"));
        let stdin = child.stdin.take().ok_or_else(|| missing("stdin"))?;
        let stdout = child.stdout.take().ok_or_else(|| missing("stdout"))?;
        let stderr = child.stderr.take().ok_or_else(|| missing("stderr"))?;
        let writer = tokio::spawn(feed(stdin, request, ctx.cancel.clone()));
        let last_stderr = Arc::new(Mutex::new(String::new()));
        let stderr = tokio::spawn(log_stderr(
            BoundedLines::new(BufReader::new(stderr), config.max_stderr_line_bytes),
            ctx.task_id.clone(),
            Arc::clone(&last_stderr),
        ));
        let lines = BoundedLines::new(BufReader::new(stdout), config.max_line_bytes);
        Ok((
            Self {
                child,
                group,
                writer,
                stderr: Some(stderr),
                last_stderr,
            },
            lines,
        ))
    }

    /// Waits for the program to exit.
    pub(super) async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Sends SIGTERM to the program's process group (the child alone where there are no
    /// process groups).
    pub(super) fn terminate(&mut self) {
        self.signal(false);
    }

    /// Sends SIGKILL to the program's process group.
    pub(super) fn kill(&mut self) {
        self.signal(true);
    }

    #[cfg(unix)]
    fn signal(&mut self, kill: bool) {
        use rustix::process::{Pid, Signal, kill_process_group};
        let signal = if kill { Signal::KILL } else { Signal::TERM };
        let pid = self
            .group
            .and_then(|id| i32::try_from(id).ok())
            .and_then(Pid::from_raw);
        if let Some(pid) = pid {
            // ESRCH: the group is already gone.
            let _ = kill_process_group(pid, signal);
        }
    }

    #[cfg(not(unix))]
    fn signal(&mut self, _kill: bool) {
        let _ = self.child.start_kill();
    }

    /// The last line the program wrote on stderr, once its stderr has ended (or after a
    /// short wait for it).
    pub(super) async fn last_stderr(&mut self) -> String {
        if let Some(task) = self.stderr.take() {
            // A process the program left behind may hold stderr open; it is killed when
            // the run ends, so do not wait for it long.
            let _ = tokio::time::timeout(std::time::Duration::from_millis(500), task).await;
        }
        self.last_stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        self.writer.abort();
        // Whatever the program left running goes with it.
        self.kill();
        if let Some(stderr) = &self.stderr {
            stderr.abort();
        }
    }
}

/// Writes the request, then (if the task is canceled) the cancel line, then closes stdin.
async fn feed(mut stdin: ChildStdin, request: Vec<u8>, cancel: CancellationToken) {
    // A program that does not read its stdin (or has exited) is not an error.
    if stdin.write_all(&request).await.is_err() || stdin.flush().await.is_err() {
        return;
    }
    cancel.cancelled().await;
    let _ = stdin.write_all(CANCEL_LINE).await;
    let _ = stdin.flush().await;
}

/// Logs each stderr line (cut at the bound) and keeps the last one.
async fn log_stderr(
    mut lines: BoundedLines<BufReader<tokio::process::ChildStderr>>,
    task_id: String,
    last: Arc<Mutex<String>>,
) {
    while let Ok(Some(line)) = lines.next_line().await {
        // Control characters could forge log lines or drive a terminal.
        let mut text: String = String::from_utf8_lossy(&line.bytes)
            .chars()
            .map(|c| {
                if c.is_control() && c != '\t' {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect();
        if line.cut {
            text.push_str(" [cut]");
        }
        tracing::warn!(target: "harbor_server::agent::exec", %task_id, "{text}");
        if !text.trim().is_empty() {
            *last.lock().unwrap_or_else(PoisonError::into_inner) = text;
        }
    }
}
