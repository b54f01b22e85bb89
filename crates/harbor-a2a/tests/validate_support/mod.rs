//! The shared helper of the validation tests.

use harbor_a2a::{ErrorKind, Validate, from_json_value};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parses `input` as `T` and returns the validation message, or `None` when it is valid.
pub(crate) fn problem<T: DeserializeOwned + Validate>(input: Value) -> Option<String> {
    let value: T = from_json_value(input.clone()).unwrap_or_else(|e| panic!("{input}: {e}"));
    match value.validate() {
        Ok(()) => None,
        Err(err) => {
            assert_eq!(err.kind(), ErrorKind::InvalidParams, "{err}");
            let field = err.metadata().get("field").cloned().unwrap_or_default();
            assert!(err.message().starts_with(&field), "{err} names {field}");
            Some(err.message().to_owned())
        }
    }
}
