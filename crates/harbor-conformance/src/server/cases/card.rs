//! The agent card: caching headers, shape, and the extended card.

use harbor_a2a::{AgentCard, Validate};
use reqwest::header;
use serde_json::Value;

use crate::server::checks::wire_rules;
use crate::server::target::CARD_PATH;
use crate::server::{At, Binding, CaseFailure, ServerTarget};

/// The card answers with `Cache-Control: max-age`, an `ETag` and a `Last-Modified`, as
/// `application/json`; `If-None-Match` with the ETag gives 304 and another tag gives 200.
pub async fn card_http_caching(target: &ServerTarget) -> Result<(), CaseFailure> {
    let at = At::resource(format!("GET {CARD_PATH}"));
    let url = format!("{}{CARD_PATH}", target.base_url);
    let get = |etag: Option<String>| {
        let mut request = target.client().get(&url);
        if let Some(etag) = etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        let at = at.clone();
        async move {
            request
                .send()
                .await
                .map_err(|e| at.fail(format!("the request failed: {e}")))
        }
    };
    let first = get(None).await?;
    at.eq("HTTP status", &first.status().as_u16(), &200)?;
    let headers = first.headers().clone();
    let text = |name: header::HeaderName| {
        headers
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    at.ensure(
        text(header::CONTENT_TYPE).contains("application/json"),
        || {
            format!(
                "Content-Type is {:?}, want application/json",
                text(header::CONTENT_TYPE)
            )
        },
    )?;
    let cache = text(header::CACHE_CONTROL);
    at.ensure(cache.contains("max-age="), || {
        format!("Cache-Control is {cache:?}, want a max-age")
    })?;
    let etag = text(header::ETAG);
    at.ensure(!etag.is_empty(), || "no ETag header".into())?;
    let modified = text(header::LAST_MODIFIED);
    at.ensure(modified.ends_with(" GMT") && modified.len() == 29, || {
        format!("Last-Modified is {modified:?}, want an HTTP date such as \"Sun, 06 Nov 1994 08:49:37 GMT\"")
    })?;
    let cached = get(Some(etag.clone())).await?;
    at.eq(
        "HTTP status with If-None-Match: <the ETag>",
        &cached.status().as_u16(),
        &304,
    )?;
    let body = cached
        .bytes()
        .await
        .map_err(|e| at.fail(format!("reading the 304 failed: {e}")))?;
    at.ensure(body.is_empty(), || {
        format!("a 304 must have no body; got {} bytes", body.len())
    })?;
    let other = get(Some("\"not-the-card-etag\"".into())).await?;
    at.eq(
        "HTTP status with If-None-Match: <another tag>",
        &other.status().as_u16(),
        &200,
    )?;
    Ok(())
}

/// The card is valid JSON with every required field, in camelCase, without v0.3 members,
/// and parses and validates as an `AgentCard`.
pub async fn card_shape(target: &ServerTarget) -> Result<(), CaseFailure> {
    let at = At::resource(format!("GET {CARD_PATH}"));
    check_card(&at, &target.card)?;
    for (binding, url) in [
        (Binding::JsonRpc, &target.jsonrpc_url),
        (Binding::HttpJson, &target.http_json_url),
    ] {
        if let Some(url) = url {
            at.ensure(
                url.starts_with("http://") || url.starts_with("https://"),
                || format!("the {binding} interface URL {url:?} is not an absolute http(s) URL"),
            )?;
        }
    }
    Ok(())
}

/// Checks one card document.
pub(crate) fn check_card(at: &At, card: &Value) -> Result<(), CaseFailure> {
    wire_rules(card).map_err(|e| at.fail(e))?;
    for field in ["name", "description", "version"] {
        at.ensure(
            card.get(field)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty()),
            || format!("the card's {field} must be a non-empty string"),
        )?;
    }
    at.ensure(
        card.get("capabilities").is_some_and(Value::is_object),
        || "the card has no capabilities object".into(),
    )?;
    for field in ["defaultInputModes", "defaultOutputModes", "skills"] {
        at.ensure(card.get(field).is_some_and(Value::is_array), || {
            format!("the card's {field} must be an array")
        })?;
    }
    let interfaces = card
        .get("supportedInterfaces")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    at.ensure(!interfaces.is_empty(), || {
        "the card's supportedInterfaces must list at least one interface".into()
    })?;
    for interface in interfaces {
        for field in ["url", "protocolBinding", "protocolVersion"] {
            at.ensure(
                interface
                    .get(field)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty()),
                || format!("an interface has no {field}: {interface}"),
            )?;
        }
    }
    for skill in card
        .get("skills")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        for field in ["id", "name", "description"] {
            at.ensure(
                skill
                    .get(field)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty()),
                || format!("a skill has no {field}: {skill}"),
            )?;
        }
        at.ensure(skill.get("tags").is_some_and(Value::is_array), || {
            format!("a skill has no tags array: {skill}")
        })?;
    }
    for legacy in [
        "url",
        "preferredTransport",
        "additionalInterfaces",
        "protocolVersion",
        "supportsAuthenticatedExtendedCard",
    ] {
        at.ensure(card.get(legacy).is_none(), || {
            format!("the card has the v0.3 member {legacy:?}, which v1 removed")
        })?;
    }
    let parsed: AgentCard = harbor_a2a::from_json_value(card.clone())
        .map_err(|e| at.fail(format!("not an AgentCard: {e}")))?;
    parsed
        .validate()
        .map_err(|e| at.fail(format!("the card breaks a REQUIRED rule: {}", e.message())))?;
    Ok(())
}

/// GetExtendedAgentCard answers a valid card when the card declares
/// `capabilities.extendedAgentCard`, and an error when it does not.
pub async fn extended_card(target: &ServerTarget, binding: Binding) -> Result<(), CaseFailure> {
    let rpc = target.rpc(binding)?;
    let reply = rpc.extended_card().await?;
    let at = reply.at.clone();
    if target.declares("extendedAgentCard") {
        check_card(&at, &reply.ok()?)
    } else {
        let error = reply.error()?;
        at.ensure(
            binding == Binding::JsonRpc || (400..500).contains(&error.http_status),
            || {
                format!(
                    "without the capability the call must fail with a 4xx, got HTTP {}",
                    error.http_status
                )
            },
        )
    }
}
