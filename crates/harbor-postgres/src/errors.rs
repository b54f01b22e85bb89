//! Engine errors as [`harbor_distributed::Error`].

use harbor_distributed::Error;
use tokio_postgres::error::SqlState;

/// The driver name errors carry.
pub(crate) const DRIVER: &str = "postgres";

/// Maps a client error: a lost connection, a server shutting down or starting, a
/// serialization failure, a deadlock or a full server can be retried.
pub(crate) fn backend(error: tokio_postgres::Error) -> Error {
    let retryable = retryable(&error);
    Error::Backend {
        driver: DRIVER,
        retryable,
        source: Box::new(error),
    }
}

fn retryable(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.code() {
        Some(code) => {
            let c = code.code();
            c.starts_with("08")
                || c.starts_with("53")
                || c.starts_with("57P")
                || *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::LOCK_NOT_AVAILABLE
        }
        // No SQLSTATE: an I/O error, a timeout or a protocol failure on the connection.
        None => true,
    }
}

/// Maps a pool error; a timeout or an unreachable server can be retried.
pub(crate) fn pool(error: deadpool_postgres::PoolError) -> Error {
    use deadpool_postgres::PoolError;
    match error {
        PoolError::Backend(e) => backend(e),
        PoolError::Closed => Error::Closed,
        PoolError::Timeout(kind) => Error::Backend {
            driver: DRIVER,
            retryable: true,
            source: format!("no connection available: {kind:?} timed out").into(),
        },
        other => Error::Backend {
            driver: DRIVER,
            retryable: false,
            source: other.to_string().into(),
        },
    }
}

/// A retryable error for work whose batch task went away (the connection failed).
pub(crate) fn lost(what: &str) -> Error {
    Error::Backend {
        driver: DRIVER,
        retryable: true,
        source: format!("{what}: the batch was abandoned").into(),
    }
}
