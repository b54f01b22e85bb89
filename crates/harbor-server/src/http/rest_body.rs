//! The body of an HTTP+JSON request: empty is `{}`, otherwise a JSON object in a JSON
//! content type. A body with no path field to merge into it stays text and is parsed once,
//! into the request message; the others are read as a `serde_json` object first.

use std::fmt;

use axum::http::HeaderMap;
use harbor_a2a::{A2aError, ErrorKind};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::media::is_json_content_type;

/// A request body as read.
#[derive(Debug)]
pub(super) enum BodyFields<'a> {
    /// The whole text of a JSON object that reads as a `serde_json::Value` would (see
    /// [`reads_as_value`]): the request is parsed from it directly.
    Text(&'a str),
    /// The body's fields, for path fields to be merged into.
    Map(Map<String, Value>),
}

/// Reads a request body: empty is `{}`; otherwise JSON in a JSON content type. With
/// `whole` (no field to merge into it), a JSON object stays text. A body refused one way is
/// refused the other way too, with the same error.
pub(super) fn read_body<'a>(
    headers: &HeaderMap,
    body: &'a [u8],
    whole: bool,
) -> Result<BodyFields<'a>, A2aError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(BodyFields::Map(Map::new()));
    }
    if !is_json_content_type(headers) {
        return Err(A2aError::new(
            ErrorKind::ContentTypeNotSupported,
            "request bodies must be application/json or application/a2a+json",
        ));
    }
    if whole && let Some(text) = object_text(body) {
        return Ok(BodyFields::Text(text));
    }
    body_map(body).map(BodyFields::Map)
}

/// A body parsed as a JSON object.
fn body_map(body: &[u8]) -> Result<Map<String, Value>, A2aError> {
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

/// The body as text when it is a JSON object that [`body_map`] would read: anything else
/// (not UTF-8, not an object, not JSON) goes the way of `body_map`, for its error.
fn object_text(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let first = text.trim_start_matches([' ', '\t', '\n', '\r']).as_bytes();
    (first.first() == Some(&b'{') && reads_as_value(text)).then_some(text)
}

/// Whether `text` parses as a `serde_json::Value`, with the same checks (numbers within
/// range, the nesting limit, no trailing characters) and nothing built. The request's own
/// parse skips unknown fields more leniently than that (it does not check their numbers or
/// nesting), so the body is checked first: what it accepts, the `Value` way accepts too.
fn reads_as_value(text: &str) -> bool {
    serde_json::from_str::<AnyValue>(text).is_ok()
}

/// Any JSON value, read as `serde_json::Value` reads one, and dropped.
struct AnyValue;

impl<'de> Deserialize<'de> for AnyValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnyValue)
    }
}

impl<'de> Visitor<'de> for AnyValue {
    type Value = AnyValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<AnyValue>()?.is_some() {}
        Ok(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        while map.next_key::<Key>()?.is_some() {
            map.next_value::<AnyValue>()?;
        }
        Ok(self)
    }
}

/// An object key. `serde_json::Value` reads one key name its own way (the token of a
/// `RawValue`); a body holding it goes the `Value` way.
struct Key;

/// The key `serde_json` gives a `RawValue` (`serde_json::raw::TOKEN`, not public).
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(Key)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self, E> {
        if key == RAW_VALUE_TOKEN {
            return Err(E::custom("a serde_json RawValue token"));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderValue, header};
    use harbor_a2a::SendMessageRequest;

    use super::super::dispatch::{Params, params};
    use super::*;

    /// What a body reads as: the request, written back as ProtoJSON, or the refusal's kind
    /// and message.
    type Outcome = Result<String, (ErrorKind, String)>;

    fn outcome(headers: &HeaderMap, body: &[u8], whole: bool) -> Outcome {
        let read = read_body(headers, body, whole).and_then(|fields| {
            let request: SendMessageRequest = match fields {
                BodyFields::Text(text) => params(Params::Body(text))?,
                BodyFields::Map(map) => params(Params::Value(Value::Object(map)))?,
            };
            harbor_a2a::to_json_string(&request)
        });
        read.map_err(|e| (e.kind(), e.message().to_owned()))
    }

    fn json_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers
    }

    const MESSAGE: &str = r#"{"messageId":"m1","role":"ROLE_USER","parts":[{"text":"hi"}]}"#;

    fn bodies() -> Vec<Vec<u8>> {
        let deep = format!(
            r#"{{"message":{MESSAGE},"deep":{}1{}}}"#,
            "[".repeat(130),
            "]".repeat(130)
        );
        let mut bodies: Vec<Vec<u8>> = [
            format!(r#"{{"message":{MESSAGE}}}"#),
            format!("\n {{\"message\": {MESSAGE} }}\r\n"),
            r#"{"message":{"message_id":"m2","context_id":"c","role":2,"parts":[{"data":{"b":[1,2.5,null],"a":"x"}},{"url":"https://e/x","media_type":"text/plain"}]},"configuration":{"acceptedOutputModes":["text/plain"],"historyLength":"3"},"metadata":{"k":{"z":1,"a":null}}}"#.to_owned(),
            format!(r#"{{"message":{MESSAGE},"extra":{{"a":[1,2,{{"b":null}}]}},"tenant":"t"}}"#),
            // Unknown fields the request's parse would skip but a Value refuses.
            format!(r#"{{"message":{MESSAGE},"extra":1e400}}"#),
            format!(r#"{{"message":{MESSAGE},"extra":"\ud800"}}"#),
            deep,
            // Fields given twice: the Value keeps the last.
            format!(r#"{{"message":{MESSAGE},"message":{{"messageId":"m3","parts":[]}}}}"#),
            format!(r#"{{"configuration":null,"configuration":{{"historyLength":2}},"message":{MESSAGE}}}"#),
            format!(r#"{{"message":{MESSAGE},"metadata":{{"a":1,"a":2}}}}"#),
            r#"{"messageId":"x","message_id":"y"}"#.to_owned(),
            // Refusals whose message the key order or a position could change.
            r#"{"message":{"messageId":"m","parts":[{"text":"a","data":1}]}}"#.to_owned(),
            r#"{"message":"x"}"#.to_owned(),
            r#"{"message":{"role":"ROLE_NOPE"}}"#.to_owned(),
            r#"{"configuration":{"historyLength":1.5}}"#.to_owned(),
            r#"{"$serde_json::private::RawValue":"{}"}"#.to_owned(),
            // Not an object, not JSON.
            "[1,2]".to_owned(),
            r#""text""#.to_owned(),
            "{".to_owned(),
            r#"{"a":1} x"#.to_owned(),
            "\u{c}{}".to_owned(),
            "   ".to_owned(),
            String::new(),
            "{}".to_owned(),
        ]
        .into_iter()
        .map(String::into_bytes)
        .collect();
        bodies.push(b"{\"message\":{\"messageId\":\"\xff\"}}".to_vec());
        bodies
    }

    #[test]
    fn a_body_read_as_text_reads_as_the_value_way_reads_it() {
        let headers = json_headers();
        for body in bodies() {
            let shown = String::from_utf8_lossy(&body);
            assert_eq!(
                outcome(&headers, &body, true),
                outcome(&headers, &body, false),
                "{shown}"
            );
        }
        let mut plain = HeaderMap::new();
        plain.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let body = format!(r#"{{"message":{MESSAGE}}}"#);
        assert_eq!(
            outcome(&plain, body.as_bytes(), true).map_err(|(kind, _)| kind),
            Err(ErrorKind::ContentTypeNotSupported)
        );
    }

    #[test]
    fn only_objects_that_read_as_a_value_stay_text() {
        let headers = json_headers();
        let text = |body: &str, whole| {
            matches!(
                read_body(&headers, body.as_bytes(), whole),
                Ok(BodyFields::Text(_))
            )
        };
        let body = format!(r#"{{"message":{MESSAGE}}}"#);
        assert!(text(&body, true));
        assert!(!text(&body, false), "fields to merge need the object");
        assert!(!text(
            &format!(r#"{{"message":{MESSAGE},"x":1e400}}"#),
            true
        ));
        assert!(!text("[1]", true));
        assert!(!text(r#"{"$serde_json::private::RawValue":"1"}"#, true));
        assert!(!text("", true), "an empty body is {{}}");
    }
}
