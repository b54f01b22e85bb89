//! HTTP+JSON (REST): each RPC its verb and path under the interface URL, the tenant as the
//! first path segment, path parameters from the request, the rest as a JSON body (POST) or
//! as query parameters (GET, DELETE).

use harbor_a2a::HttpVerb;
use harbor_a2a::methods::json_field_name;
use harbor_distributed::Error;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use url::Url;

use super::{Call, parse_result, request_fields};
use crate::body::read_capped;
use crate::error::{error_from_response, invalid_response, request_error, snippet};

/// The request of a call, ready to send.
pub(super) fn request<Req: Serialize>(
    call: &Call<'_>,
    req: &Req,
) -> Result<reqwest::RequestBuilder, Error> {
    let mut fields = request_fields(req, &call.endpoint.tenant)?;
    let tenant = match fields.remove("tenant") {
        Some(Value::String(tenant)) => tenant,
        _ => String::new(),
    };
    // The first route is the specification's (POST for SubscribeToTask, as its text says).
    let route = call
        .method
        .rest_routes()
        .first()
        .ok_or_else(|| Error::InvalidArgument(format!("{} has no HTTP route", call.method)))?;
    let mut url = route_url(&call.endpoint.url, &tenant, route.path, &mut fields)?;
    let verb = match route.verb {
        HttpVerb::Get => reqwest::Method::GET,
        HttpVerb::Post => reqwest::Method::POST,
        HttpVerb::Delete => reqwest::Method::DELETE,
    };
    let builder = if route.verb == HttpVerb::Post {
        call.http
            .request(verb, url)
            .header(CONTENT_TYPE, "application/json")
            .body(Value::Object(fields).to_string())
    } else {
        add_query(&mut url, &fields);
        call.http.request(verb, url)
    };
    Ok(builder.headers(call.headers.clone()))
}

pub(super) async fn unary<Req: Serialize, Resp: DeserializeOwned>(
    call: &Call<'_>,
    req: &Req,
) -> Result<Resp, Error> {
    let timeout = call.config.request_timeout;
    let request = request(call, req)?
        .header(ACCEPT, "application/json")
        .timeout(timeout)
        .build()
        .map_err(|e| request_error(call.endpoint.url.as_str(), e, timeout))?;
    let url = request.url().to_string();
    let response = call
        .http
        .execute(request)
        .await
        .map_err(|e| request_error(&url, e, timeout))?;
    let status = response.status();
    let bytes = read_capped(
        response,
        call.config.max_response_bytes,
        "response body",
        timeout,
    )
    .await?;
    if !status.is_success() {
        return Err(error_from_response(&url, status.as_u16(), &bytes));
    }
    let value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            invalid_response(format!("the answer is not JSON ({e}): {}", snippet(&bytes)))
        })?
    };
    parse_result(call.method, value)
}

/// `base` + `/{tenant}` + the route, its `{param}`s filled from (and taken out of) `fields`.
fn route_url(
    base: &Url,
    tenant: &str,
    template: &str,
    fields: &mut Map<String, Value>,
) -> Result<Url, Error> {
    let mut url = base.clone();
    let mut filled = Vec::new();
    for segment in template.split('/').filter(|s| !s.is_empty()) {
        filled.push(fill(segment, fields)?);
    }
    let mut segments = url
        .path_segments_mut()
        .map_err(|()| Error::InvalidArgument(format!("{base} cannot be a base URL")))?;
    segments.pop_if_empty();
    if !tenant.is_empty() {
        segments.push(tenant);
    }
    segments.extend(filled);
    drop(segments);
    Ok(url)
}

/// One path segment with its `{param}` (if any) replaced by the request field of that
/// name (`{task_id}` is the field `taskId`).
fn fill(segment: &str, fields: &mut Map<String, Value>) -> Result<String, Error> {
    let (Some(open), Some(close)) = (segment.find('{'), segment.find('}')) else {
        return Ok(segment.to_owned());
    };
    let name = &segment[open + 1..close];
    let key = json_field_name(name);
    let value = match fields.remove(&key) {
        Some(Value::String(v)) if !v.is_empty() => v,
        _ => return Err(Error::InvalidArgument(format!("{key} is required"))),
    };
    Ok(format!(
        "{}{value}{}",
        &segment[..open],
        &segment[close + 1..]
    ))
}

/// Query parameters from the remaining top-level fields: strings as they are, numbers in
/// decimal, bools as `true`/`false`, repeated fields as repeated keys; objects do not go in
/// a query.
fn add_query(url: &mut Url, fields: &Map<String, Value>) {
    if fields.is_empty() {
        return;
    }
    let mut query = url.query_pairs_mut();
    for (key, value) in fields {
        let values = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for value in values {
            match value {
                Value::String(s) => query.append_pair(key, s),
                Value::Number(n) => query.append_pair(key, &n.to_string()),
                Value::Bool(b) => query.append_pair(key, if *b { "true" } else { "false" }),
                Value::Null | Value::Array(_) | Value::Object(_) => continue,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harbor_a2a::Method;
    use serde_json::json;

    /// The verb and URL a call will use.
    fn describe(method: Method, base: &str, tenant: &str, req: Value) -> (String, String) {
        let Value::Object(mut fields) = req else {
            return (String::new(), String::new());
        };
        let route = method.rest_routes()[0];
        let base = Url::parse(base).expect("base URL");
        let mut url = route_url(&base, tenant, route.path, &mut fields).expect("route");
        if route.verb != HttpVerb::Post {
            add_query(&mut url, &fields);
        }
        (route.verb.to_string(), url.to_string())
    }

    #[test]
    fn routes_fill_path_parameters_and_the_tenant() {
        let base = "http://127.0.0.1:1/a2a/rest/";
        let cases = [
            (
                Method::GetTask,
                "",
                json!({"id": "t 1", "historyLength": 2}),
                "GET",
                "http://127.0.0.1:1/a2a/rest/tasks/t%201?historyLength=2",
            ),
            (
                Method::CancelTask,
                "acme",
                json!({"id": "t1"}),
                "POST",
                "http://127.0.0.1:1/a2a/rest/acme/tasks/t1:cancel",
            ),
            (
                Method::SubscribeToTask,
                "",
                json!({"id": "t1"}),
                "POST",
                "http://127.0.0.1:1/a2a/rest/tasks/t1:subscribe",
            ),
            (
                Method::ListTasks,
                "",
                json!({"status": "TASK_STATE_WORKING", "includeArtifacts": true, "pageSize": 5}),
                "GET",
                "http://127.0.0.1:1/a2a/rest/tasks?includeArtifacts=true&pageSize=5&status=TASK_STATE_WORKING",
            ),
            (
                Method::DeleteTaskPushNotificationConfig,
                "",
                json!({"taskId": "t1", "id": "p/1"}),
                "DELETE",
                "http://127.0.0.1:1/a2a/rest/tasks/t1/pushNotificationConfigs/p%2F1",
            ),
            (
                Method::SendMessage,
                "a b",
                json!({}),
                "POST",
                "http://127.0.0.1:1/a2a/rest/a%20b/message:send",
            ),
        ];
        for (method, tenant, req, verb, url) in cases {
            assert_eq!(
                describe(method, base, tenant, req),
                (verb.to_owned(), url.to_owned()),
                "{method}"
            );
        }
    }

    #[test]
    fn a_missing_path_parameter_is_refused() {
        let mut fields = Map::new();
        let base = Url::parse("https://a.example").expect("url");
        let error = route_url(
            &base,
            "",
            "/tasks/{task_id}/pushNotificationConfigs",
            &mut fields,
        );
        assert!(matches!(error, Err(Error::InvalidArgument(m)) if m == "taskId is required"));
    }
}
