//! `google.protobuf.Timestamp` in ProtoJSON: RFC 3339 in UTC with a `Z` suffix.
//!
//! pbjson-types writes `+00:00` instead of `Z`, which the A2A conformance kit rejects
//! (DM-SERIAL-003), so the messages that hold a timestamp format it here.

use chrono::{DateTime, SecondsFormat, Utc};
use pbjson_types::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::A2aError;

/// `0001-01-01T00:00:00Z`, the earliest instant ProtoJSON can write.
const MIN_SECONDS: i64 = -62_135_596_800;
/// `9999-12-31T23:59:59Z`, the latest whole second ProtoJSON can write.
const MAX_SECONDS: i64 = 253_402_300_799;

/// Formats a timestamp as ProtoJSON does: UTC, `Z` suffix, and 0, 3, 6 or 9 fractional digits.
///
/// ```
/// use harbor_a2a::json::format_timestamp;
/// use harbor_a2a::pbjson_types::Timestamp;
///
/// let ts = Timestamp { seconds: 1_735_689_600, nanos: 120_000_000 };
/// assert_eq!(format_timestamp(&ts)?, "2025-01-01T00:00:00.120Z");
/// # Ok::<(), harbor_a2a::A2aError>(())
/// ```
///
/// # Errors
/// An `InvalidParams` error when the value is outside years 1..=9999 or `nanos` is outside
/// `0..1_000_000_000`.
pub fn format_timestamp(ts: &Timestamp) -> Result<String, A2aError> {
    check_timestamp(ts)?;
    let nanos = u32::try_from(ts.nanos).unwrap_or_default();
    let time = DateTime::<Utc>::from_timestamp(ts.seconds, nanos)
        .ok_or_else(|| A2aError::invalid_params("timestamp out of range"))?;
    Ok(time.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// Parses an RFC 3339 timestamp; an offset other than `Z` is accepted and converted to UTC.
///
/// # Errors
/// An `InvalidParams` error when the text is not RFC 3339 or is out of ProtoJSON's range.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, A2aError> {
    let time = DateTime::parse_from_rfc3339(text)
        .map_err(|e| A2aError::invalid_params(format!("invalid timestamp {text:?}: {e}")))?;
    let utc = time.with_timezone(&Utc);
    let ts = Timestamp {
        seconds: utc.timestamp(),
        nanos: i32::try_from(utc.timestamp_subsec_nanos()).unwrap_or_default(),
    };
    check_timestamp(&ts)?;
    Ok(ts)
}

/// Checks that a timestamp is within the range ProtoJSON can represent.
///
/// # Errors
/// An `InvalidParams` error naming the problem.
pub fn check_timestamp(ts: &Timestamp) -> Result<(), A2aError> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return Err(A2aError::invalid_params(format!(
            "timestamp nanos {} is outside 0..1000000000",
            ts.nanos
        )));
    }
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&ts.seconds) {
        return Err(A2aError::invalid_params(format!(
            "timestamp seconds {} is outside years 1..=9999",
            ts.seconds
        )));
    }
    Ok(())
}

/// Serializes a timestamp through [`format_timestamp`].
pub(crate) struct TimestampJson<'a>(pub(crate) &'a Timestamp);

impl Serialize for TimestampJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = format_timestamp(self.0).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }
}

/// Deserializes a timestamp through [`parse_timestamp`].
pub(crate) struct TimestampIn(pub(crate) Timestamp);

impl<'de> Deserialize<'de> for TimestampIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_timestamp(&text)
            .map(TimestampIn)
            .map_err(|e| serde::de::Error::custom(e.message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(seconds: i64, nanos: i32) -> Timestamp {
        Timestamp { seconds, nanos }
    }

    #[test]
    fn formats_utc_with_z_and_si_fractions() {
        let cases = [
            (ts(0, 0), "1970-01-01T00:00:00Z"),
            (ts(1_735_689_600, 0), "2025-01-01T00:00:00Z"),
            (ts(1_735_689_600, 5_000_000), "2025-01-01T00:00:00.005Z"),
            (ts(1_735_689_600, 5_000), "2025-01-01T00:00:00.000005Z"),
            (ts(1_735_689_600, 1), "2025-01-01T00:00:00.000000001Z"),
            (ts(MIN_SECONDS, 0), "0001-01-01T00:00:00Z"),
            (
                ts(MAX_SECONDS, 999_999_999),
                "9999-12-31T23:59:59.999999999Z",
            ),
        ];
        for (value, text) in cases {
            assert_eq!(format_timestamp(&value).ok().as_deref(), Some(text));
            assert_eq!(parse_timestamp(text).ok(), Some(value));
        }
    }

    #[test]
    fn pbjson_types_writes_an_offset_which_is_why_this_module_exists() {
        let json = serde_json::to_string(&ts(0, 0)).unwrap_or_default();
        assert_eq!(json, "\"1970-01-01T00:00:00+00:00\"");
    }

    #[test]
    fn offsets_are_read_and_converted_to_utc() {
        assert_eq!(
            parse_timestamp("2025-01-01T02:00:00+02:00").ok(),
            Some(ts(1_735_689_600, 0))
        );
    }

    #[test]
    fn out_of_range_values_are_refused() {
        assert!(format_timestamp(&ts(MAX_SECONDS + 1, 0)).is_err());
        assert!(format_timestamp(&ts(MIN_SECONDS - 1, 0)).is_err());
        assert!(format_timestamp(&ts(0, -1)).is_err());
        assert!(format_timestamp(&ts(0, 1_000_000_000)).is_err());
        assert!(parse_timestamp("yesterday").is_err());
    }
}
