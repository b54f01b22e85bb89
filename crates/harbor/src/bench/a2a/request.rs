//! One bench request: building it, sending it on the pooled client, timing and judging it.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use reqwest::header::{ACCEPT, CONTENT_TYPE};

use super::endpoint::{Endpoint, Mode, Sample};
use super::sse::SseReader;
use super::validate::{StreamCheck, check_send};

/// Chunks one SSE response may arrive in; with the byte cap this bounds every stream read.
const MAX_CHUNKS: usize = 1 << 20;
/// The A2A version every request names (A2A v1.0 §1).
const A2A_VERSION: &str = "1.0";
const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";

/// A request the workers repeat, with its URL (or gRPC client) worked out once.
#[derive(Debug, Clone)]
pub(super) struct Operation {
    endpoint: Endpoint,
    mode: Mode,
    url: String,
    /// The channel of a gRPC endpoint (shared by the row's workers).
    grpc: Option<super::grpc::GrpcClient>,
    /// How long one gRPC call may take (the JSON rows' client has its own timeout).
    timeout: Duration,
}

/// A fresh message id for `mode`: our agent completes plain ids at once; tck-stream-001
/// streams WORKING, an artifact, COMPLETED.
fn message_id(mode: Mode) -> String {
    match mode {
        Mode::Send => format!("bench-{}", uuid::Uuid::new_v4()),
        Mode::Stream => format!("tck-stream-001-bench-{}", uuid::Uuid::new_v4()),
    }
}

/// The pooled client every row uses, configured alike for baseline and targets.
pub(super) fn client(concurrency: usize, timeout: Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency.max(1))
        .tcp_nodelay(true)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        // A proxy's cost must not enter the figures.
        .no_proxy()
        .build()
        .context("cannot build the HTTP client")
}

impl Operation {
    /// The operation `mode` on `endpoint`.
    pub(super) fn new(endpoint: Endpoint, mode: Mode) -> Self {
        let url = match (&endpoint, mode) {
            (Endpoint::Raw { base }, Mode::Send) => format!("{base}/echo"),
            (Endpoint::Raw { base }, Mode::Stream) => format!("{base}/sse"),
            (Endpoint::JsonRpc { url, .. } | Endpoint::Grpc { url, .. }, _) => url.clone(),
            (Endpoint::HttpJson { url, tenant }, mode) => {
                let tenant = if tenant.is_empty() {
                    String::new()
                } else {
                    format!("/{tenant}")
                };
                let verb = match mode {
                    Mode::Send => "send",
                    Mode::Stream => "stream",
                };
                format!("{url}{tenant}/message:{verb}")
            }
        };
        Self {
            endpoint,
            mode,
            url,
            grpc: None,
            timeout: Duration::from_secs(30),
        }
    }

    /// Connects the gRPC client of a gRPC endpoint (lazily; needs a Tokio runtime) with
    /// `timeout` per call. Other endpoints are unchanged.
    pub(super) fn connect(mut self, timeout: Duration) -> anyhow::Result<Self> {
        if let Endpoint::Grpc { url, .. } = &self.endpoint {
            self.grpc = Some(super::grpc::client(url, timeout)?);
        }
        self.timeout = timeout;
        Ok(self)
    }

    /// The request body: a `SendMessageRequest` with a fresh message id. The baseline gets
    /// the JSON-RPC body too, so both sides send the same bytes.
    fn body(&self, seq: u64) -> Vec<u8> {
        let id = message_id(self.mode);
        let mut params = serde_json::json!({
            "message": {"messageId": id, "role": "ROLE_USER", "parts": [{"text": "bench"}]},
        });
        match &self.endpoint {
            Endpoint::HttpJson { .. } => return params.to_string().into_bytes(),
            Endpoint::JsonRpc { tenant, .. } if !tenant.is_empty() => {
                params["tenant"] = tenant.clone().into();
            }
            Endpoint::JsonRpc { .. } | Endpoint::Raw { .. } | Endpoint::Grpc { .. } => {}
        }
        let method = match self.mode {
            Mode::Send => "SendMessage",
            Mode::Stream => "SendStreamingMessage",
        };
        serde_json::json!({"jsonrpc": "2.0", "id": seq, "method": method, "params": params})
            .to_string()
            .into_bytes()
    }

    /// Sends request number `seq`; a failure comes back as its reason.
    pub(super) async fn call(&self, client: &reqwest::Client, seq: u64) -> Result<Sample, String> {
        if let (Endpoint::Grpc { tenant, .. }, Some(grpc)) = (&self.endpoint, &self.grpc) {
            let id = message_id(self.mode);
            return super::grpc::call(grpc, self.mode, tenant, id, self.timeout).await;
        }
        let accept = match self.mode {
            Mode::Send => JSON,
            Mode::Stream => EVENT_STREAM,
        };
        let request = client
            .post(&self.url)
            .header("A2A-Version", A2A_VERSION)
            .header(CONTENT_TYPE, JSON)
            .header(ACCEPT, accept)
            .body(self.body(seq));
        let start = Instant::now();
        let response = request.send().await.map_err(|e| describe(&e))?;
        match self.mode {
            Mode::Send => {
                let status = response.status();
                let body = response.bytes().await.map_err(|e| describe(&e))?;
                let latency = start.elapsed();
                check_send(&self.endpoint, status, &body)?;
                Ok(Sample {
                    latency,
                    first_event: None,
                    events: 0,
                })
            }
            Mode::Stream => self.read_stream(response, start).await,
        }
    }

    async fn read_stream(
        &self,
        mut response: reqwest::Response,
        start: Instant,
    ) -> Result<Sample, String> {
        let status = response.status();
        let is_sse = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains(EVENT_STREAM));
        if !is_sse {
            // An error before the stream starts comes as a plain JSON answer (§6.6).
            let body = response.bytes().await.map_err(|e| describe(&e))?;
            check_send(&self.endpoint, status, &body)?;
            return Err(format!("HTTP {status} without an event stream"));
        }
        let mut check = StreamCheck::new(&self.endpoint);
        let mut reader = SseReader::default();
        let mut first_event = None;
        let mut on_event = |kind: &str, data: &str| {
            first_event.get_or_insert_with(|| start.elapsed());
            check.event(kind, data)
        };
        let mut ended = false;
        for _ in 0..MAX_CHUNKS {
            match response.chunk().await.map_err(|e| describe(&e))? {
                Some(chunk) => reader.feed(&chunk, &mut on_event)?,
                None => {
                    ended = true;
                    break;
                }
            }
        }
        if !ended {
            return Err(format!("the stream sent more than {MAX_CHUNKS} chunks"));
        }
        reader.finish(&mut on_event)?;
        let latency = start.elapsed();
        let events = check.finish()?;
        Ok(Sample {
            latency,
            first_event,
            events,
        })
    }
}

/// A reqwest error with its causes ("error sending request …: connection refused").
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    // Error chains are short; the bound only guards against a cycle.
    for _ in 0..8 {
        let Some(cause) = source else { break };
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_binding() {
        let rest = |tenant: &str| Endpoint::HttpJson {
            url: "http://h/rest".into(),
            tenant: tenant.into(),
        };
        assert_eq!(
            Operation::new(rest(""), Mode::Send).url,
            "http://h/rest/message:send"
        );
        assert_eq!(
            Operation::new(rest("t1"), Mode::Stream).url,
            "http://h/rest/t1/message:stream"
        );
        let raw = Endpoint::Raw {
            base: "http://127.0.0.1:1".into(),
        };
        assert_eq!(
            Operation::new(raw, Mode::Stream).url,
            "http://127.0.0.1:1/sse"
        );
    }

    #[test]
    fn bodies_carry_unique_ids_and_the_tenant() {
        let rpc = Operation::new(
            Endpoint::JsonRpc {
                url: "http://h/rpc".into(),
                tenant: "t1".into(),
            },
            Mode::Stream,
        );
        let body: serde_json::Value = serde_json::from_slice(&rpc.body(7)).expect("json");
        assert_eq!(body["method"], "SendStreamingMessage");
        assert_eq!(body["id"], 7);
        assert_eq!(body["params"]["tenant"], "t1");
        let id = body["params"]["message"]["messageId"].as_str().expect("id");
        assert!(id.starts_with("tck-stream-001-bench-"), "{id}");
        assert_ne!(rpc.body(7), rpc.body(7));

        let rest = Operation::new(
            Endpoint::HttpJson {
                url: "http://h/rest".into(),
                tenant: String::new(),
            },
            Mode::Send,
        );
        let body: serde_json::Value = serde_json::from_slice(&rest.body(1)).expect("json");
        let id = body["message"]["messageId"].as_str().expect("id");
        assert!(id.starts_with("bench-"), "{id}");
        assert!(body.get("tenant").is_none());
    }
}
