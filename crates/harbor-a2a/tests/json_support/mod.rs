//! Shared helpers of the JSON tests: the canonical-form checks and the digest's example
//! messages.

use std::fmt::Debug;

use harbor_a2a::{from_json_value, to_json};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Parses `input`, checks it writes `canonical`, and that `canonical` reads back the same.
pub(crate) fn reads_as<T>(input: &Value, canonical: &Value) -> T
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let parsed: T =
        from_json_value(input.clone()).unwrap_or_else(|e| panic!("{input} does not parse: {e}"));
    let written = to_json(&parsed).expect("writes");
    assert_eq!(&written, canonical, "input: {input}");
    assert_no_kind(&written);
    let again: T = from_json_value(written).expect("canonical form parses");
    assert_eq!(again, parsed);
    parsed
}

/// A canonical example: it is its own canonical form, and its snake_case spelling reads the
/// same.
pub(crate) fn canonical<T>(example: Value) -> T
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let parsed = reads_as::<T>(&example, &example);
    reads_as::<T>(&snake_case(&example), &example);
    parsed
}

/// Fields whose value is free-form JSON (keys are user data, never renamed).
const OPAQUE: [&str; 4] = ["metadata", "data", "params", "header"];
/// Fields whose value is a map with user keys and message (or string) values.
const MAPS: [&str; 3] = ["securitySchemes", "scopes", "schemes"];

/// Renames every field of a ProtoJSON value to its proto (snake_case) name.
pub(crate) fn snake_case(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(snake_case).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, v)| {
                    let v = if OPAQUE.contains(&key.as_str()) {
                        v.clone()
                    } else if MAPS.contains(&key.as_str()) {
                        match v {
                            Value::Object(entries) => Value::Object(
                                entries
                                    .iter()
                                    .map(|(k, e)| (k.clone(), snake_case(e)))
                                    .collect(),
                            ),
                            other => other.clone(),
                        }
                    } else {
                        snake_case(v)
                    };
                    (to_snake(key), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

pub(crate) fn to_snake(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn assert_no_kind(value: &Value) {
    match value {
        Value::Object(map) => {
            assert!(!map.contains_key("kind"), "`kind` written in {value}");
            map.values().for_each(assert_no_kind);
        }
        Value::Array(items) => items.iter().for_each(assert_no_kind),
        _ => {}
    }
}

pub(crate) fn user_message() -> Value {
    json!({"messageId": "tck-complete-task-1a2b3c4d", "role": "ROLE_USER", "parts": [{"text": "hi"}]})
}

pub(crate) fn agent_message() -> Value {
    json!({
        "messageId": "m-2", "contextId": "c-1", "taskId": "t-1", "role": "ROLE_AGENT",
        "parts": [{"text": "Hello from TCK"}],
        "metadata": {"trace": {"depth": 2, "tags": ["a", null]}},
        "extensions": ["urn:a2a:tck:required-extension"], "referenceTaskIds": ["t-0"]
    })
}

pub(crate) fn task() -> Value {
    json!({
        "id": "t-1", "contextId": "c-1",
        "status": {"state": "TASK_STATE_COMPLETED", "message": agent_message(), "timestamp": "2025-01-01T00:00:00.123Z"},
        "artifacts": [{
            "artifactId": "a-1", "name": "out", "description": "the output",
            "parts": [{"raw": "dGNr", "filename": "output.txt", "mediaType": "text/plain"}],
            "metadata": {"n": 1}, "extensions": ["urn:x"]
        }],
        "history": [user_message()],
        "metadata": {"owner": "me"}
    })
}

pub(crate) fn full_card() -> Value {
    json!({
        "name": "Harbor TCK agent", "description": "Conformance agent",
        "supportedInterfaces": [
            {"url": "http://localhost:9999", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
            {"url": "http://localhost:9999/a2a/rest", "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0", "tenant": "t"},
            {"url": "localhost:10000", "protocolBinding": "GRPC", "protocolVersion": "1.0"}
        ],
        "provider": {"url": "https://example.com", "organization": "Example"},
        "version": "1.0.0", "documentationUrl": "https://example.com/docs",
        "capabilities": {
            "streaming": true, "pushNotifications": false, "extendedAgentCard": false,
            "extensions": [{"uri": "urn:a2a:tck:required-extension", "description": "d", "required": true, "params": {"x": [1]}}]
        },
        "securitySchemes": {
            "google": {"openIdConnectSecurityScheme": {"openIdConnectUrl": "https://accounts.google.com/.well-known/openid-configuration"}},
            "bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer", "bearerFormat": "JWT"}},
            "key": {"apiKeySecurityScheme": {"location": "header", "name": "X-API-Key"}},
            "mtls": {"mtlsSecurityScheme": {"description": "client certificates"}},
            "oauth": {"oauth2SecurityScheme": {"flows": {"authorizationCode": {
                "authorizationUrl": "https://example.com/auth", "tokenUrl": "https://example.com/token",
                "scopes": {"read": "read things", "write": "write things"}, "pkceRequired": true}},
                "oauth2MetadataUrl": "https://example.com/.well-known/oauth-authorization-server"}}
        },
        "securityRequirements": [{"schemes": {"oauth": {"list": ["read", "write"]}}}],
        "defaultInputModes": ["text"], "defaultOutputModes": ["text/plain"],
        "skills": [{"id": "echo", "name": "Echo", "description": "echoes", "tags": ["tck"],
            "examples": ["hi"], "inputModes": ["text"], "outputModes": ["text"],
            "securityRequirements": [{"schemes": {"bearer": {}}}]}],
        "signatures": [{"protected": "eyJhbGciOiJFUzI1NiJ9", "signature": "c2ln", "header": {"kid": "k1"}}],
        "iconUrl": "https://example.com/icon.png"
    })
}
