//! Calls over one binding: the raw JSON-RPC and HTTP+JSON exchanges, and one method per
//! RPC that picks the binding's form (method name and params, or route, query and body).
//!
//! Every answer is checked against the binding's envelope and the serialization rules
//! ([`wire`]) before a case sees it.

pub(crate) mod reply;
mod rpcs;
mod streams;
pub mod wire;

use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

pub(crate) use reply::check_error;
pub use reply::{Reply, WireError};
pub use wire::RawResponse;

use super::{At, Binding, CaseFailure, ServerTarget};

static NEXT_ID: AtomicI64 = AtomicI64::new(1);

/// The body of an HTTP+JSON request.
#[derive(Debug, Clone)]
pub enum RestBody {
    /// No body and no `Content-Type` (as the conformance kit sends CancelTask).
    None,
    /// An empty body sent as `application/json` (as the kit sends SubscribeToTask).
    EmptyJson,
    /// A JSON body sent as `application/json`.
    Json(Value),
    /// Any bytes with any content type.
    Raw {
        /// The `Content-Type`.
        content_type: String,
        /// The body.
        body: Vec<u8>,
    },
}

/// A caller of one binding of a target.
#[derive(Debug, Clone)]
pub struct Rpc<'a> {
    target: &'a ServerTarget,
    binding: Binding,
    url: &'a str,
    version: Option<String>,
    extensions: Option<String>,
    last_event_id: Option<String>,
}

// Written here rather than in `target.rs`: an `Rpc` borrows its target, so the target's
// module does not import this one back.
impl ServerTarget {
    /// A caller of `binding`, or a skip when the card does not declare it.
    pub fn rpc(&self, binding: Binding) -> Result<Rpc<'_>, CaseFailure> {
        Rpc::new(self, binding)
    }

    /// A caller of `binding` when the card declares `capabilities.streaming`, else a skip.
    pub fn streaming_rpc(&self, binding: Binding) -> Result<Rpc<'_>, CaseFailure> {
        if !self.declares("streaming") {
            return Err(CaseFailure::skipped(
                "the card does not declare capabilities.streaming",
            ));
        }
        self.rpc(binding)
    }
}

impl<'a> Rpc<'a> {
    pub(crate) fn new(target: &'a ServerTarget, binding: Binding) -> Result<Self, CaseFailure> {
        if binding == Binding::Grpc {
            return Err(CaseFailure::skipped(
                "the HTTP caller does not speak gRPC (the grpc_* cases check that binding)",
            ));
        }
        let url = target.url(binding)?;
        Ok(Self {
            target,
            binding,
            url,
            version: Some(target.options.version.clone()),
            extensions: None,
            last_event_id: None,
        })
    }

    /// The binding.
    pub fn binding(&self) -> Binding {
        self.binding
    }

    /// The target.
    pub fn target(&self) -> &'a ServerTarget {
        self.target
    }

    /// The interface URL.
    pub fn url(&self) -> &'a str {
        self.url
    }

    /// Where a check on `rpc` over this binding is made.
    pub fn at(&self, rpc: &str) -> At {
        At::new(self.binding, rpc)
    }

    /// Sends `A2A-Version: <version>` (`None`: no header at all).
    #[must_use]
    pub fn with_version(mut self, version: Option<&str>) -> Self {
        self.version = version.map(str::to_owned);
        self
    }

    /// Sends `A2A-Extensions: <uris>`.
    #[must_use]
    pub fn with_extensions(mut self, uris: &str) -> Self {
        self.extensions = Some(uris.to_owned());
        self
    }

    /// Sends `Last-Event-ID: <id>` (what a client resuming a stream sends).
    #[must_use]
    pub fn with_last_event_id(mut self, id: &str) -> Self {
        self.last_event_id = Some(id.to_owned());
        self
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let mut builder = self.target.client.request(method, url);
        if let Some(id) = &self.last_event_id {
            builder = builder.header("Last-Event-ID", id);
        }
        if let Some(version) = &self.version {
            builder = builder.header("A2A-Version", version);
        }
        if let Some(extensions) = &self.extensions {
            builder = builder.header("A2A-Extensions", extensions);
        }
        builder
    }

    async fn send(
        &self,
        at: &At,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, CaseFailure> {
        let deadline = self.target.options.deadline;
        match tokio::time::timeout(deadline, builder.send()).await {
            Err(_) => Err(at.fail(format!("no answer within {deadline:?}"))),
            Ok(Err(e)) => Err(at.fail(format!("the request failed: {e}"))),
            Ok(Ok(response)) => Ok(response),
        }
    }

    async fn read(&self, at: &At, response: reqwest::Response) -> Result<RawResponse, CaseFailure> {
        let status = response.status().as_u16();
        let content_type = content_type(&response);
        let deadline = self.target.options.deadline;
        let body = match tokio::time::timeout(deadline, response.bytes()).await {
            Err(_) => return Err(at.fail(format!("the body did not end within {deadline:?}"))),
            Ok(Err(e)) => return Err(at.fail(format!("reading the body failed: {e}"))),
            Ok(Ok(body)) => body.to_vec(),
        };
        Ok(RawResponse {
            status,
            content_type,
            body,
        })
    }

    /// POSTs raw bytes to `url` (the JSON-RPC endpoint, or a variant of it) and reads the
    /// whole answer without checking it.
    pub async fn post_raw(
        &self,
        at: &At,
        url: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<RawResponse, CaseFailure> {
        let mut builder = self.request(reqwest::Method::POST, url).body(body);
        if let Some(content_type) = content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        let response = self.send(at, builder).await?;
        self.read(at, response).await
    }

    /// Calls a JSON-RPC method at the interface URL.
    pub async fn json_rpc(&self, method: &str, params: Value) -> Result<Reply, CaseFailure> {
        self.json_rpc_to(self.url, method, params).await
    }

    /// Calls a JSON-RPC method at `url`.
    pub async fn json_rpc_to(
        &self,
        url: &str,
        method: &str,
        params: Value,
    ) -> Result<Reply, CaseFailure> {
        let at = self.at(method);
        let id = json!(NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let raw = self
            .post_raw(
                &at,
                url,
                Some("application/json"),
                body.to_string().into_bytes(),
            )
            .await?;
        let result = wire::json_rpc_answer(&at, &raw, &id)?;
        Ok(Reply { at, result })
    }

    fn rest_request(
        &self,
        verb: reqwest::Method,
        path: &str,
        query: &[(String, String)],
        body: RestBody,
    ) -> reqwest::RequestBuilder {
        let mut url = format!("{}{path}", self.url);
        if !query.is_empty() {
            let pairs: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            url = format!("{url}?{}", pairs.join("&"));
        }
        let builder = self.request(verb, &url);
        match body {
            RestBody::None => builder,
            RestBody::EmptyJson => builder
                .header(CONTENT_TYPE, "application/json")
                .body(Vec::new()),
            RestBody::Json(value) => builder
                .header(CONTENT_TYPE, "application/json")
                .body(value.to_string()),
            RestBody::Raw { content_type, body } => {
                builder.header(CONTENT_TYPE, content_type).body(body)
            }
        }
    }

    /// Calls an HTTP+JSON route (`path` relative to the interface URL).
    pub async fn rest(
        &self,
        rpc: &str,
        verb: reqwest::Method,
        path: &str,
        query: &[(String, String)],
        body: RestBody,
    ) -> Result<Reply, CaseFailure> {
        let at = self.at(rpc);
        let response = self
            .send(&at, self.rest_request(verb, path, query, body))
            .await?;
        let raw = self.read(&at, response).await?;
        let result = wire::rest_answer(&at, &raw)?;
        Ok(Reply { at, result })
    }
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn is_event_stream(response: &reqwest::Response) -> bool {
    content_type(response)
        .to_ascii_lowercase()
        .starts_with("text/event-stream")
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
