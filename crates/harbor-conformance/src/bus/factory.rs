//! What a driver gives the suite: fresh buses.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use harbor_distributed::MessageBus;

/// Opens a fresh bus for one case. Closures `Fn() -> impl Future<Output = Arc<dyn
/// MessageBus>>` are factories; a factory that cannot open its bus should panic with the
/// reason.
pub trait BusFactory: Send + Sync {
    /// A new bus, shared with no other case.
    fn open(&self) -> BoxFuture<'_, Arc<dyn MessageBus>>;
}

impl<F, Fut> BusFactory for F
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Arc<dyn MessageBus>> + Send + 'static,
{
    fn open(&self) -> BoxFuture<'_, Arc<dyn MessageBus>> {
        Box::pin(self())
    }
}

/// Runs one case on a fresh multi-threaded tokio runtime with two workers (the shape of the
/// project's machines), as [`bus_suite!`](crate::bus_suite) does for every case.
///
/// # Panics
///
/// When the runtime cannot be built, or when the case fails.
pub fn run<F: Future<Output = ()>>(case: F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(case),
        Err(error) => panic!("cannot build a tokio runtime for the bus suite: {error}"),
    }
}
