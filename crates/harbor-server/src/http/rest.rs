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
use super::media::{error_as, error_response, error_with_status, response_media};
use super::rest_body::{BodyFields, read_body};
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
    let params = with_tenant(fields, &path);
    run(&shared, &caller, method, &headers, &query, params).await
}

/// Path parameters (the optional tenant and the others by name); none on plain routes.
type Params = Option<Path<HashMap<String, String>>>;

fn params(p: Params) -> HashMap<String, String> {
    p.map(|Path(p)| p).unwrap_or_default()
}

/// `fields` (already holding path, query and body fields) completed by the path's tenant.
fn with_tenant(
    mut fields: Map<String, Value>,
    path: &HashMap<String, String>,
) -> CallParams<'static> {
    if let Some(tenant) = path.get("tenant") {
        fields.insert("tenant".into(), Value::String(tenant.clone()));
    }
    CallParams::Value(Value::Object(fields))
}

/// Runs `method` with `params`, and renders the reply.
async fn run(
    shared: &Shared,
    caller: &Caller,
    method: Method,
    headers: &HeaderMap,
    query: &[(String, String)],
    params: CallParams<'_>,
) -> Response {
    let ctx = context::call_context(shared, headers, caller, context::query_version(query));
    let media = response_media(headers);
    match dispatch(
        shared.handler.as_ref(),
        method,
        crate::telemetry::Binding::HttpJson,
        &ctx,
        params,
        shared.max_event_bytes,
    )
    .await
    {
        Ok(Reply::Unary(body)) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, media)], body).into_response()
        }
        Ok(Reply::Stream(stream)) => {
            use futures::StreamExt;
            let events = stream.map(|item| {
                let item = item?;
                Ok((harbor_a2a::to_json_string(&item.event)?, item.sequence))
            });
            sse_response(
                events,
                |error| error.to_rest_body().to_string(),
                shared.keep_alive,
                &shared.shutdown,
            )
        }
        Err(error) => error_as(&error, media),
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
    // A body with nothing to merge into it (no path field, no tenant) stays text, parsed
    // once into the request.
    let whole = path_fields.is_empty() && !path.contains_key("tenant");
    let fields = match read_body(&headers, &body, whole) {
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
    let params = match fields {
        BodyFields::Text(text) => CallParams::Body(text),
        BodyFields::Map(mut fields) => {
            // Path parameters override the body, as in HTTP transcoding.
            for (key, value) in path_fields {
                fields = with(fields, key, value);
            }
            with_tenant(fields, &path)
        }
    };
    run(&shared, &caller, method, &headers, &query, params).await
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
