//! `harbor serve --exec CMD`: a program as the agent, in place of the built-in one.
//!
//! The protocol and its reasons are in `harbor_server::agent::exec`
//! (`crates/harbor-server/docs/exec-protocol.md`); this module only turns the flags into
//! its settings.

use std::time::Duration;

use clap::Args;
use harbor_server::agent::exec::{ExecAgent, ExecConfig};

/// The options of `harbor serve` for an agent program.
#[derive(Debug, Args)]
#[command(next_help_heading = "Agent program")]
pub(crate) struct ExecArgs {
    /// Serve CMD as the agent instead of the built-in one: it runs under /bin/sh -c once per
    /// message, reads the request as one JSON line on stdin and prints its events as JSON
    /// lines on stdout; its stderr goes to the server log. See
    /// crates/harbor-server/docs/exec-protocol.md (examples in examples/exec/).
    #[arg(long, value_name = "CMD", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub(crate) exec: Option<String>,
    /// Seconds one run of the program may take before it is stopped and its task fails.
    #[arg(long, value_name = "SECONDS", default_value_t = 600, requires = "exec")]
    exec_timeout: u64,
    /// Seconds a canceled program has to exit after the cancel line before SIGTERM, and
    /// after SIGTERM before SIGKILL.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0, requires = "exec")]
    exec_cancel_grace: f64,
    /// Programs running at once; more messages wait for a slot.
    #[arg(long, value_name = "N", default_value_t = 64, requires = "exec",
          value_parser = clap::value_parser!(u32).range(1..))]
    exec_max_running: u32,
}

impl ExecArgs {
    /// The agent the flags describe, if `--exec` was given.
    pub(crate) fn agent(&self) -> anyhow::Result<Option<ExecAgent>> {
        let Some(command) = &self.exec else {
            return Ok(None);
        };
        let grace = Duration::try_from_secs_f64(self.exec_cancel_grace)
            .map_err(|e| anyhow::anyhow!("--exec-cancel-grace {}: {e}", self.exec_cancel_grace))?;
        let mut config = ExecConfig::shell(command);
        config.timeout = Duration::from_secs(self.exec_timeout);
        config.cancel_grace = grace;
        config.max_running = usize::try_from(self.exec_max_running).unwrap_or(usize::MAX);
        Ok(Some(ExecAgent::new(config)))
    }
}
