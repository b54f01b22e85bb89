//! What the embedded engine reads back from its file: bus records (version, timestamp,
//! frame, checksum) and task-store rows (a prost-encoded task). Any bytes decode or fail
//! cleanly; a record that decodes encodes back the same; and a task the stores accept
//! (`check_task`) always decodes back: a store never holds what it cannot read.

use harbor_distributed::store::check_task;
use harbor_embedded::fuzzing::{decode_bus_record, decode_task_row, encode_bus_record};
use prost::Message;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Ok(envelope) = decode_bus_record(data) {
            let record = encode_bus_record(&envelope, 7);
            let again = decode_bus_record(&record).expect("an encoded record decodes");
            assert_eq!(again, envelope);
        }
        if let Ok(task) = decode_task_row("t", data) {
            if check_task(&task).is_ok() {
                let body = task.encode_to_vec();
                let again = decode_task_row("t", &body).expect("an accepted task decodes back");
                // Not the bytes (a Struct is a hash map, encoded in no fixed order) nor the
                // values (a NaN number is not equal to itself): the size.
                assert_eq!(again.encoded_len(), body.len());
            }
        }
        // The same bytes as a task in JSON, which is how tasks reach a store from a binding.
        if let Ok(task) = harbor_a2a::from_json_slice::<harbor_a2a::Task>(data) {
            if check_task(&task).is_ok() {
                let body = task.encode_to_vec();
                decode_task_row("t", &body).expect("an accepted task decodes back");
            }
        }
    });
}
