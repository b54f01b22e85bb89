#![doc = include_str!("../../../docs/exec-protocol.md")]
//!
//! # Example
//!
//! ```no_run
//! use std::sync::Arc;
//! use harbor_server::agent::exec::{ExecAgent, ExecConfig};
//!
//! let agent = ExecAgent::new(ExecConfig::shell("python3 examples/exec/agent.py"));
//! # let card = harbor_a2a::AgentCard::default();
//! let handler = harbor_server::DefaultHandler::builder(card, Arc::new(agent)).build();
//! ```

mod config;
mod lines;
mod process;
mod protocol;

pub use config::ExecConfig;

use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use harbor_a2a::{A2aError, TaskState};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::executor::{AgentEvent, AgentExecutor, EventSink, RequestContext, text_part};
use process::Program;
use protocol::{Decoder, Event};

/// An agent that is a program: see the [module docs](self) for the protocol.
#[derive(Debug, Clone)]
pub struct ExecAgent {
    config: Arc<ExecConfig>,
    slots: Arc<Semaphore>,
}

impl ExecAgent {
    /// An agent running the program of `config`.
    pub fn new(config: ExecConfig) -> Self {
        let slots = Arc::new(Semaphore::new(config.max_running.max(1)));
        Self {
            config: Arc::new(config),
            slots,
        }
    }

    /// Its settings.
    pub fn config(&self) -> &ExecConfig {
        &self.config
    }
}

#[async_trait]
impl AgentExecutor for ExecAgent {
    async fn execute(&self, ctx: RequestContext, events: EventSink) -> Result<(), A2aError> {
        let slot = tokio::select! {
            slot = Arc::clone(&self.slots).acquire_owned() => slot,
            () = ctx.cancel.cancelled() => return Ok(()),
        };
        let _slot = slot.map_err(|_| A2aError::internal("the exec agent is closed"))?;
        Run {
            config: &self.config,
            ctx: &ctx,
            events: &events,
            tally: Tally::default(),
        }
        .drive()
        .await
    }
}

/// What the program has emitted so far.
#[derive(Debug, Default)]
struct Tally {
    events: usize,
    last_state: Option<TaskState>,
    /// Its first event was a direct reply: there is no task to fail.
    replied: bool,
}

impl Tally {
    fn note(&mut self, event: &AgentEvent) {
        self.events += 1;
        match event {
            AgentEvent::Status { state, .. } => self.last_state = Some(*state),
            AgentEvent::Reply(_) if self.events == 1 => self.replied = true,
            _ => {}
        }
    }

    fn terminal(&self) -> bool {
        self.last_state.is_some_and(|s| {
            matches!(
                s,
                TaskState::Completed
                    | TaskState::Failed
                    | TaskState::Canceled
                    | TaskState::Rejected
            )
        })
    }

    fn interrupted(&self) -> bool {
        matches!(
            self.last_state,
            Some(TaskState::InputRequired | TaskState::AuthRequired)
        )
    }
}

/// Where the cancel of a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Not canceled.
    Running,
    /// The cancel line was sent; SIGTERM when the grace ends.
    Asked,
    /// SIGTERM was sent; SIGKILL when the grace ends.
    Terminated,
    /// SIGKILL was sent.
    Killed,
}

/// How reading the program's output ended.
enum End {
    /// Its stdout ended (and it exited, or is about to).
    Done(Option<ExitStatus>),
    /// It broke the protocol, gave up or took too long: stop it and fail the task.
    Fail(String),
}

/// One message's run of the program.
struct Run<'a> {
    config: &'a ExecConfig,
    ctx: &'a RequestContext,
    events: &'a EventSink,
    tally: Tally,
}

/// `now + d`, or far ahead when that does not fit.
fn after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400))
}

/// "status 3" or "signal 9".
fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return format!("signal {signal}");
    }
    match status.code() {
        Some(code) => format!("status {code}"),
        None => status.to_string(),
    }
}

impl Run<'_> {
    async fn drive(mut self) -> Result<(), A2aError> {
        let request = protocol::request_line(self.ctx)?;
        let (mut program, mut lines) = match Program::spawn(self.config, self.ctx, request) {
            Ok(started) => started,
            Err(e) => {
                let why = format!("cannot start `{}`: {e}", self.config.describe());
                return self.fail(why).await;
            }
        };
        let grace = self.config.cancel_grace;
        let deadline = tokio::time::sleep_until(after(self.config.timeout));
        let escalate = tokio::time::sleep_until(after(Duration::MAX));
        // After the program exits, how long its stdout may stay open (held by something it
        // left running) before the run ends anyway.
        let drain = tokio::time::sleep_until(after(Duration::MAX));
        tokio::pin!(deadline, escalate, drain);
        let mut decoder = Decoder::default();
        let mut exit = None;
        let mut stop = Stop::Running;
        let mut line_no = 0usize;
        let end = loop {
            tokio::select! {
                line = lines.next_line() => {
                    let line = match line {
                        Ok(Some(line)) => line,
                        Ok(None) => break End::Done(exit),
                        Err(e) => break End::Fail(format!("reading the program's output failed: {e}")),
                    };
                    line_no += 1;
                    if line.cut {
                        break End::Fail(format!(
                            "line {line_no} is longer than {} bytes",
                            self.config.max_line_bytes
                        ));
                    }
                    if line.bytes.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match decoder.decode(&line.bytes) {
                        Ok(Event::Agent(event)) => {
                            self.tally.note(&event);
                            self.events.emit(event).await?;
                        }
                        Ok(Event::Error(message)) => break End::Fail(message),
                        Err(why) => break End::Fail(format!("line {line_no} is not an event: {why}")),
                    }
                }
                status = program.wait(), if exit.is_none() => {
                    exit = Some(status.map_err(|e| A2aError::internal(format!("waiting for the program failed: {e}")))?);
                    drain.as_mut().reset(after(grace));
                }
                () = &mut drain, if exit.is_some() => break End::Done(exit),
                () = &mut deadline => break End::Fail(format!(
                    "the program did not finish within {:?}",
                    self.config.timeout
                )),
                () = self.ctx.cancel.cancelled(), if stop == Stop::Running => {
                    // The cancel line is on its way (see Program::spawn).
                    stop = Stop::Asked;
                    escalate.as_mut().reset(after(grace));
                }
                () = &mut escalate, if matches!(stop, Stop::Asked | Stop::Terminated) => {
                    if stop == Stop::Asked {
                        program.terminate();
                        stop = Stop::Terminated;
                        escalate.as_mut().reset(after(grace));
                    } else {
                        program.kill();
                        stop = Stop::Killed;
                    }
                }
            }
        };
        let status = match end {
            End::Fail(reason) => {
                Self::stop(&mut program, grace).await;
                return self.fail(reason).await;
            }
            End::Done(Some(status)) => Some(status),
            End::Done(None) => match tokio::time::timeout(grace, program.wait()).await {
                Ok(Ok(status)) => Some(status),
                // Its stdout is closed but it runs on: no event can come any more.
                _ => Self::stop(&mut program, grace).await,
            },
        };
        if self.tally.terminal() || self.tally.replied {
            return Ok(());
        }
        if stop != Stop::Running {
            // Canceled: the handler's cancel ends the task CANCELED.
            return Ok(());
        }
        match status {
            Some(status) if status.success() => {}
            other => {
                let how = other.map_or_else(|| "an unknown status".to_owned(), describe);
                let mut why = format!("the program exited with {how}");
                let last = program.last_stderr().await;
                if !last.is_empty() {
                    why = format!("{why}: {last}");
                }
                return self.fail(why).await;
            }
        }
        if self.tally.events == 0 {
            return self
                .fail("the program exited without printing an event".to_owned())
                .await;
        }
        if self.tally.interrupted() {
            return Ok(());
        }
        self.events.complete(None).await
    }

    /// SIGTERM, up to `grace` to exit, then SIGKILL.
    async fn stop(program: &mut Program, grace: Duration) -> Option<ExitStatus> {
        program.terminate();
        if let Ok(Ok(status)) = tokio::time::timeout(grace, program.wait()).await {
            return Some(status);
        }
        program.kill();
        tokio::time::timeout(grace, program.wait())
            .await
            .ok()
            .and_then(Result::ok)
    }

    /// Fails the task (creating it if the program emitted nothing) with `reason`.
    async fn fail(&self, reason: String) -> Result<(), A2aError> {
        tracing::warn!(task_id = %self.ctx.task_id, %reason, "exec agent failed the task");
        if self.tally.terminal() || self.tally.replied {
            return Ok(());
        }
        let message = self.events.agent_message(vec![text_part(&reason)]);
        self.events.status(TaskState::Failed, Some(message)).await
    }
}
