//! `google.protobuf.Value` and `Struct` in JSON, and conversions with `serde_json` values.
//!
//! pbjson-types gets two things wrong that matter on the wire: it reads a JSON `null` inside
//! a Struct or list as a `Value` with no kind (other implementations refuse to write such a
//! value), and it writes whole numbers as `1.0`. `Part.data` and every Struct field (all the
//! `metadata`, `params`, `header` fields; build.rs routes the generated code through
//! [`StructJson`] and [`StructIn`]) are read and written here instead: `null` becomes
//! `NullValue`, and a whole number within ±2^53 is written without a fraction, as JavaScript,
//! Go and Python write it.

use pbjson_types::value::Kind;
use pbjson_types::{ListValue, Struct, Value};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest integer up to which every whole `f64` is exact (2^53).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A number as JSON: whole numbers within ±2^53 as integers; `None` for NaN and infinity.
fn number_to_json(n: f64) -> Option<serde_json::Number> {
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER {
        Some(serde_json::Number::from(n as i64))
    } else {
        serde_json::Number::from_f64(n)
    }
}

/// A `serde_json` value as a `google.protobuf.Value` (numbers become `f64`, as in the proto).
pub fn json_to_value(json: serde_json::Value) -> Value {
    let kind = match json {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Kind::StringValue(s),
        serde_json::Value::Array(items) => Kind::ListValue(ListValue {
            values: items.into_iter().map(json_to_value).collect(),
        }),
        serde_json::Value::Object(map) => Kind::StructValue(json_to_struct(map)),
    };
    Value { kind: Some(kind) }
}

/// A JSON object as a `google.protobuf.Struct`.
pub fn json_to_struct(map: serde_json::Map<String, serde_json::Value>) -> Struct {
    Struct {
        fields: map
            .into_iter()
            .map(|(k, v)| (k, json_to_value(v)))
            .collect(),
    }
}

/// A `google.protobuf.Value` as a `serde_json` value. A value with no kind, and a number that
/// JSON cannot hold (NaN, infinity), become `null`.
pub fn value_to_json(value: &Value) -> serde_json::Value {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(*b),
        Some(Kind::NumberValue(n)) => {
            number_to_json(*n).map_or(serde_json::Value::Null, serde_json::Value::Number)
        }
        Some(Kind::StringValue(s)) => serde_json::Value::String(s.clone()),
        Some(Kind::ListValue(list)) => {
            serde_json::Value::Array(list.values.iter().map(value_to_json).collect())
        }
        Some(Kind::StructValue(s)) => serde_json::Value::Object(struct_to_json(s)),
    }
}

/// A `google.protobuf.Struct` as a JSON object.
pub fn struct_to_json(value: &Struct) -> serde_json::Map<String, serde_json::Value> {
    value
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), value_to_json(v)))
        .collect()
}

/// Writes a `Value` as ProtoJSON (see the module docs); NaN and infinity are errors, since
/// JSON cannot hold them.
pub(crate) struct ValueJson<'a>(pub(crate) &'a Value);

impl Serialize for ValueJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0.kind {
            None | Some(Kind::NullValue(_)) => serializer.serialize_unit(),
            Some(Kind::BoolValue(b)) => serializer.serialize_bool(*b),
            Some(Kind::NumberValue(n)) => match number_to_json(*n) {
                Some(number) => number.serialize(serializer),
                None => Err(serde::ser::Error::custom(format_args!(
                    "a google.protobuf.Value number must be finite, got {n}"
                ))),
            },
            Some(Kind::StringValue(s)) => serializer.serialize_str(s),
            Some(Kind::ListValue(list)) => {
                let mut seq = serializer.serialize_seq(Some(list.values.len()))?;
                for value in &list.values {
                    seq.serialize_element(&ValueJson(value))?;
                }
                seq.end()
            }
            Some(Kind::StructValue(s)) => StructJson(s).serialize(serializer),
        }
    }
}

/// Writes a `Struct` as a JSON object of [`ValueJson`]s.
pub(crate) struct StructJson<'a>(pub(crate) &'a Struct);

impl Serialize for StructJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Sorted keys: the output is the same on every run (and for JCS signing).
        let mut keys: Vec<&String> = self.0.fields.keys().collect();
        keys.sort();
        let mut map = serializer.serialize_map(Some(keys.len()))?;
        for key in keys {
            map.serialize_entry(key, &ValueJson(&self.0.fields[key]))?;
        }
        map.end()
    }
}

/// Reads a `Struct` from a JSON object, nulls included (see the module docs).
pub(crate) struct StructIn(pub(crate) Struct);

impl<'de> Deserialize<'de> for StructIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        Ok(StructIn(json_to_struct(map)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_json_kind() {
        let json = serde_json::json!({
            "n": null, "b": true, "x": 1.5, "i": -3, "s": "t",
            "l": [null, 1, "a", [], {}], "o": {"deep": {"er": null}}
        });
        let value = json_to_value(json.clone());
        assert_eq!(value_to_json(&value), json);
        assert_eq!(serde_json::to_value(ValueJson(&value)).ok(), Some(json));
    }

    #[test]
    fn whole_numbers_are_written_as_integers_up_to_two_to_the_53() {
        let write = |n: f64| serde_json::to_string(&ValueJson(&Value::from(n))).ok();
        assert_eq!(write(42.0).as_deref(), Some("42"));
        assert_eq!(write(-0.0).as_deref(), Some("0"));
        assert_eq!(write(1.5).as_deref(), Some("1.5"));
        assert_eq!(
            write(9_007_199_254_740_992.0).as_deref(),
            Some("9007199254740992")
        );
        assert_eq!(write(1e300).as_deref(), Some("1e+300"));
        assert_eq!(write(f64::NAN), None);
        // pbjson-types itself writes `42.0`, which is why ValueJson exists.
        assert_eq!(
            serde_json::to_string(&Value::from(42.0)).ok().as_deref(),
            Some("42.0")
        );
    }

    #[test]
    fn nulls_become_null_value_not_an_empty_value() {
        let value = json_to_value(serde_json::json!([null]));
        let Some(Kind::ListValue(list)) = value.kind else {
            panic!("expected a list");
        };
        assert_eq!(list.values[0].kind, Some(Kind::NullValue(0)));
    }
}
