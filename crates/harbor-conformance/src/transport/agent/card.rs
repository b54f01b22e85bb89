//! The agent's public and extended cards.

use harbor_a2a::{AgentCapabilities, AgentCard, AgentInterface, AgentSkill};
use harbor_distributed::transport::A2A_VERSION;

/// The binding the card names: the agent is reached in process, through whatever transport
/// hosts it.
const IN_PROCESS_BINDING: &str = "urn:harbor:binding:in-process";

/// The public card of the agent called `name`.
pub(super) fn public(name: &str) -> AgentCard {
    AgentCard {
        name: name.to_owned(),
        description: "Harbor's conformance agent: behaviour keyed by messageId prefix".to_owned(),
        supported_interfaces: vec![AgentInterface {
            url: format!("urn:harbor:conformance-agent:{name}"),
            protocol_binding: IN_PROCESS_BINDING.to_owned(),
            tenant: String::new(),
            protocol_version: A2A_VERSION.to_owned(),
        }],
        version: env!("CARGO_PKG_VERSION").to_owned(),
        capabilities: Some(AgentCapabilities {
            streaming: Some(true),
            push_notifications: Some(true),
            extensions: Vec::new(),
            extended_agent_card: Some(true),
        }),
        default_input_modes: vec!["text/plain".to_owned()],
        default_output_modes: vec!["text/plain".to_owned(), "application/json".to_owned()],
        skills: vec![skill("conformance", "Conformance behaviours")],
        ..AgentCard::default()
    }
}

/// The extended card: the public one plus a skill only authenticated callers see.
pub(super) fn extended(name: &str) -> AgentCard {
    let mut card = public(name);
    card.skills
        .push(skill(EXTENDED_SKILL, "Extended-card skill"));
    card
}

/// The id of the skill only the extended card lists.
pub const EXTENDED_SKILL: &str = "conformance-extended";

fn skill(id: &str, name: &str) -> AgentSkill {
    AgentSkill {
        id: id.to_owned(),
        name: name.to_owned(),
        description: format!("{name} of the conformance agent"),
        tags: vec!["conformance".to_owned()],
        ..AgentSkill::default()
    }
}
