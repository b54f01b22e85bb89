//! The canonical form of an agent card: the bytes its JWS signatures cover.
//!
//! The specification signs the RFC 8785 (JCS) serialization of the card without its
//! `signatures`. The card is first written as ProtoJSON, then, as the official SDKs do
//! before canonicalizing, empty strings, lists and objects are removed at every depth (so
//! a producer that writes `"capabilities": {}` and one that leaves it out sign the same
//! bytes). `false` and `0` are kept.

use serde_json::Value;

use crate::{A2aError, AgentCard};

/// The RFC 8785 canonical JSON of `card` for signing and verifying (see the module docs).
///
/// # Errors
///
/// Internal, when the card has no JSON form (a number JSON cannot hold).
pub fn card_signing_payload(card: &AgentCard) -> Result<String, A2aError> {
    let mut json = crate::to_json(card)?;
    if let Value::Object(map) = &mut json {
        map.remove("signatures");
    }
    let cleaned = without_empty(json).unwrap_or(Value::Object(serde_json::Map::new()));
    serde_jcs::to_string(&cleaned)
        .map_err(|e| A2aError::internal(format!("the card has no canonical form: {e}")))
}

/// `value` without empty strings, lists and objects (recursively); `None` when it is
/// itself empty.
fn without_empty(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(items) => {
            let items: Vec<Value> = items.into_iter().filter_map(without_empty).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(map) => {
            let map: serde_json::Map<String, Value> = map
                .into_iter()
                .filter_map(|(k, v)| without_empty(v).map(|v| (k, v)))
                .collect();
            (!map.is_empty()).then_some(Value::Object(map))
        }
        other => Some(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentCapabilities, AgentCardSignature, AgentSkill};

    #[test]
    fn rfc_8785_orders_keys_and_writes_numbers_as_es6() {
        // RFC 8785 §3.2.3 and appendix B examples.
        let value: Value = serde_json::from_str(
            r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],
                "string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
                "literals":[null,true,false]}"#,
        )
        .expect("json");
        assert_eq!(
            serde_jcs::to_string(&value).expect("jcs"),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn signatures_and_empty_values_are_left_out() {
        let card = AgentCard {
            name: "n".into(),
            description: "d".into(),
            version: "1".into(),
            capabilities: Some(AgentCapabilities {
                streaming: Some(false),
                ..AgentCapabilities::default()
            }),
            skills: vec![AgentSkill {
                id: "s".into(),
                ..AgentSkill::default()
            }],
            signatures: vec![AgentCardSignature {
                protected: "p".into(),
                signature: "s".into(),
                header: None,
            }],
            ..AgentCard::default()
        };
        assert_eq!(
            card_signing_payload(&card).expect("payload"),
            r#"{"capabilities":{"streaming":false},"description":"d","name":"n","skills":[{"id":"s"}],"version":"1"}"#
        );
        let unsigned = AgentCard {
            signatures: Vec::new(),
            ..card.clone()
        };
        assert_eq!(card_signing_payload(&unsigned), card_signing_payload(&card));
    }
}
