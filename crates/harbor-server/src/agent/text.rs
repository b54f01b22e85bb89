//! Small text helpers the conformance agent's behaviours share: the text of a message, and
//! an agent message with one text part. A leaf: it imports nothing from the agent module.

use harbor_a2a::Part;

use crate::executor::{EventSink, text_part};

/// The text of a message's text parts, joined by spaces.
pub(crate) fn message_text(parts: &[Part]) -> String {
    parts
        .iter()
        .filter_map(|p| match &p.content {
            Some(harbor_a2a::part::Content::Text(t)) => Some(t.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An agent message with one text part.
pub(crate) fn say(events: &EventSink, text: &str) -> harbor_a2a::Message {
    events.agent_message(vec![text_part(text)])
}
