//! Engine errors as `harbor_distributed::Error`: every failure of redb, of the file or of
//! a thread of this engine is a backend error of the `embedded` driver.

use harbor_distributed::Error;

/// A failure of this engine: a backend error, not retryable (the file or the process is
/// what failed, and trying again does not change that).
pub(crate) fn failure(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    Error::Backend {
        driver: "embedded",
        retryable: false,
        source: source.into(),
    }
}

/// Maps a redb failure to a backend error of this driver.
pub(crate) fn backend(error: impl Into<redb::Error>) -> Error {
    failure(error.into())
}
