//! The two streaming calls: a JSON-RPC method or an HTTP+JSON route answered with an SSE
//! stream (an [`EventStream`]), or with an error before it.

use std::sync::atomic::Ordering;

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use super::{NEXT_ID, Reply, RestBody, Rpc, is_event_stream, wire};
use crate::server::CaseFailure;
use crate::server::sse::EventStream;

impl Rpc<'_> {
    /// Calls a streaming JSON-RPC method: an SSE stream, or an error answered before it.
    pub async fn json_rpc_stream(
        &self,
        method: &str,
        params: Value,
    ) -> Result<Reply<EventStream>, CaseFailure> {
        let at = self.at(method);
        let id = json!(NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let builder = self
            .request(reqwest::Method::POST, self.url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream")
            .body(body.to_string());
        let response = self.send(&at, builder).await?;
        if is_event_stream(&response) {
            at.ensure(response.status() == 200, || {
                format!("an SSE answer with HTTP {}", response.status())
            })?;
            let stream =
                EventStream::new(at.clone(), Some(id), response, self.target.options.deadline);
            return Ok(Reply {
                at,
                result: Ok(stream),
            });
        }
        let raw = self.read(&at, response).await?;
        match wire::json_rpc_answer(&at, &raw, &id)? {
            Ok(result) => Err(at.fail(format!(
                "expected text/event-stream, got a plain JSON result: {result}"
            ))),
            Err(error) => Ok(Reply {
                at,
                result: Err(error),
            }),
        }
    }

    /// Calls a streaming HTTP+JSON route: an SSE stream, or an error answered before it.
    pub async fn rest_stream(
        &self,
        rpc: &str,
        verb: reqwest::Method,
        path: &str,
        body: RestBody,
    ) -> Result<Reply<EventStream>, CaseFailure> {
        let at = self.at(rpc);
        let builder = self
            .rest_request(verb, path, &[], body)
            .header(ACCEPT, "text/event-stream");
        let response = self.send(&at, builder).await?;
        if is_event_stream(&response) {
            at.ensure(response.status() == 200, || {
                format!("an SSE answer with HTTP {}", response.status())
            })?;
            let stream = EventStream::new(at.clone(), None, response, self.target.options.deadline);
            return Ok(Reply {
                at,
                result: Ok(stream),
            });
        }
        let raw = self.read(&at, response).await?;
        match wire::rest_answer(&at, &raw)? {
            Ok(result) => Err(at.fail(format!(
                "expected text/event-stream, got a plain JSON result: {result}"
            ))),
            Err(error) => Ok(Reply {
                at,
                result: Err(error),
            }),
        }
    }
}
