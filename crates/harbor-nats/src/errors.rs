//! Engine errors as `harbor_distributed::Error`.

use async_nats::RequestErrorKind;
use async_nats::client::RequestError;
use harbor_distributed::Error;

/// The driver name errors carry.
pub(crate) const DRIVER: &str = "nats";

/// A backend error; `retryable` when trying again can help (a lost connection, a timeout).
pub(crate) fn backend(
    retryable: bool,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> Error {
    Error::Backend {
        driver: DRIVER,
        retryable,
        source: source.into(),
    }
}

/// A request (publish or API call) that got no answer. The envelope may or may not be
/// stored when an answer was lost, so a timeout or a broken connection is retryable: the
/// retry carries the same `Nats-Msg-Id` and the server drops the copy. No responders means
/// JetStream is not (yet) serving the subject, as while a server restarts.
pub(crate) fn request(error: RequestError) -> Error {
    let retryable = matches!(
        error.kind(),
        RequestErrorKind::TimedOut | RequestErrorKind::NoResponders | RequestErrorKind::Other
    );
    backend(retryable, error)
}

/// An error JetStream answered with: retryable only when it says "try later" (503).
pub(crate) fn jetstream(error: async_nats::jetstream::Error) -> Error {
    backend(error.code() == 503, error)
}

/// A failed JetStream management call through `async_nats`' own API types, whose error
/// kinds are many: retryable unless JetStream itself answered with a refusal.
pub(crate) fn api(error: impl std::error::Error + Send + Sync + 'static) -> Error {
    let text = error.to_string();
    let refused = text.contains("(code ") && !text.contains("(code 503");
    backend(!refused, error)
}
