//! The JSON-RPC endpoint: any bytes as a request body, through the real router, envelope
//! checks, ProtoJSON, validation, limits and handler. Nothing may panic, and every request
//! gets an answer.

use axum::body::Body;
use axum::http::Request;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let request = Request::post("/a2a/jsonrpc")
            .header("content-type", "application/json")
            .body(Body::from(data.to_vec()))
            .expect("a request");
        harbor_fuzz::serve(request);
    });
}
