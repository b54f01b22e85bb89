//! The settings of an [`ExecAgent`](super::ExecAgent): the program, its arguments and
//! environment, and the limits of one run. Data only; a leaf of the exec module.

use std::ffi::OsString;
use std::time::Duration;

/// How an [`ExecAgent`](super::ExecAgent) runs its program. Data only.
#[derive(Debug, Clone)]
pub struct ExecConfig {
    /// The program. No default: [`ExecConfig::new`] or [`ExecConfig::shell`] sets it.
    pub program: OsString,
    /// Its arguments. Default none.
    pub args: Vec<OsString>,
    /// More environment variables for it (on top of the server's own and the `HARBOR_*`
    /// ones). Default none.
    pub env: Vec<(OsString, OsString)>,
    /// The longest one run may take before it is stopped and its task fails. Default 10 min.
    pub timeout: Duration,
    /// How long a canceled program may take to exit after the cancel line before SIGTERM,
    /// and after SIGTERM before SIGKILL. Default 2 s.
    pub cancel_grace: Duration,
    /// The longest stdout line (one event). Default 1 MiB.
    pub max_line_bytes: usize,
    /// The longest stderr line logged; the rest of a longer one is dropped. Default 4 KiB.
    pub max_stderr_line_bytes: usize,
    /// Programs running at once; more messages wait for a slot. Default 64 (0 counts as 1).
    pub max_running: usize,
}

impl ExecConfig {
    /// Runs `program` with `args`, every other setting at its default.
    pub fn new(
        program: impl Into<OsString>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        Self {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            timeout: Duration::from_secs(600),
            cancel_grace: Duration::from_secs(2),
            max_line_bytes: 1024 * 1024,
            max_stderr_line_bytes: 4 * 1024,
            max_running: 64,
        }
    }

    /// Runs `command` with `/bin/sh -c`, as a shell would.
    pub fn shell(command: impl Into<OsString>) -> Self {
        Self::new("/bin/sh", [OsString::from("-c"), command.into()])
    }

    /// The command line, for messages.
    pub(super) fn describe(&self) -> String {
        let mut words = vec![self.program.to_string_lossy().into_owned()];
        words.extend(self.args.iter().map(|a| a.to_string_lossy().into_owned()));
        words.join(" ")
    }
}
