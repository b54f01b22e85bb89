//! The HTTP+JSON binding: the routes of the method table, each also under `/{tenant}`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use harbor_a2a::{A2aError, ErrorKind, HttpVerb, Method, RouteFields};
use serde_json::{Map, Value};

use super::context;
use super::context::Caller;
use super::core::{Body, Shared, body_error};
use super::dispatch::{Params as CallParams, Reply, dispatch};
use super::media::{
    error_as, error_response, error_with_status, is_json_content_type, response_media,
};
use super::rest_table::{self, Targets};
use super::sse::sse_response;

type Query_ = Query<Vec<(String, String)>>;

/// The REST routes of the table ([`Method::rest_routes`]), relative to the binding's
/// prefix: each route plain and under `/{tenant}`. A verb a path does not serve is axum's
/// 405, a path no route has its 404.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    let shapes = rest_table::shapes();
    let mut router = Router::new();
    for prefix in ["", "/{tenant}"] {
        for shape in &shapes {
            let mut methods = MethodRouter::new();
            for (verb, targets) in &shape.verbs {
                let (verb, targets) = (*verb, Arc::clone(targets));
                let handler = move |State(s): State<Arc<Shared>>,
                                    Extension(c): Extension<Caller>,
                                    p: Params,
                                    Query(q): Query_,
                                    h: HeaderMap,
                                    request: Request| {
                    let targets = Arc::clone(&targets);
                    async move { serve(&targets, verb, (s, c), p, q, h, request).await }
                };
                methods = methods.on(method_filter(verb), handler);
            }
            router = router.route(&format!("{prefix}{}", shape.path), methods);
        }
    }
    router
}

fn method_filter(verb: HttpVerb) -> MethodFilter {
    match verb {
        HttpVerb::Get => MethodFilter::GET,
        HttpVerb::Post => MethodFilter::POST,
        HttpVerb::Delete => MethodFilter::DELETE,
    }
}

/// One request on a path of the table: its route told apart by the custom verb, then its
/// fields from the path and the body or the query, as the route says.
async fn serve(
    targets: &Targets,
    verb: HttpVerb,
    (shared, caller): (Arc<Shared>, Caller),
    p: Params,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let path = params(p);
    // A POST's body is read before its route is picked (as a body extractor would).
    let body = match verb {
        HttpVerb::Post => Some(Bytes::from_request(request, &()).await),
        HttpVerb::Get | HttpVerb::Delete => None,
    };
    let Some((target, path_fields)) = targets.pick(&path) else {
        return not_found();
    };
    let (method, fields) = (target.method, target.route.fields);
    let fields = match fields {
        RouteFields::Body => {
            let body = body.unwrap_or_else(|| Ok(Bytes::new()));
            let caller = (shared, caller);
            return body_method(caller, method, headers, query, path, body, &path_fields).await;
        }
        RouteFields::Query => query_fields(&query),
        RouteFields::PathOnly => Map::new(),
    };
    let fields = path_fields
        .iter()
        .fold(fields, |fields, (key, value)| with(fields, key, value));
    run(&shared, &caller, method, &headers, &query, &path, fields).await
}

/// Path parameters (the optional tenant and the others by name); none on plain routes.
type Params = Option<Path<HashMap<String, String>>>;

fn params(p: Params) -> HashMap<String, String> {
    p.map(|Path(p)| p).unwrap_or_default()
}

/// Runs `method` with `fields` (already holding path and query fields) completed by the
/// tenant, and renders the reply.
async fn run(
    shared: &Shared,
    caller: &Caller,
    method: Method,
    headers: &HeaderMap,
    query: &[(String, String)],
    path: &HashMap<String, String>,
    mut fields: Map<String, Value>,
) -> Response {
    if let Some(tenant) = path.get("tenant") {
        fields.insert("tenant".into(), Value::String(tenant.clone()));
    }
    let ctx = context::call_context(shared, headers, caller, context::query_version(query));
    let media = response_media(headers);
    match dispatch(
        shared.handler.as_ref(),
        method,
        crate::telemetry::Binding::HttpJson,
        &ctx,
        CallParams::Value(Value::Object(fields)),
        shared.max_event_bytes,
    )
    .await
    {
        Ok(Reply::Unary(body)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, media)],
            Box::<str>::from(body),
        )
            .into_response(),
        Ok(Reply::Stream(stream)) => {
            use futures::StreamExt;
            let events = stream.map(|item| {
                let item = item?;
                Ok((harbor_a2a::to_json(&item.event)?, item.sequence))
            });
            sse_response(
                events,
                |error| error.to_rest_body(),
                shared.keep_alive,
                &shared.shutdown,
            )
        }
        Err(error) => error_as(&error, media),
    }
}

/// Reads a request body: empty is `{}`; otherwise JSON in a JSON content type.
fn body_fields(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, A2aError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if !is_json_content_type(headers) {
        return Err(A2aError::new(
            ErrorKind::ContentTypeNotSupported,
            "request bodies must be application/json or application/a2a+json",
        ));
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(A2aError::invalid_params(
            "the request body must be a JSON object",
        )),
        Err(e) => Err(A2aError::new(
            ErrorKind::JsonParse,
            format!("invalid JSON body: {e}"),
        )),
    }
}

/// Query parameters as ProtoJSON fields: strings stay strings (ints and enums parse from
/// them), the known bools become bools, and `A2A-Version` is not a field.
fn query_fields(query: &[(String, String)]) -> Map<String, Value> {
    let mut fields = Map::new();
    for (key, value) in query {
        if key.eq_ignore_ascii_case("a2a-version") {
            continue;
        }
        let value = match (key.as_str(), value.as_str()) {
            ("includeArtifacts" | "include_artifacts", "true" | "false") => {
                Value::Bool(value == "true")
            }
            _ => Value::String(value.clone()),
        };
        fields.insert(key.clone(), value);
    }
    fields
}

fn with(mut fields: Map<String, Value>, key: &str, value: &str) -> Map<String, Value> {
    fields.insert(key.to_owned(), Value::String(value.to_owned()));
    fields
}

async fn body_method(
    (shared, caller): (Arc<Shared>, Caller),
    method: Method,
    headers: HeaderMap,
    query: Vec<(String, String)>,
    path: HashMap<String, String>,
    body: Body,
    path_fields: &[(String, String)],
) -> Response {
    let media = response_media(&headers);
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let (status, error) = body_error(&rejection);
            refused(&error);
            return error_with_status(&error, status, media);
        }
    };
    let mut fields = match body_fields(&headers, &body) {
        Ok(fields) => fields,
        // A body in another content type is refused with 415 (the table's code for the
        // error is 400, which is for unsupported part media types).
        Err(error) if error.kind() == ErrorKind::ContentTypeNotSupported => {
            refused(&error);
            return error_with_status(&error, StatusCode::UNSUPPORTED_MEDIA_TYPE, media);
        }
        Err(error) => {
            refused(&error);
            return error_as(&error, media);
        }
    };
    // Path parameters override the body, as in HTTP transcoding.
    for (key, value) in path_fields {
        fields = with(fields, key, value);
    }
    run(&shared, &caller, method, &headers, &query, &path, fields).await
}

/// Counts a request refused before its RPC ran.
fn refused(error: &A2aError) {
    crate::telemetry::refused(crate::telemetry::Binding::HttpJson, error);
}

fn not_found() -> Response {
    let error = A2aError::new(ErrorKind::MethodNotFound, "no such route");
    refused(&error);
    error_response(&error)
}
