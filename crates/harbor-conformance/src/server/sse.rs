//! A small server-sent-events reader for the suite's streams.
//!
//! It is strict where the conformance kit is: each event's JSON must sit on exactly one
//! `data:` line, JSON-RPC events must be responses carrying the request's id, and every
//! event must be one `StreamResponse`. Each event's `id:` is kept beside it (the resume
//! cases read them); comments and `retry:` lines are ignored.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::Value;

use super::checks::{payload_kind, wire_rules};
use super::rpc::WireError;
use super::rpc::wire::json_rpc_error;
use super::{At, CaseFailure};

/// One item of a stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// A `StreamResponse` (unwrapped from its JSON-RPC envelope).
    Event(Value),
    /// An error event (`event: error`, or a JSON-RPC error response).
    Error(WireError),
}

/// An open SSE response.
pub struct EventStream {
    at: At,
    request_id: Option<Value>,
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    buf: Vec<u8>,
    deadline: Duration,
    ended: bool,
    /// The `id:` of each event returned so far, in order (`None` where it had none).
    ids: Vec<Option<String>>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("at", &self.at)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// Reads `response` as SSE; `request_id` is the JSON-RPC id the events must carry
    /// (`None` for bare HTTP+JSON events); each read waits at most `deadline`.
    pub(crate) fn new(
        at: At,
        request_id: Option<Value>,
        response: reqwest::Response,
        deadline: Duration,
    ) -> Self {
        Self {
            at,
            request_id,
            body: response.bytes_stream().boxed(),
            buf: Vec::new(),
            deadline,
            ended: false,
            ids: Vec::new(),
        }
    }

    /// The `id:` of every event returned so far, in order (`None` where it had none).
    pub fn event_ids(&self) -> &[Option<String>] {
        &self.ids
    }

    /// Every remaining event with its `id:`, until the server closes the stream.
    pub async fn collect_with_ids(mut self) -> Result<Vec<(Value, Option<String>)>, CaseFailure> {
        let skip = self.ids.len();
        let mut events = Vec::new();
        while let Some(event) = self.next_event().await? {
            events.push(event);
        }
        Ok(events.into_iter().zip(self.ids.split_off(skip)).collect())
    }

    /// Where the stream was opened.
    pub fn at(&self) -> &At {
        &self.at
    }

    /// The next item, or `None` once the server closed the stream.
    pub async fn next_item(&mut self) -> Result<Option<StreamItem>, CaseFailure> {
        loop {
            if let Some(block) = self.take_block() {
                match self.parse_block(&block)? {
                    Some((item, id)) => {
                        if matches!(item, StreamItem::Event(_)) {
                            self.ids.push(id);
                        }
                        return Ok(Some(item));
                    }
                    None => continue,
                }
            }
            if self.ended {
                return Ok(None);
            }
            match tokio::time::timeout(self.deadline, self.body.next()).await {
                Err(_) => {
                    return Err(self.at.fail(format!(
                        "no event and no end of the stream within {:?}",
                        self.deadline
                    )));
                }
                Ok(None) => self.ended = true,
                Ok(Some(Err(e))) => return Err(self.at.fail(format!("the stream broke: {e}"))),
                // CR is never part of an event's JSON (JSON escapes it), so dropping it turns
                // CRLF framing into LF framing.
                Ok(Some(Ok(bytes))) => self.buf.extend(bytes.iter().filter(|b| **b != b'\r')),
            }
        }
    }

    /// The next event; an error event fails.
    pub async fn next_event(&mut self) -> Result<Option<Value>, CaseFailure> {
        match self.next_item().await? {
            None => Ok(None),
            Some(StreamItem::Event(event)) => Ok(Some(event)),
            Some(StreamItem::Error(error)) => Err(self
                .at
                .fail(format!("the stream sent an error event: {}", error.body))),
        }
    }

    /// The next event, which must exist.
    pub async fn expect_event(&mut self) -> Result<Value, CaseFailure> {
        self.next_event()
            .await?
            .ok_or_else(|| self.at.fail("the stream ended before the expected event"))
    }

    /// Every remaining event, until the server closes the stream (which it must do within
    /// the deadline of each read).
    pub async fn collect(mut self) -> Result<Vec<Value>, CaseFailure> {
        let mut events = Vec::new();
        while let Some(event) = self.next_event().await? {
            events.push(event);
        }
        Ok(events)
    }

    /// One complete event block (up to a blank line), or the rest once the body ended.
    fn take_block(&mut self) -> Option<String> {
        let end = self.buf.windows(2).position(|w| w == b"\n\n");
        let block: Vec<u8> = match end {
            Some(i) => self.buf.drain(..i + 2).collect(),
            None if self.ended && !self.buf.is_empty() => std::mem::take(&mut self.buf),
            None => return None,
        };
        Some(String::from_utf8_lossy(&block).into_owned())
    }

    /// The item of one event block, with its `id:`.
    fn parse_block(
        &self,
        block: &str,
    ) -> Result<Option<(StreamItem, Option<String>)>, CaseFailure> {
        let id = block
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(field, _)| *field == "id")
            .map(|(_, v)| v.strip_prefix(' ').unwrap_or(v).to_owned())
            .next_back();
        Ok(self.parse_data(block)?.map(|item| (item, id)))
    }

    fn parse_data(&self, block: &str) -> Result<Option<StreamItem>, CaseFailure> {
        let mut data = Vec::new();
        let mut event_name = None;
        for line in block
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(':'))
        {
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "data" => data.push(value),
                "event" => event_name = Some(value),
                _ => {}
            }
        }
        match data.len() {
            0 => return Ok(None),
            1 => {}
            n => {
                let start: String = block.chars().take(160).collect();
                return Err(self.at.fail(format!(
                    "one event spans {n} data: lines; each event's JSON must be on a single data line: {start:?}..."
                )));
            }
        }
        let json: Value = serde_json::from_str(data[0]).map_err(|e| {
            self.at.fail(format!(
                "an event's data is not one JSON document ({e}): {:?}",
                data[0]
            ))
        })?;
        wire_rules(&json).map_err(|e| self.at.fail(format!("in a stream event: {e}")))?;
        let is_error = event_name == Some("error");
        let payload = match &self.request_id {
            Some(id) => {
                self.at.ensure(
                    json.get("jsonrpc").and_then(Value::as_str) == Some("2.0"),
                    || format!("a JSON-RPC stream event is not a JSON-RPC 2.0 response: {json}"),
                )?;
                self.at.ensure(json.get("id") == Some(id), || {
                    format!(
                        "a stream event has id {:?}, want the request's id {id}",
                        json.get("id")
                    )
                })?;
                if let Some(error) = json.get("error") {
                    return json_rpc_error(&self.at, 200, error)
                        .map(|e| Some(StreamItem::Error(e)));
                }
                json.get("result").cloned().ok_or_else(|| {
                    self.at
                        .fail(format!("a stream event has no result: {json}"))
                })?
            }
            None if is_error => return Ok(Some(StreamItem::Error(rest_event_error(&json)))),
            None => json,
        };
        if is_error {
            return Err(self
                .at
                .fail(format!("an `event: error` carries a result: {payload}")));
        }
        payload_kind(&payload).map_err(|e| {
            self.at
                .fail(format!("a stream event is not a StreamResponse: {e}"))
        })?;
        Ok(Some(StreamItem::Event(payload)))
    }
}

/// An AIP-193 error sent as an SSE event.
fn rest_event_error(json: &Value) -> WireError {
    let error = json.get("error").unwrap_or(json);
    WireError {
        code: error
            .get("code")
            .and_then(Value::as_i64)
            .unwrap_or_default(),
        reason: super::rpc::reply::error_info_reason(error.get("details")),
        http_status: 200,
        body: error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::server::Binding;

    fn stream(body: &str, request_id: Option<Value>) -> EventStream {
        let response = axum::http::Response::builder()
            .body(body.to_owned())
            .expect("a response");
        let at = At::new(Binding::HttpJson, "test");
        EventStream::new(
            at,
            request_id,
            reqwest::Response::from(response),
            Duration::from_secs(1),
        )
    }

    #[tokio::test]
    async fn reads_events_skipping_comments_and_crlf() {
        let body = ": ping\r\n\r\nid: 1\r\ndata: {\"task\":{\"id\":\"t\"}}\r\n\r\ndata: {\"statusUpdate\":{}}\n\n";
        let events = stream(body, None).collect().await.expect("two events");
        assert_eq!(
            events,
            vec![json!({"task": {"id": "t"}}), json!({"statusUpdate": {}})]
        );
    }

    #[tokio::test]
    async fn a_multi_line_event_fails() {
        let body = "data: {\"task\":\ndata: {}}\n\n";
        let failure = stream(body, None)
            .collect()
            .await
            .expect_err("two data lines");
        assert!(failure.to_string().contains("2 data: lines"), "{failure}");
    }

    #[tokio::test]
    async fn json_rpc_events_need_the_request_id() {
        let body = "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"task\":{}}}\n\n\
                    data: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"task\":{}}}\n\n";
        let mut events = stream(body, Some(json!(1)));
        assert_eq!(
            events.next_event().await.expect("first"),
            Some(json!({"task": {}}))
        );
        let failure = events.next_event().await.expect_err("wrong id");
        assert!(
            failure.to_string().contains("want the request's id 1"),
            "{failure}"
        );
    }

    #[tokio::test]
    async fn error_events_are_items() {
        let body = "event: error\ndata: {\"error\":{\"code\":404,\"status\":\"NOT_FOUND\",\"message\":\"m\"}}\n\n";
        let item = stream(body, None).next_item().await.expect("an item");
        let Some(StreamItem::Error(error)) = item else {
            panic!("want an error item, got {item:?}")
        };
        assert_eq!(error.code, 404);
    }

    #[tokio::test]
    async fn events_must_be_stream_responses() {
        let failure = stream("data: {\"final\":true}\n\n", None)
            .collect()
            .await
            .expect_err("not a StreamResponse");
        assert!(
            failure.to_string().contains("not a StreamResponse"),
            "{failure}"
        );
    }
}
