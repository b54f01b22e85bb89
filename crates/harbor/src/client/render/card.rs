//! An agent card in human form.

use harbor_a2a::AgentCard;
use harbor_client::Endpoint;

use super::field;

/// The card's identity, interfaces (the one calls go to marked), capabilities, modes,
/// security schemes (names and kinds only) and skills.
pub(crate) fn card(card: &AgentCard, chosen: Option<&Endpoint>) -> String {
    let mut out = Vec::new();
    field(&mut out, "name", &card.name);
    field(&mut out, "version", &card.version);
    field(&mut out, "about", &card.description);
    if let Some(provider) = &card.provider {
        field(
            &mut out,
            "provider",
            &format!("{} <{}>", provider.organization, provider.url),
        );
    }
    if let Some(docs) = &card.documentation_url {
        field(&mut out, "docs", docs);
    }
    let interfaces: Vec<String> = card
        .supported_interfaces
        .iter()
        .map(|i| {
            let mut line = format!("{} {}  {}", i.protocol_binding, i.protocol_version, i.url);
            if !i.tenant.is_empty() {
                line.push_str(&format!("  tenant {}", i.tenant));
            }
            let is_chosen = chosen.is_some_and(|e| {
                e.url.as_str().trim_end_matches('/') == i.url.trim_end_matches('/')
                    && e.binding.as_str().eq_ignore_ascii_case(&i.protocol_binding)
            });
            if is_chosen {
                line.push_str("  (calls go here)");
            }
            line
        })
        .collect();
    field(&mut out, "interface", &interfaces.join("\n"));
    field(&mut out, "supports", &capabilities(card));
    if let Some(caps) = &card.capabilities {
        for extension in &caps.extensions {
            let required = if extension.required {
                " (required)"
            } else {
                ""
            };
            field(
                &mut out,
                "extension",
                &format!("{}{required}", extension.uri),
            );
        }
    }
    field(&mut out, "input", &card.default_input_modes.join(", "));
    field(&mut out, "output", &card.default_output_modes.join(", "));
    if !card.security_schemes.is_empty() {
        let names: Vec<&str> = card.security_schemes.keys().map(String::as_str).collect();
        field(&mut out, "security", &names.join(", "));
    }
    for skill in &card.skills {
        let mut text = format!("{}: {}", skill.id, skill.name);
        if !skill.description.is_empty() {
            text.push('\n');
            text.push_str(&skill.description);
        }
        field(&mut out, "skill", &text);
    }
    if !card.signatures.is_empty() {
        field(
            &mut out,
            "signed",
            &format!("{} signature(s), not verified", card.signatures.len()),
        );
    }
    out.join("\n")
}

fn capabilities(card: &AgentCard) -> String {
    let Some(caps) = &card.capabilities else {
        return "(no capabilities declared)".to_owned();
    };
    let flags = [
        ("streaming", caps.streaming),
        ("push notifications", caps.push_notifications),
        ("extended card", caps.extended_agent_card),
    ];
    let on: Vec<&str> = flags
        .iter()
        .filter(|(_, v)| *v == Some(true))
        .map(|(name, _)| *name)
        .collect();
    if on.is_empty() {
        "(no optional capabilities)".to_owned()
    } else {
        on.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use harbor_a2a::{AgentCapabilities, AgentInterface};

    use super::*;

    #[test]
    fn the_card_names_its_interfaces_and_capabilities() {
        let card_value = AgentCard {
            name: "Echo".into(),
            version: "1".into(),
            supported_interfaces: vec![AgentInterface {
                url: "http://127.0.0.1:1/rpc".into(),
                protocol_binding: "JSONRPC".into(),
                protocol_version: "1.0".into(),
                ..AgentInterface::default()
            }],
            capabilities: Some(AgentCapabilities {
                streaming: Some(true),
                push_notifications: Some(false),
                ..AgentCapabilities::default()
            }),
            ..AgentCard::default()
        };
        let shown = card(&card_value, None);
        assert!(shown.contains("name       Echo"), "{shown}");
        assert!(
            shown.contains("JSONRPC 1.0  http://127.0.0.1:1/rpc"),
            "{shown}"
        );
        assert!(shown.contains("supports   streaming\n"), "{shown}");
    }
}
