//! JSON-RPC calls and SSE streams against a `harbor serve`, for the replica and worker
//! tests.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use futures::StreamExt;
use harbor_client::sse::{DEFAULT_MAX_EVENT_BYTES, SseDecoder};
use serde_json::{Value, json};

use super::serve::Server;

/// How long a stream may go without an event before the test fails.
const STREAM_DEADLINE: Duration = Duration::from_secs(30);

pub fn call(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
}

/// A user message whose id starts with `prefix` (the built-in agent's behaviour).
pub fn message(prefix: &str) -> Value {
    json!({
        "messageId": format!("{prefix}-{}", uuid::Uuid::new_v4().simple()),
        "role": "ROLE_USER",
        "parts": [{"text": "test message"}],
    })
}

/// The whole answer to one JSON-RPC call, an error answer included.
pub async fn answer(server: &Server, method: &str, params: Value) -> Value {
    reqwest::Client::new()
        .post(&server.jsonrpc_url)
        .header("A2A-Version", "1.0")
        .json(&call(method, params))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON answer")
}

/// The result of one JSON-RPC call; panics on an error answer.
pub async fn rpc(server: &Server, method: &str, params: Value) -> Value {
    let answer = answer(server, method, params).await;
    assert!(answer.get("error").is_none(), "{method} failed: {answer}");
    answer["result"].clone()
}

/// An open SSE stream of JSON-RPC results, with their ids.
pub struct Stream {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    decoder: SseDecoder,
}

impl Stream {
    pub async fn open(
        server: &Server,
        method: &str,
        params: Value,
        last_event_id: Option<u64>,
    ) -> Self {
        let mut request = reqwest::Client::new()
            .post(&server.jsonrpc_url)
            .header("A2A-Version", "1.0")
            .header("Accept", "text/event-stream")
            .json(&call(method, params));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.expect("stream request");
        assert_eq!(response.status(), 200, "{method}");
        Self {
            body: response.bytes_stream().boxed(),
            decoder: SseDecoder::new(DEFAULT_MAX_EVENT_BYTES),
        }
    }

    /// The next event, `(id, result)`, or `None` when the server ended the stream.
    pub async fn next(&mut self) -> Option<(u64, Value)> {
        loop {
            if let Some(event) = self.decoder.next_event() {
                let data: Value = serde_json::from_str(&event.data).expect("JSON data");
                assert!(data.get("error").is_none(), "an error event: {data}");
                let id = event
                    .id
                    .and_then(|id| id.parse().ok())
                    .unwrap_or_else(|| panic!("an event without a numeric id: {data}"));
                return Some((id, data["result"].clone()));
            }
            let chunk = tokio::time::timeout(STREAM_DEADLINE, self.body.next())
                .await
                .expect("the stream goes on or ends in time");
            match chunk {
                Some(Ok(bytes)) => self.decoder.push(&bytes).expect("a well-formed stream"),
                Some(Err(e)) => panic!("the stream broke: {e}"),
                None => return None,
            }
        }
    }

    /// Every event left, until the server ends the stream.
    pub async fn rest(mut self) -> Vec<(u64, Value)> {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            events.push(event);
        }
        events
    }

    /// The last result before the server ended the stream.
    pub async fn last(self) -> Value {
        self.rest()
            .await
            .pop()
            .map(|(_, result)| result)
            .expect("the stream said something")
    }
}
