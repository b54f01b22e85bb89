//! The shared machinery of the hand-written ProtoJSON impls: reading a JSON object field by
//! field under either name style, ProtoJSON's lenient scalar forms, and errors that name the
//! field.

use std::fmt;
use std::marker::PhantomData;

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Serialize, Serializer};

use crate::TaskState;

/// A message whose JSON object is read field by field.
pub(crate) trait JsonFields: Default {
    /// The proto message name, used in error messages.
    const NAME: &'static str;

    /// Reads the value of `key` into `self`, accepting the camelCase and the snake_case name.
    /// Returns `false` when the key is not a field of this message (it is then skipped).
    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        fields: &mut FieldReader<'_, A>,
    ) -> Result<bool, A::Error>;

    /// Checks the message once every key is read.
    fn finish<E: de::Error>(self) -> Result<Self, E> {
        Ok(self)
    }
}

/// Deserializes a [`JsonFields`] message from a JSON object.
pub(crate) fn deserialize_message<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: JsonFields,
{
    deserializer.deserialize_map(MessageVisitor(PhantomData))
}

struct MessageVisitor<T>(PhantomData<T>);

impl<'de, T: JsonFields> Visitor<'de> for MessageVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON object for lf.a2a.v1.{}", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut message = T::default();
        let mut fields = FieldReader {
            message: T::NAME,
            seen: Vec::new(),
            map: &mut map,
        };
        while let Some(key) = fields.map.next_key::<String>()? {
            if !message.read_field(&key, &mut fields)? {
                // ProtoJSON parsers ignore unknown fields (TCK DM-SERIAL-005).
                fields.map.next_value::<IgnoredAny>()?;
            }
        }
        message.finish()
    }
}

/// Reads field values of one JSON object, refusing a field given twice (under either name).
pub(crate) struct FieldReader<'a, A> {
    message: &'static str,
    seen: Vec<&'static str>,
    map: &'a mut A,
}

impl<'de, A: MapAccess<'de>> FieldReader<'_, A> {
    /// The value of field `name` (its JSON name); JSON `null` reads as `None`, which ProtoJSON
    /// defines as "the default value".
    pub(crate) fn value<T: Deserialize<'de>>(
        &mut self,
        name: &'static str,
    ) -> Result<Option<T>, A::Error> {
        self.mark(name)?;
        self.map
            .next_value::<Option<T>>()
            .map_err(|e| field_error(self.message, name, &e))
    }

    /// Records that `name` was read; a second value for it is an error.
    pub(crate) fn mark(&mut self, name: &'static str) -> Result<(), A::Error> {
        if self.seen.contains(&name) {
            return Err(de::Error::custom(format_args!(
                "{}.{name}: field given more than once",
                self.message
            )));
        }
        self.seen.push(name);
        Ok(())
    }

    /// The raw value of field `name`, without null handling (for `google.protobuf.Value`).
    pub(crate) fn raw_value<T: Deserialize<'de>>(
        &mut self,
        name: &'static str,
    ) -> Result<T, A::Error> {
        self.mark(name)?;
        self.map
            .next_value::<T>()
            .map_err(|e| field_error(self.message, name, &e))
    }
}

/// An error for `message.field` caused by `cause`.
pub(crate) fn field_error<E: de::Error>(message: &str, field: &str, cause: &dyn fmt::Display) -> E {
    let text = cause.to_string();
    E::custom(format_args!("{message}.{field}: {}", strip_position(&text)))
}

/// Drops serde_json's ` at line L column C` suffix: the parser adds the position again when
/// the wrapped error reaches it, and it would otherwise appear twice.
fn strip_position(text: &str) -> &str {
    let Some(at) = text.rfind(" at line ") else {
        return text;
    };
    let rest = &text[at + " at line ".len()..];
    let mut parts = rest.splitn(3, ' ');
    let is_position = matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(line), Some("column"), Some(column))
            if line.bytes().all(|b| b.is_ascii_digit()) && column.bytes().all(|b| b.is_ascii_digit())
    );
    if is_position { &text[..at] } else { text }
}

/// An `int32` in ProtoJSON: a JSON number, or a string holding one.
pub(crate) struct Int32(pub(crate) i32);

impl<'de> Deserialize<'de> for Int32 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Int32Visitor)
    }
}

struct Int32Visitor;

impl Visitor<'_> for Int32Visitor {
    type Value = Int32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a 32-bit integer (number or numeric string)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int32, E> {
        i32::try_from(v)
            .map(Int32)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int32, E> {
        i32::try_from(v)
            .map(Int32)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int32, E> {
        // ProtoJSON accepts an integral value written as a float, such as `10.0` or `1e2`.
        if v.fract() == 0.0 && v >= f64::from(i32::MIN) && v <= f64::from(i32::MAX) {
            Ok(Int32(v as i32))
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Int32, E> {
        if let Ok(n) = v.parse::<i64>() {
            return self.visit_i64(n);
        }
        match v.parse::<f64>() {
            Ok(n) if n.is_finite() => self.visit_f64(n),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

/// A `TaskState` field (an `i32` in prost) written by name, or as its number when it is not a
/// known value (ProtoJSON's rule for unknown enum values).
pub(crate) struct TaskStateJson(pub(crate) i32);

impl Serialize for TaskStateJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match TaskState::try_from(self.0) {
            Ok(state) => serializer.serialize_str(state.as_str_name()),
            Err(_) => serializer.serialize_i32(self.0),
        }
    }
}

/// `bytes` in ProtoJSON: standard base64 with padding out; standard or URL-safe, padded or
/// not, in.
pub(crate) struct Base64(pub(crate) Vec<u8>);

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Encodes `bytes` the way ProtoJSON writes them.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    general_purpose::STANDARD.encode(bytes)
}

impl<'de> Deserialize<'de> for Base64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let decoded = if text.contains(['-', '_']) {
            URL_SAFE_LENIENT.decode(&text)
        } else {
            STANDARD_LENIENT.decode(&text)
        };
        decoded
            .map(Base64)
            .map_err(|e| de::Error::custom(format_args!("invalid base64: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_position_only_strips_a_real_position() {
        assert_eq!(strip_position("bad at line 1 column 12"), "bad");
        assert_eq!(strip_position("text at line one"), "text at line one");
        assert_eq!(strip_position("plain"), "plain");
    }

    #[test]
    fn int32_accepts_numbers_and_numeric_strings() {
        let read = |s: &str| serde_json::from_str::<Int32>(s).map(|v| v.0);
        assert_eq!(read("7").ok(), Some(7));
        assert_eq!(read("\"-7\"").ok(), Some(-7));
        assert_eq!(read("10.0").ok(), Some(10));
        assert_eq!(read("\"1e2\"").ok(), Some(100));
        assert!(read("1.5").is_err());
        assert!(read("2147483648").is_err());
        assert!(read("true").is_err());
    }

    #[test]
    fn base64_accepts_both_alphabets_and_optional_padding() {
        let read = |s: &str| serde_json::from_str::<Base64>(s).map(|v| v.0);
        assert_eq!(read("\"+/8=\"").ok(), Some(vec![0xfb, 0xff]));
        assert_eq!(read("\"-_8\"").ok(), Some(vec![0xfb, 0xff]));
        assert!(read("\"***\"").is_err());
        assert_eq!(encode_base64(&[0xfb, 0xff]), "+/8=");
    }
}
