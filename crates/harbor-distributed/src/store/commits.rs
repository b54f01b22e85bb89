//! The durable commits of a task store, through the [`metrics`] facade (no-ops until a
//! recorder is installed): how many writes each commit carried and how long it took, the
//! engine's flush to disk included. Every durable store records them the same way, so the
//! series mean the same whichever `--store` a server runs on.
//!
//! | metric | kind | meaning |
//! |---|---|---|
//! | `harbor_store_commit_batch_size` | histogram | writes one commit carried (the embedded store groups concurrent writes; a PostgreSQL append is one statement, so 1) |
//! | `harbor_store_commit_duration_seconds` | histogram | time of one durable commit, its fsync (or the server's WAL flush) included |

use std::time::Duration;

use metrics::{Unit, describe_histogram, histogram};

/// Writes per durable commit (histogram).
pub const COMMIT_BATCH_SIZE: &str = "harbor_store_commit_batch_size";
/// Time of each durable commit, its fsync included (histogram, seconds).
pub const COMMIT_DURATION: &str = "harbor_store_commit_duration_seconds";

/// Records one durable commit of `writes` writes that took `elapsed`.
pub fn record(writes: usize, elapsed: Duration) {
    histogram!(COMMIT_BATCH_SIZE).record(writes as f64);
    histogram!(COMMIT_DURATION).record(elapsed.as_secs_f64());
}

/// Registers the help text of the commit series with the installed recorder.
pub fn describe_metrics() {
    describe_histogram!(
        COMMIT_BATCH_SIZE,
        "Writes one durable store commit carried."
    );
    describe_histogram!(
        COMMIT_DURATION,
        Unit::Seconds,
        "Time of one durable store commit, its fsync included."
    );
}
