//! Running blocking engine work (redb calls, fsyncs) off the runtime's worker threads.

use harbor_distributed::Error;

use crate::errors::failure;

/// Runs blocking engine work (redb calls, fsyncs) on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work).await.map_err(failure)?
}
