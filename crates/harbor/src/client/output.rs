//! Writing results to stdout: human text, a JSON document, or one JSON line per event.
//!
//! Every write is flushed, so a stream's events show (or reach a pipe) as they arrive; a
//! write error (a closed pipe) becomes a local failure instead of a panic.

use std::io::Write;

use serde::Serialize;

use super::exit::{Failure, Outcome};

/// Prints human-readable text followed by a newline.
pub(crate) fn text(text: &str) -> Outcome {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Prints a protocol message as one pretty-printed JSON document.
pub(crate) fn document<T: Serialize>(message: &T) -> Outcome {
    let value = harbor_a2a::to_json(message).map_err(json_failure)?;
    let pretty = serde_json::to_string_pretty(&value)
        .map_err(|e| Failure::Local(format!("cannot write JSON: {e}")))?;
    text(&pretty)
}

/// Prints a protocol message as one compact JSON line.
pub(crate) fn line<T: Serialize>(message: &T) -> Outcome {
    let compact = harbor_a2a::to_json_string(message).map_err(json_failure)?;
    text(&compact)
}

fn json_failure(error: harbor_a2a::A2aError) -> Failure {
    Failure::Local(format!("cannot write JSON: {}", error.message()))
}
