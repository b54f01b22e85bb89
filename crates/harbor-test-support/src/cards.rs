//! Agent cards for tests: one JSON-RPC interface (or a placeholder a server replaces),
//! version `1`, text in and out, one skill `s`.

use harbor_a2a::{AgentCapabilities, AgentCard, AgentInterface, AgentSkill};

/// A JSON-RPC URL nothing listens on, for cards whose interfaces a test server replaces
/// or never serves.
pub const NOWHERE: &str = "http://127.0.0.1:1/a2a/jsonrpc";

/// An interface at `url` speaking `binding` (`JSONRPC`, `HTTP+JSON`, `GRPC`), A2A 1.0.
pub fn interface(url: impl Into<String>, binding: &str) -> AgentInterface {
    AgentInterface {
        url: url.into(),
        protocol_binding: binding.into(),
        protocol_version: "1.0".into(),
        ..AgentInterface::default()
    }
}

/// Streaming on.
pub fn streaming() -> AgentCapabilities {
    AgentCapabilities {
        streaming: Some(true),
        ..AgentCapabilities::default()
    }
}

/// Streaming and push notifications on.
pub fn streaming_push() -> AgentCapabilities {
    AgentCapabilities {
        push_notifications: Some(true),
        ..streaming()
    }
}

/// A valid card named `name`, described as `description`, with one JSON-RPC interface at
/// `jsonrpc_url` and `capabilities`.
pub fn card(
    name: &str,
    description: &str,
    jsonrpc_url: &str,
    capabilities: AgentCapabilities,
) -> AgentCard {
    AgentCard {
        name: name.into(),
        description: description.into(),
        version: "1".into(),
        supported_interfaces: vec![interface(jsonrpc_url, "JSONRPC")],
        capabilities: Some(capabilities),
        default_input_modes: vec!["text/plain".into()],
        default_output_modes: vec!["text/plain".into()],
        skills: vec![AgentSkill {
            id: "s".into(),
            name: "s".into(),
            description: "s".into(),
            tags: vec!["t".into()],
            ..AgentSkill::default()
        }],
        ..AgentCard::default()
    }
}

/// The JSON of a bare card (name, description `test`, version `1`, `interfaces`, nothing
/// else), as a scripted server serves it.
pub fn bare_json(name: &str, interfaces: Vec<AgentInterface>) -> String {
    let card = AgentCard {
        name: name.into(),
        description: "test".into(),
        supported_interfaces: interfaces,
        version: "1".into(),
        ..AgentCard::default()
    };
    harbor_a2a::to_json_string(&card).unwrap_or_else(|e| panic!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_is_valid() {
        use harbor_a2a::Validate;
        let card = card("t", "test", NOWHERE, streaming_push());
        card.validate().expect("a valid card");
    }
}
