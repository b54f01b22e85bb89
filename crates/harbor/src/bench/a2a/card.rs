//! Reading a target's agent card and choosing its JSON-RPC and HTTP+JSON interfaces.

use anyhow::Context as _;
use serde::Deserialize;

use super::args::BindingChoice;
use super::endpoint::Endpoint;

/// The well-known card path (A2A v1.0 §8.2).
const CARD_PATH: &str = "/.well-known/agent-card.json";

/// What the bench needs from one target's card.
#[derive(Debug, Clone)]
pub(super) struct Interfaces {
    /// The URL as given on the command line (the row label).
    pub(super) url: String,
    /// The agent's name on its card.
    pub(super) name: String,
    /// Whether the card declares `capabilities.streaming`.
    pub(super) streaming: bool,
    /// The chosen interfaces, JSON-RPC first.
    pub(super) endpoints: Vec<Endpoint>,
    /// Bindings asked for but not offered, and similar remarks for the report.
    pub(super) notes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Card {
    #[serde(default)]
    name: String,
    #[serde(default, alias = "supported_interfaces")]
    supported_interfaces: Vec<Interface>,
    #[serde(default)]
    capabilities: Option<Capabilities>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Interface {
    url: String,
    #[serde(alias = "protocol_binding")]
    protocol_binding: String,
    #[serde(default)]
    tenant: String,
    #[serde(default, alias = "protocol_version")]
    protocol_version: String,
}

#[derive(Debug, Deserialize)]
struct Capabilities {
    #[serde(default)]
    streaming: Option<bool>,
}

/// `BASE/.well-known/agent-card.json`, or `url` itself when it already names a JSON file.
pub(super) fn card_url(url: &str) -> String {
    if url.ends_with(".json") {
        url.to_owned()
    } else {
        format!("{}{CARD_PATH}", url.trim_end_matches('/'))
    }
}

/// Fetches the card of `url` and picks the interfaces `choice` asks for.
pub(super) async fn resolve(
    client: &reqwest::Client,
    url: &str,
    choice: BindingChoice,
) -> anyhow::Result<Interfaces> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        anyhow::bail!("--url {url:?} is not an http:// or https:// URL");
    }
    let card_url = card_url(url);
    let response = client
        .get(&card_url)
        .send()
        .await
        .with_context(|| format!("cannot fetch the agent card {card_url}"))?;
    let status = response.status();
    if !status.is_success() {
        anyhow::bail!("cannot fetch the agent card {card_url}: HTTP {status}");
    }
    let body = response
        .bytes()
        .await
        .with_context(|| format!("cannot read the agent card {card_url}"))?;
    let card: Card = serde_json::from_slice(&body)
        .with_context(|| format!("the agent card {card_url} is not a v1.0 card"))?;
    choose(url, card, choice)
}

fn choose(url: &str, card: Card, choice: BindingChoice) -> anyhow::Result<Interfaces> {
    let wanted: &[&str] = match choice {
        BindingChoice::Jsonrpc => &["JSONRPC"],
        BindingChoice::HttpJson => &["HTTP+JSON"],
        BindingChoice::Grpc => &["GRPC"],
        BindingChoice::All => &["JSONRPC", "HTTP+JSON", "GRPC"],
    };
    let mut endpoints = Vec::new();
    let mut notes = Vec::new();
    for binding in wanted {
        // The card lists interfaces in preference order; one binding may appear once per
        // protocol version, so take the first that speaks 1.x.
        let found = card.supported_interfaces.iter().find(|i| {
            i.protocol_binding.eq_ignore_ascii_case(binding)
                && (i.protocol_version == "1" || i.protocol_version.starts_with("1."))
        });
        match found {
            Some(i) if *binding == "JSONRPC" => endpoints.push(Endpoint::JsonRpc {
                url: i.url.clone(),
                tenant: i.tenant.clone(),
            }),
            Some(i) if *binding == "GRPC" => endpoints.push(Endpoint::Grpc {
                url: i.url.clone(),
                tenant: i.tenant.clone(),
            }),
            Some(i) => endpoints.push(Endpoint::HttpJson {
                url: i.url.trim_end_matches('/').to_owned(),
                tenant: i.tenant.clone(),
            }),
            None => notes.push(format!(
                "{url}: the card offers no v1.0 {binding} interface"
            )),
        }
    }
    if endpoints.is_empty() {
        anyhow::bail!(
            "{url}: the agent card offers none of the bindings asked for ({})",
            wanted.join(", ")
        );
    }
    let streaming = card.capabilities.and_then(|c| c.streaming).unwrap_or(false);
    Ok(Interfaces {
        url: url.to_owned(),
        name: card.name,
        streaming,
        endpoints,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(json: serde_json::Value) -> Card {
        serde_json::from_value(json).expect("card")
    }

    #[test]
    fn card_url_appends_the_well_known_path() {
        assert_eq!(
            card_url("http://127.0.0.1:1/"),
            "http://127.0.0.1:1/.well-known/agent-card.json"
        );
        assert_eq!(card_url("http://h/x/card.json"), "http://h/x/card.json");
    }

    #[test]
    fn chooses_the_first_v1_interface_of_each_binding() {
        let c = card(serde_json::json!({
            "name": "a",
            "supportedInterfaces": [
                {"url": "http://h/v03", "protocolBinding": "JSONRPC", "protocolVersion": "0.3"},
                {"url": "http://h/rpc", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
                {"url": "http://h/rest/", "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0", "tenant": "t"},
                {"url": "h:10000", "protocolBinding": "GRPC", "protocolVersion": "1.0"}
            ],
            "capabilities": {"streaming": true}
        }));
        let chosen = choose("http://h", c, BindingChoice::All).expect("interfaces");
        assert!(chosen.streaming);
        assert_eq!(chosen.endpoints.len(), 3);
        assert!(matches!(&chosen.endpoints[2], Endpoint::Grpc { url, .. } if url == "h:10000"));
        assert!(
            matches!(&chosen.endpoints[0], Endpoint::JsonRpc { url, .. } if url == "http://h/rpc")
        );
        assert!(
            matches!(&chosen.endpoints[1], Endpoint::HttpJson { url, tenant } if url == "http://h/rest" && tenant == "t")
        );
    }

    #[test]
    fn a_missing_binding_is_a_note_and_no_binding_an_error() {
        let only_rpc = serde_json::json!({"supportedInterfaces": [
            {"url": "http://h/rpc", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
        ]});
        let chosen = choose("http://h", card(only_rpc.clone()), BindingChoice::All).expect("one");
        assert_eq!(chosen.endpoints.len(), 1);
        assert_eq!(
            chosen.notes.len(),
            2,
            "no HTTP+JSON, no gRPC: {:?}",
            chosen.notes
        );
        assert!(!chosen.streaming);
        let error =
            choose("http://h", card(only_rpc), BindingChoice::HttpJson).expect_err("no HTTP+JSON");
        assert!(error.to_string().contains("HTTP+JSON"), "{error}");
    }
}
