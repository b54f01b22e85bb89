//! The HTTP+JSON binding: a method, a path with its query, and a body, all from the input
//! (`METHOD\nPATH?QUERY\nBODY`), through the real router: route matching, path segments
//! (`{id}:cancel`, tenants), query fields and bodies. Nothing may panic.

use axum::body::Body;
use axum::http::Request;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let mut parts = data.splitn(3, |b| *b == b'\n');
        let method = parts.next().unwrap_or_default();
        let target = parts.next().unwrap_or_default();
        let body = parts.next().unwrap_or_default();
        let method = match method.first().map(|b| b % 4) {
            Some(0) => "GET",
            Some(1) => "POST",
            Some(2) => "DELETE",
            _ => "PUT",
        };
        let Ok(target) = std::str::from_utf8(target) else {
            return;
        };
        let uri = format!("/a2a/rest/{}", target.trim_start_matches('/'));
        let Ok(request) = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_vec()))
        else {
            return;
        };
        harbor_fuzz::serve(request);
    });
}
