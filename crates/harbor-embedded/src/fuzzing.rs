//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): the decoders of what
//! the engine reads back from its file, which are private otherwise. Not a stable API.

use harbor_a2a::Task;
use harbor_distributed::{Envelope, Error};

/// Decodes a stored bus record (version, timestamp, envelope frame, checksum).
///
/// # Errors
/// Why the record does not decode.
pub fn decode_bus_record(record: &[u8]) -> Result<Envelope, crate::bus::record::RecordError> {
    crate::bus::record::decode(record)
}

/// Encodes `envelope` as a bus record stored at `stored_at_ms`.
pub fn encode_bus_record(envelope: &Envelope, stored_at_ms: u64) -> Vec<u8> {
    crate::bus::record::encode(envelope, stored_at_ms)
}

/// Decodes the task body of a task-store row, as a read of task `id` does.
///
/// # Errors
/// [`Error::Unreadable`] when the body does not decode.
pub fn decode_task_row(id: &str, body: &[u8]) -> Result<Task, Error> {
    crate::store::decode_task_row(id, body)
}
