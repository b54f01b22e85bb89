//! Agent cards: what a peer's card resolves to (the interface the client calls, its
//! tenant, the card's signatures), and how cards are fetched.
//!
//! A peer's card is fetched from `{peer}/.well-known/agent-card.json` (the peer URL's path
//! is kept as a prefix), at most [`max_card_bytes`](crate::ClientConfig::max_card_bytes)
//! long. It is reused while fresh (`Cache-Control: max-age` less `Age`;
//! [`card_default_ttl`](crate::ClientConfig::card_default_ttl) without one; never past
//! [`card_max_ttl`](crate::ClientConfig::card_max_ttl)), then revalidated with
//! `If-None-Match`/`If-Modified-Since`, a `304` renewing it; `no-cache` revalidates on each
//! use and `no-store` keeps nothing. Callers that want a card while it is being fetched
//! wait for that one fetch.

pub(crate) mod cache;
mod jwks;
mod signature;
// Crate-visible so that the config names its signature settings where they are defined,
// not through this module (which imports the config).
pub(crate) mod verify;

use harbor_a2a::{AgentCard, AgentInterface};
use url::Url;

use crate::config::{Binding, ClientConfig};
use crate::error::ClientError;
use crate::url_policy;

pub use jwks::fetch_jwks;
pub use signature::{CardSignature, SignatureError};
pub use verify::{
    CardSignatureConfig, SignaturePolicy, TrustedKeys, Verified, VerifyError,
    apply as apply_signature_policy,
};

/// Where calls to a peer go: the interface chosen from its card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The binding.
    pub binding: Binding,
    /// The interface URL (checked like the peer's own).
    pub url: Url,
    /// The interface's tenant, sent in every request; empty for none.
    pub tenant: String,
    /// The interface's `protocolVersion` (a `1.x`).
    pub protocol_version: String,
}

/// A peer's public card as fetched, and what the client made of it.
#[derive(Debug, Clone)]
pub struct ResolvedCard {
    card: AgentCard,
    endpoint: Endpoint,
    signatures: Vec<Result<CardSignature, SignatureError>>,
}

impl ResolvedCard {
    /// Resolves `card`, fetched for the peer at `peer`.
    pub(crate) fn new(
        card: AgentCard,
        peer: &Url,
        config: &ClientConfig,
    ) -> Result<Self, ClientError> {
        let endpoint = choose_interface(&card, peer, config)?;
        let signatures = card.signatures.iter().map(CardSignature::parse).collect();
        Ok(Self {
            card,
            endpoint,
            signatures,
        })
    }

    /// The card.
    pub fn card(&self) -> &AgentCard {
        &self.card
    }

    /// The interface calls go to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The card's signatures, parsed but **not verified**; a malformed one is an error entry.
    pub fn signatures(&self) -> &[Result<CardSignature, SignatureError>] {
        &self.signatures
    }
}

/// Whether an interface's `protocolVersion` is a 1.x.
fn is_v1(version: &str) -> bool {
    let version = version.trim();
    version == "1" || version.starts_with("1.")
}

/// Picks the interface to call: walks `supportedInterfaces` in the card's order (or, with
/// `prefer_own_binding_order`, in the order of `config.bindings` first; the
/// `preferred_binding` before all others) and takes the first binding we speak at a 1.x
/// version whose URL passes the rules of [`url_policy`]. A gRPC interface's `host:port`
/// is called with the peer's scheme (TLS when the card came over HTTPS).
pub(crate) fn choose_interface(
    card: &AgentCard,
    peer: &Url,
    config: &ClientConfig,
) -> Result<Endpoint, ClientError> {
    let mut candidates: Vec<(bool, usize, usize, Binding, &AgentInterface)> = card
        .supported_interfaces
        .iter()
        .enumerate()
        .filter(|(_, i)| is_v1(&i.protocol_version))
        .filter_map(|(pos, i)| {
            let binding = Binding::from_card(&i.protocol_binding)?;
            let rank = config.bindings.iter().position(|b| *b == binding)?;
            let rank = if config.prefer_own_binding_order {
                rank
            } else {
                0
            };
            let preferred = config.preferred_binding == Some(binding);
            Some((!preferred, rank, pos, binding, i))
        })
        .collect();
    candidates.sort_by_key(|(other, rank, pos, _, _)| (*other, *rank, *pos));
    let mut refused = None;
    for (_, _, _, binding, interface) in candidates {
        let url = match binding {
            Binding::Grpc => url_policy::grpc_endpoint_url(&interface.url, peer),
            _ => interface.url.clone(),
        };
        match url_policy::endpoint_url(&url, peer, config.allow_insecure_http) {
            Ok(url) => {
                return Ok(Endpoint {
                    binding,
                    url,
                    tenant: interface.tenant.clone(),
                    protocol_version: interface.protocol_version.clone(),
                });
            }
            Err(e) => {
                tracing::debug!(error = %e, "interface skipped");
                refused.get_or_insert(e);
            }
        }
    }
    Err(refused.unwrap_or_else(|| ClientError::NoUsableInterface {
        offered: card
            .supported_interfaces
            .iter()
            .map(|i| format!("{} {}", i.protocol_binding, i.protocol_version))
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interface(binding: &str, url: &str, version: &str, tenant: &str) -> AgentInterface {
        AgentInterface {
            url: url.to_owned(),
            protocol_binding: binding.to_owned(),
            tenant: tenant.to_owned(),
            protocol_version: version.to_owned(),
        }
    }

    fn card(interfaces: Vec<AgentInterface>) -> AgentCard {
        AgentCard {
            supported_interfaces: interfaces,
            ..AgentCard::default()
        }
    }

    fn peer() -> Url {
        Url::parse("https://agent.example").expect("valid")
    }

    #[test]
    fn the_first_interface_we_speak_wins() {
        let card = card(vec![
            interface("SOAP", "https://agent.example/soap", "1.0", ""),
            interface("JSONRPC", "https://agent.example/old", "0.3", ""),
            interface("HTTP+JSON", "https://agent.example/rest", "1.0", "acme"),
            interface("JSONRPC", "https://agent.example/rpc", "1.1", ""),
            interface("GRPC", "agent.example:443", "1.0", ""),
        ]);
        let config = ClientConfig::default();
        let chosen = choose_interface(&card, &peer(), &config).expect("one we speak");
        assert_eq!(chosen.binding, Binding::HttpJson);
        assert_eq!(chosen.tenant, "acme");
        let own_order = ClientConfig {
            prefer_own_binding_order: true,
            ..ClientConfig::default()
        };
        let chosen = choose_interface(&card, &peer(), &own_order).expect("one we speak");
        assert_eq!(chosen.url.as_str(), "https://agent.example/rpc");
        let rest_only = ClientConfig {
            bindings: vec![Binding::JsonRpc],
            ..ClientConfig::default()
        };
        let chosen = choose_interface(&card, &peer(), &rest_only).expect("one we speak");
        assert_eq!(chosen.binding, Binding::JsonRpc);
    }

    #[test]
    fn the_preferred_binding_wins_when_offered() {
        let card = card(vec![
            interface("JSONRPC", "https://agent.example/rpc", "1.0", ""),
            interface("GRPC", "agent.example:443", "1.0", ""),
        ]);
        let config = ClientConfig {
            preferred_binding: Some(Binding::Grpc),
            ..ClientConfig::default()
        };
        let chosen = choose_interface(&card, &peer(), &config).expect("one we speak");
        assert_eq!(chosen.binding, Binding::Grpc);
        assert_eq!(chosen.url.as_str(), "https://agent.example/");
        let config = ClientConfig {
            preferred_binding: Some(Binding::HttpJson),
            ..ClientConfig::default()
        };
        let chosen = choose_interface(&card, &peer(), &config).expect("one we speak");
        assert_eq!(chosen.binding, Binding::JsonRpc);
    }

    #[test]
    fn nothing_we_speak_is_an_error_that_lists_the_offer() {
        let card = card(vec![interface("SOAP", "agent.example:443", "1.0", "")]);
        let error = choose_interface(&card, &peer(), &ClientConfig::default());
        assert!(
            matches!(&error, Err(ClientError::NoUsableInterface { offered }) if offered == &["SOAP 1.0"]),
            "{error:?}"
        );
    }

    #[test]
    fn a_refused_url_falls_through_to_the_next() {
        let card = card(vec![
            interface("JSONRPC", "http://agent.example/rpc", "1.0", ""),
            interface("HTTP+JSON", "https://agent.example/rest", "1.0", ""),
        ]);
        let chosen = choose_interface(&card, &peer(), &ClientConfig::default()).expect("ok");
        assert_eq!(chosen.binding, Binding::HttpJson);
        let only_insecure = super::tests::card(vec![card.supported_interfaces[0].clone()]);
        let error = choose_interface(&only_insecure, &peer(), &ClientConfig::default());
        assert!(
            matches!(error, Err(ClientError::InsecureUrl { .. })),
            "{error:?}"
        );
    }
}
