//! Judging responses: only a completed task (or a direct message reply) counts as success.

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::endpoint::Endpoint;

/// Bytes of a failed response quoted in its failure reason.
const QUOTE: usize = 160;

/// `{"jsonrpc":"2.0","result":…}` or `{…,"error":…}`.
#[derive(Debug, Deserialize)]
struct RpcEnvelope<T> {
    result: Option<T>,
    error: Option<RpcError>,
}

#[derive(Debug, Deserialize)]
struct RpcError {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

/// `SendMessageResponse`, or, for a streamed event, `StreamResponse`; HTTP+JSON streams may
/// also carry an AIP-193 `error`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    task: Option<HasStatus>,
    message: Option<IgnoredAny>,
    #[serde(alias = "status_update")]
    status_update: Option<HasStatus>,
    #[serde(alias = "artifact_update")]
    artifact_update: Option<IgnoredAny>,
    error: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct HasStatus {
    status: Status,
}

#[derive(Debug, Deserialize)]
struct Status {
    state: State,
}

/// A task state as its proto name or its number (ProtoJSON accepts both).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum State {
    Name(String),
    Number(i64),
}

impl State {
    fn name(&self) -> &str {
        const NAMES: [&str; 9] = [
            "TASK_STATE_UNSPECIFIED",
            "TASK_STATE_SUBMITTED",
            "TASK_STATE_WORKING",
            "TASK_STATE_COMPLETED",
            "TASK_STATE_FAILED",
            "TASK_STATE_CANCELED",
            "TASK_STATE_INPUT_REQUIRED",
            "TASK_STATE_REJECTED",
            "TASK_STATE_AUTH_REQUIRED",
        ];
        match self {
            Self::Name(name) => name,
            Self::Number(n) => usize::try_from(*n)
                .ok()
                .and_then(|i| NAMES.get(i))
                .copied()
                .unwrap_or("TASK_STATE_UNKNOWN"),
        }
    }
}

const COMPLETED: &str = "TASK_STATE_COMPLETED";

/// The start of a body, for a failure reason.
fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(QUOTE)]);
    text.trim().replace('\n', " ")
}

fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("malformed response ({e}): {}", quote(body)))
}

/// Unwraps a JSON-RPC envelope: its `result`, or its error as the failure reason.
fn unwrap_rpc<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    let envelope: RpcEnvelope<T> = parse(body)?;
    match (envelope.result, envelope.error) {
        (_, Some(e)) => Err(format!("JSON-RPC error {}: {}", e.code, e.message)),
        (Some(result), None) => Ok(result),
        (None, None) => Err(format!("neither result nor error: {}", quote(body))),
    }
}

/// Judges a blocking reply: a COMPLETED task or a direct message is a success.
pub(super) fn check_send(
    endpoint: &Endpoint,
    status: reqwest::StatusCode,
    body: &[u8],
) -> Result<(), String> {
    let payload: Payload = match endpoint {
        Endpoint::Raw { .. } if status.is_success() => {
            parse::<IgnoredAny>(body)?;
            return Ok(());
        }
        // JSON-RPC errors may come with any status; the body says what went wrong.
        Endpoint::JsonRpc { .. } if status.is_success() || body.first() == Some(&b'{') => {
            unwrap_rpc(body)?
        }
        Endpoint::HttpJson { .. } if status.is_success() => parse(body)?,
        _ => return Err(format!("HTTP {status}: {}", quote(body))),
    };
    if payload.message.is_some() {
        return Ok(());
    }
    match payload.task {
        Some(task) if task.status.state.name() == COMPLETED => Ok(()),
        Some(task) => Err(format!("the task ended {}", task.status.state.name())),
        None => Err(format!("neither task nor message: {}", quote(body))),
    }
}

/// Follows one SSE response event by event.
#[derive(Debug)]
pub(super) struct StreamCheck {
    binding: Binding,
    events: u64,
    last_state: Option<String>,
    message: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Binding {
    Raw,
    JsonRpc,
    HttpJson,
}

impl StreamCheck {
    /// A check for a stream from `endpoint`.
    pub(super) fn new(endpoint: &Endpoint) -> Self {
        let binding = match endpoint {
            Endpoint::Raw { .. } => Binding::Raw,
            Endpoint::JsonRpc { .. } => Binding::JsonRpc,
            // gRPC streams are judged on their messages (see `grpc.rs`), never as SSE.
            Endpoint::HttpJson { .. } | Endpoint::Grpc { .. } => Binding::HttpJson,
        };
        Self {
            binding,
            events: 0,
            last_state: None,
            message: false,
        }
    }

    /// One event (`kind` is its `event:` field, empty for plain data).
    pub(super) fn event(&mut self, kind: &str, data: &str) -> Result<(), String> {
        self.events += 1;
        if kind == "error" {
            return Err(format!("error event: {}", quote(data.as_bytes())));
        }
        let payload: Payload = match self.binding {
            Binding::Raw => {
                parse::<IgnoredAny>(data.as_bytes())?;
                return Ok(());
            }
            Binding::JsonRpc => unwrap_rpc(data.as_bytes())?,
            Binding::HttpJson => parse(data.as_bytes())?,
        };
        if payload.error.is_some() {
            return Err(format!("error in the stream: {}", quote(data.as_bytes())));
        }
        if let Some(with_status) = payload.task.or(payload.status_update) {
            self.last_state = Some(with_status.status.state.name().to_owned());
        } else if payload.message.is_some() {
            self.message = true;
        } else if payload.artifact_update.is_none() {
            return Err(format!(
                "no StreamResponse in event: {}",
                quote(data.as_bytes())
            ));
        }
        Ok(())
    }

    /// After the stream closed: the events read, if it ended the way a stream should.
    pub(super) fn finish(self) -> Result<u64, String> {
        if self.events == 0 {
            return Err("the stream closed without an event".into());
        }
        if self.binding == Binding::Raw || self.message {
            return Ok(self.events);
        }
        match self.last_state.as_deref() {
            Some(COMPLETED) => Ok(self.events),
            Some(state) => Err(format!("the stream closed at {state}")),
            None => Err("the stream carried no task state".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rpc() -> Endpoint {
        Endpoint::JsonRpc {
            url: String::new(),
            tenant: String::new(),
        }
    }

    fn rest() -> Endpoint {
        Endpoint::HttpJson {
            url: String::new(),
            tenant: String::new(),
        }
    }

    const OK: reqwest::StatusCode = reqwest::StatusCode::OK;

    #[test]
    fn a_completed_task_or_a_message_succeeds() {
        let done = br#"{"jsonrpc":"2.0","id":1,"result":{"task":{"id":"t","status":{"state":"TASK_STATE_COMPLETED"}}}}"#;
        assert_eq!(check_send(&rpc(), OK, done), Ok(()));
        let numeric = br#"{"task":{"id":"t","status":{"state":3}}}"#;
        assert_eq!(check_send(&rest(), OK, numeric), Ok(()));
        let message = br#"{"message":{"messageId":"m","role":"ROLE_AGENT","parts":[]}}"#;
        assert_eq!(check_send(&rest(), OK, message), Ok(()));
    }

    #[test]
    fn errors_and_unfinished_tasks_fail() {
        let error = br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"bad"}}"#;
        let reason = check_send(&rpc(), OK, error).expect_err("error");
        assert!(reason.contains("-32602"), "{reason}");
        let failed = br#"{"task":{"id":"t","status":{"state":"TASK_STATE_FAILED"}}}"#;
        let reason = check_send(&rest(), OK, failed).expect_err("failed");
        assert!(reason.contains("TASK_STATE_FAILED"), "{reason}");
        let not_found = reqwest::StatusCode::NOT_FOUND;
        let reason = check_send(&rest(), not_found, br#"{"error":{}}"#).expect_err("404");
        assert!(reason.contains("404"), "{reason}");
        assert!(check_send(&rest(), OK, b"{}").is_err());
        assert!(check_send(&rpc(), OK, b"not json").is_err());
    }

    #[test]
    fn a_stream_must_end_completed() {
        let mut check = StreamCheck::new(&rest());
        check
            .event(
                "",
                r#"{"task":{"id":"t","status":{"state":"TASK_STATE_SUBMITTED"}}}"#,
            )
            .expect("task");
        check
            .event("", r#"{"artifactUpdate":{"artifact":{}}}"#)
            .expect("artifact");
        let mut unfinished = StreamCheck::new(&rest());
        unfinished
            .event(
                "",
                r#"{"statusUpdate":{"status":{"state":"TASK_STATE_WORKING"}}}"#,
            )
            .expect("status");
        assert!(unfinished.finish().is_err());
        check
            .event(
                "",
                r#"{"statusUpdate":{"status":{"state":"TASK_STATE_COMPLETED"}}}"#,
            )
            .expect("status");
        assert_eq!(check.finish(), Ok(3));
    }

    #[test]
    fn error_events_fail_the_stream() {
        let mut check = StreamCheck::new(&rpc());
        assert!(check.event("error", "{}").is_err());
        let mut check = StreamCheck::new(&rpc());
        let error = r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"x"}}"#;
        assert!(check.event("", error).is_err());
        assert!(StreamCheck::new(&rpc()).finish().is_err());
    }
}
