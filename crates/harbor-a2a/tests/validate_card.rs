//! The validation rules of the agent card and its security schemes.

mod validate_support;

use harbor_a2a::AgentCard;
use serde_json::{Value, json};
use validate_support::problem;

fn card() -> Value {
    json!({
        "name": "a", "description": "d", "version": "1",
        "supportedInterfaces": [{"url": "http://h", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
        "capabilities": {}, "defaultInputModes": ["text"], "defaultOutputModes": ["text"], "skills": []
    })
}

fn card_with(pointer: &str, value: Value) -> Value {
    let mut card = card();
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    card.pointer_mut(parent).expect("parent")[key] = value;
    card
}

#[test]
fn agent_cards() {
    assert_eq!(problem::<AgentCard>(card()), None);
    let skill = json!({"id": "s", "name": "n", "description": "d", "tags": ["t"]});
    assert_eq!(
        problem::<AgentCard>(card_with("/skills", json!([skill]))),
        None
    );
    let oauth = |flows: Value| json!({"o": {"oauth2SecurityScheme": {"flows": flows}}});
    let cases = [
        (
            card_with("/name", json!("")),
            "agentCard.name: is required and must not be empty",
        ),
        (
            card_with("/supportedInterfaces", json!([])),
            "agentCard.supportedInterfaces: must have at least one element",
        ),
        (
            card_with("/supportedInterfaces/0/protocolVersion", json!("")),
            "agentCard.supportedInterfaces[0].protocolVersion: is required and must not be empty",
        ),
        (
            card_with("/provider", json!({"url": "u"})),
            "agentCard.provider.organization: is required and must not be empty",
        ),
        (
            card_with("/version", Value::Null),
            "agentCard.version: is required and must not be empty",
        ),
        (
            card_with("/capabilities", Value::Null),
            "agentCard.capabilities: is required",
        ),
        (
            card_with("/defaultOutputModes", json!([])),
            "agentCard.defaultOutputModes: must have at least one element",
        ),
        (
            card_with(
                "/skills",
                json!([{"id": "s", "name": "n", "description": "d"}]),
            ),
            "agentCard.skills[0].tags: must have at least one element",
        ),
        (
            card_with("/signatures", json!([{"protected": "p"}])),
            "agentCard.signatures[0].signature: is required and must not be empty",
        ),
        (
            card_with("/securitySchemes", json!({"x": {}})),
            "agentCard.securitySchemes[\"x\"]: exactly one of apiKeySecurityScheme, httpAuthSecurityScheme, oauth2SecurityScheme, openIdConnectSecurityScheme, mtlsSecurityScheme must be set",
        ),
        (
            card_with(
                "/securitySchemes",
                json!({"k": {"apiKeySecurityScheme": {"location": "body", "name": "n"}}}),
            ),
            "agentCard.securitySchemes[\"k\"].apiKeySecurityScheme.location: must be query, header or cookie, got \"body\"",
        ),
        (
            card_with(
                "/securitySchemes",
                json!({"h": {"httpAuthSecurityScheme": {}}}),
            ),
            "agentCard.securitySchemes[\"h\"].httpAuthSecurityScheme.scheme: is required and must not be empty",
        ),
        (
            card_with(
                "/securitySchemes",
                json!({"g": {"openIdConnectSecurityScheme": {}}}),
            ),
            "agentCard.securitySchemes[\"g\"].openIdConnectSecurityScheme.openIdConnectUrl: is required and must not be empty",
        ),
        (
            card_with(
                "/securitySchemes",
                json!({"o": {"oauth2SecurityScheme": {}}}),
            ),
            "agentCard.securitySchemes[\"o\"].oauth2SecurityScheme.flows: is required",
        ),
        (
            card_with("/securitySchemes", oauth(json!({}))),
            "agentCard.securitySchemes[\"o\"].oauth2SecurityScheme.flows: exactly one of authorizationCode, clientCredentials, implicit, password, deviceCode must be set",
        ),
        (
            card_with(
                "/securitySchemes",
                oauth(json!({"authorizationCode": {"authorizationUrl": "a", "scopes": {}}})),
            ),
            "agentCard.securitySchemes[\"o\"].oauth2SecurityScheme.flows.authorizationCode.tokenUrl: is required and must not be empty",
        ),
        (
            card_with(
                "/securitySchemes",
                oauth(json!({"deviceCode": {"tokenUrl": "t"}})),
            ),
            "agentCard.securitySchemes[\"o\"].oauth2SecurityScheme.flows.deviceCode.deviceAuthorizationUrl: is required and must not be empty",
        ),
        (
            card_with("/securitySchemes", oauth(json!({"clientCredentials": {}}))),
            "agentCard.securitySchemes[\"o\"].oauth2SecurityScheme.flows.clientCredentials.tokenUrl: is required and must not be empty",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(
            problem::<AgentCard>(input.clone()).as_deref(),
            Some(expected),
            "{input}"
        );
    }
    for fine in [
        json!({"m": {"mtlsSecurityScheme": {}}}),
        oauth(json!({"clientCredentials": {"tokenUrl": "t", "scopes": {}}})),
        oauth(json!({"implicit": {}})),
    ] {
        assert_eq!(
            problem::<AgentCard>(card_with("/securitySchemes", fine.clone())),
            None,
            "{fine}"
        );
    }
}
