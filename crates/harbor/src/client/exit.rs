//! How a client command ends: its exit code and the line it prints on stderr.

use std::process::ExitCode;

use harbor_client::{ClientError, Error};

/// The exit code table, shown under every command's `--help`.
pub(crate) const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    local failure (stdout closed, the client could not be set up)
  2    usage: bad arguments, or a URL the client refuses
  3    the agent answered with an A2A protocol error (kind, code and message on stderr)
  4    transport failure (nothing listening, connection broken, non-A2A HTTP error, unusable card)
  5    timeout (--timeout)
  130  interrupted by Ctrl-C (stream, subscribe)";

/// Exit code: success.
pub(crate) const OK: u8 = 0;
/// Exit code: a local failure.
pub(crate) const LOCAL: u8 = 1;
/// Exit code: bad arguments or a refused URL (clap's own usage errors exit 2 as well).
pub(crate) const USAGE: u8 = 2;
/// Exit code: the agent answered with a protocol error.
pub(crate) const PROTOCOL: u8 = 3;
/// Exit code: the agent could not be reached or its answer could not be read.
pub(crate) const TRANSPORT: u8 = 4;
/// Exit code: no answer in time.
pub(crate) const TIMEOUT: u8 = 5;
/// Exit code: Ctrl-C ended a stream (128 + SIGINT, as shells report it).
pub(crate) const INTERRUPTED: u8 = 130;

/// Why a command did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A call failed; the error tells protocol errors, transport failures and timeouts apart.
    Call(Error),
    /// The arguments do not make sense together.
    Usage(String),
    /// Something on this side failed (writing the output, setting the client up).
    Local(String),
    /// Ctrl-C ended a stream.
    Interrupted,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self::Call(error)
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Self::Local(format!("cannot write the output: {error}"))
    }
}

/// What a command returns.
pub(crate) type Outcome = Result<(), Failure>;

/// The exit code of a failed call.
pub(crate) fn code_of(error: &Error) -> u8 {
    match error {
        Error::Protocol(_) => PROTOCOL,
        Error::Timeout(_) => TIMEOUT,
        Error::Backend { .. } | Error::Closed | Error::UnknownPeer { .. } => TRANSPORT,
        Error::InvalidArgument(_) | Error::IdentityRequired { .. } => USAGE,
        _ => LOCAL,
    }
}

/// The stderr line for a failed call.
pub(crate) fn describe(error: &Error) -> String {
    match error {
        Error::Protocol(e) => {
            let mapping = e.mapping();
            let mut line = format!(
                "the agent answered {} (JSON-RPC {}, HTTP {}): {}",
                mapping.reason,
                mapping.json_rpc,
                mapping.http_status,
                e.message()
            );
            if !e.metadata().is_empty() {
                let pairs: Vec<String> = e
                    .metadata()
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                line.push_str(&format!(" [{}]", pairs.join(", ")));
            }
            line
        }
        Error::Timeout(after) => format!("no answer within {after:?} (see --timeout)"),
        Error::Backend { source, .. } => {
            let mut line = format!("transport failure: {}", chain(source.as_ref()));
            if let Some(ClientError::InsecureUrl { .. }) = source.downcast_ref::<ClientError>() {
                line.push_str(" (--allow-insecure-http allows plain HTTP beyond loopback)");
            }
            line
        }
        Error::InvalidArgument(message) if message.contains("plain HTTP") => {
            format!("{message} (--allow-insecure-http allows it)")
        }
        other => chain(other),
    }
}

/// An error and its sources, joined by `: `.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

/// Prints the failure, if any, and turns the outcome into the process's exit code.
pub(crate) fn finish(outcome: Outcome) -> ExitCode {
    let code = match outcome {
        Ok(()) => OK,
        Err(Failure::Call(error)) => {
            eprintln!("error: {}", describe(&error));
            code_of(&error)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            USAGE
        }
        Err(Failure::Local(message)) => {
            eprintln!("error: {message}");
            LOCAL
        }
        Err(Failure::Interrupted) => {
            eprintln!("interrupted");
            INTERRUPTED
        }
    };
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use harbor_a2a::A2aError;

    use super::*;

    #[test]
    fn each_kind_of_failure_has_its_code() {
        let protocol = Error::Protocol(A2aError::task_not_found("t1"));
        assert_eq!(code_of(&protocol), PROTOCOL);
        let shown = describe(&protocol);
        assert!(
            shown.contains("TASK_NOT_FOUND") && shown.contains("-32001"),
            "{shown}"
        );
        assert!(shown.contains("taskId=t1"), "{shown}");
        assert_eq!(code_of(&Error::Timeout(Duration::from_secs(1))), TIMEOUT);
        let refused = ClientError::Http {
            url: "http://127.0.0.1:1".into(),
            status: 502,
            body: "bad gateway".into(),
        };
        let transport = refused.into_error();
        assert_eq!(code_of(&transport), TRANSPORT);
        assert!(
            describe(&transport).contains("HTTP 502"),
            "{}",
            describe(&transport)
        );
        assert_eq!(code_of(&Error::InvalidArgument("bad".into())), USAGE);
        assert_eq!(code_of(&Error::InvalidConfig("bad".into())), LOCAL);
    }
}
