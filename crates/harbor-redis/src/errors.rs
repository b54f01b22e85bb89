//! Mapping redis-rs errors onto the bus error, and retrying what may be retried.

use std::future::Future;
use std::time::Duration;

use harbor_distributed::Error;
use redis::RedisError;

/// The bus error for an engine error: lost connections, timeouts, a server still loading
/// its data and the like are retryable.
pub(crate) fn backend(error: RedisError) -> Error {
    let retryable = error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || !matches!(error.retry_method(), redis::RetryMethod::NoRetry);
    Error::Backend {
        driver: "redis",
        retryable,
        source: Box::new(error),
    }
}

/// Runs `op` until it succeeds, fails for good, or `budget` has passed; the second value
/// tells whether any earlier try failed retryably (its effect may have happened).
pub(crate) async fn with_retry<T, F, Fut>(budget: Duration, mut op: F) -> (Result<T, Error>, bool)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RedisError>>,
{
    let deadline = tokio::time::Instant::now() + budget;
    let mut pause = Duration::from_millis(20);
    let mut retried = false;
    loop {
        match op().await {
            Ok(value) => return (Ok(value), retried),
            Err(error) => {
                let error = backend(error);
                if !error.is_retryable() || tokio::time::Instant::now() + pause > deadline {
                    return (Err(error), retried);
                }
                tracing::debug!(%error, "redis command failed, retrying");
                retried = true;
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(500));
            }
        }
    }
}
