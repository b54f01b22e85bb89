//! Agent cards for scripted servers, and reading the typed errors of the client.

use harbor_a2a::AgentInterface;
use harbor_client::{A2aTransport, ClientConfig, ClientError};
use harbor_distributed::Error;

pub const CARD_PATH: &str = "/.well-known/agent-card.json";

pub fn interface(binding: &str, url: String, version: &str, tenant: &str) -> AgentInterface {
    AgentInterface {
        url,
        protocol_binding: binding.into(),
        tenant: tenant.into(),
        protocol_version: version.into(),
    }
}

pub fn plain(config: impl FnOnce(&mut ClientConfig)) -> A2aTransport {
    let mut c = ClientConfig::default();
    config(&mut c);
    A2aTransport::builder()
        .config(c)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The typed client error behind a `Backend` error.
pub fn client_error(error: &Error) -> &ClientError {
    match error {
        Error::Backend { source, .. } => source
            .downcast_ref::<ClientError>()
            .unwrap_or_else(|| panic!("not a ClientError: {source}")),
        other => panic!("expected a Backend error, got {other:?}"),
    }
}
