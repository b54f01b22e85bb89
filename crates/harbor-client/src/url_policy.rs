//! Which URLs the client calls: the peer's, and the endpoints its card names.
//!
//! A URL must be `https://`, or `http://` to a loopback host (`localhost`, `127.0.0.0/8`,
//! `::1`); `allow_insecure_http` lifts the HTTP restriction. URLs with credentials in them
//! are refused. An endpoint taken from a card passes the same rules, and in addition a card
//! of a peer that is not on loopback cannot point calls at loopback: a remote card cannot
//! turn the client against services on its own machine.

use std::net::IpAddr;

use url::{Host, Url};

use crate::error::ClientError;

/// The URL of a peer: `http(s)://…`, or the same behind the `a2a+` scheme prefix that
/// selects this driver in a registry.
pub(crate) fn peer_url(peer: &str, allow_insecure_http: bool) -> Result<Url, ClientError> {
    let plain = peer.strip_prefix("a2a+").unwrap_or(peer);
    let url = Url::parse(plain).map_err(|e| refused(peer, &format!("not a URL: {e}")))?;
    check(&url, allow_insecure_http)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refused(peer, "a peer URL has no query or fragment"));
    }
    Ok(url)
}

/// The well-known card URL of a peer: the peer's path is kept as a prefix.
pub(crate) fn card_url(peer: &Url) -> Url {
    let mut url = peer.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments
            .pop_if_empty()
            .extend([".well-known", "agent-card.json"]);
    }
    url
}

/// An endpoint named by the card of `peer`.
pub(crate) fn endpoint_url(
    endpoint: &str,
    peer: &Url,
    allow_insecure_http: bool,
) -> Result<Url, ClientError> {
    let url = Url::parse(endpoint).map_err(|e| refused(endpoint, &format!("not a URL: {e}")))?;
    check(&url, allow_insecure_http)?;
    if is_loopback(&url) && !is_loopback(peer) {
        return Err(refused(
            endpoint,
            "the card of a remote peer cannot point at this machine",
        ));
    }
    Ok(url)
}

/// A gRPC interface URL as an `http(s)://host:port` URL: `host:port` (the specification's
/// form) takes the peer's scheme; `grpc://` and `grpcs://` stand for `http://` and
/// `https://`. The result still has to pass [`endpoint_url`].
pub(crate) fn grpc_endpoint_url(endpoint: &str, peer: &Url) -> String {
    let endpoint = endpoint.trim();
    if let Some(rest) = endpoint.strip_prefix("grpcs://") {
        return format!("https://{rest}");
    }
    if let Some(rest) = endpoint.strip_prefix("grpc://") {
        return format!("http://{rest}");
    }
    if endpoint.contains("://") {
        return endpoint.to_owned();
    }
    let scheme = if peer.scheme() == "https" {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{endpoint}")
}

fn check(url: &Url, allow_insecure_http: bool) -> Result<(), ClientError> {
    let text = url.as_str();
    if url.host().is_none() {
        return Err(refused(text, "no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused(text, "credentials do not belong in a URL"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback(url) => Ok(()),
        "http" => Err(refused(
            text,
            "plain HTTP is allowed only to loopback unless allow_insecure_http is set",
        )),
        other => Err(refused(text, &format!("unsupported scheme {other:?}"))),
    }
}

/// Whether the URL's host is this machine.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

fn refused(url: &str, reason: &str) -> ClientError {
    ClientError::InsecureUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(peer: &str, insecure: bool) -> bool {
        peer_url(peer, insecure).is_ok()
    }

    #[test]
    fn peers_need_https_or_loopback() {
        assert!(ok("https://agent.example", false));
        assert!(ok("a2a+https://agent.example/a", false));
        assert!(ok("http://127.0.0.1:8080", false));
        assert!(ok("http://[::1]:8080", false));
        assert!(ok("http://localhost:8080/x", false));
        assert!(!ok("http://agent.example", false));
        assert!(ok("http://agent.example", true));
        assert!(!ok("ftp://agent.example", true));
        assert!(!ok("https://user:pw@agent.example", false));
        assert!(!ok("https://agent.example/?q=1", false));
        assert!(!ok("not a url", true));
    }

    #[test]
    fn grpc_endpoints_take_the_peer_scheme() {
        let https = Url::parse("https://agent.example").expect("valid");
        let local = Url::parse("http://127.0.0.1:9999").expect("valid");
        assert_eq!(
            grpc_endpoint_url("agent.example:443", &https),
            "https://agent.example:443"
        );
        assert_eq!(
            grpc_endpoint_url("127.0.0.1:9998", &local),
            "http://127.0.0.1:9998"
        );
        assert_eq!(
            grpc_endpoint_url("grpcs://a.example:1", &local),
            "https://a.example:1"
        );
        assert_eq!(
            grpc_endpoint_url("grpc://[::1]:1", &https),
            "http://[::1]:1"
        );
        let remote_to_local = grpc_endpoint_url("127.0.0.1:9998", &https);
        assert!(endpoint_url(&remote_to_local, &https, false).is_err());
    }

    #[test]
    fn the_card_path_keeps_the_prefix() {
        for (peer, card) in [
            (
                "https://a.example",
                "https://a.example/.well-known/agent-card.json",
            ),
            (
                "https://a.example/agents/one/",
                "https://a.example/agents/one/.well-known/agent-card.json",
            ),
        ] {
            let url = peer_url(peer, false).expect("valid");
            assert_eq!(card_url(&url).as_str(), card);
        }
    }

    #[test]
    fn remote_cards_cannot_point_home() {
        let remote = peer_url("https://a.example", false).expect("valid");
        let local = peer_url("http://127.0.0.1:1", false).expect("valid");
        assert!(endpoint_url("https://b.example/rpc", &remote, false).is_ok());
        assert!(endpoint_url("http://b.example/rpc", &remote, false).is_err());
        assert!(endpoint_url("https://localhost/rpc", &remote, true).is_err());
        assert!(endpoint_url("http://127.0.0.1:2/rpc", &remote, true).is_err());
        assert!(endpoint_url("http://127.0.0.1:2/rpc", &local, false).is_ok());
        assert!(endpoint_url("http://b.example/rpc", &local, false).is_err());
    }
}
