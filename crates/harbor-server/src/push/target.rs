//! Which webhook URLs may be called: by default only public addresses, so a push config
//! cannot make the server reach into its own network (SSRF).

use std::net::IpAddr;

/// Which addresses webhooks may target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetPolicy {
    /// Public unicast addresses only (the default).
    PublicOnly,
    /// Also loopback, private and link-local addresses: for local development and
    /// conformance runs, whose webhook listens on localhost.
    AllowPrivate,
}

/// Checks a webhook URL against the policy, resolving its host; returns the parsed URL.
/// (Delivery does not resolve twice: its client screens the addresses it connects to.)
pub async fn check_target(url: &str, policy: TargetPolicy) -> Result<reqwest::Url, String> {
    let parsed = check_url(url, policy)?;
    if policy == TargetPolicy::AllowPrivate {
        return Ok(parsed);
    }
    let host = parsed.host_str().ok_or("webhook URL has no host")?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("cannot resolve webhook host: {e}"))?;
    for address in addresses {
        if !allowed(address.ip(), policy) {
            return Err(format!(
                "webhook host resolves to a non-public address ({})",
                address.ip()
            ));
        }
    }
    Ok(parsed)
}

/// Checks what a webhook URL says without resolving it: http(s), a host, no credentials,
/// and an address the policy allows when the host is an IP address (those never reach a
/// resolver). Returns the parsed URL.
pub fn check_url(url: &str, policy: TargetPolicy) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("invalid webhook URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "webhook scheme {:?} is not http or https",
            parsed.scheme()
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("webhook URLs must not carry credentials; use authentication".into());
    }
    let ip = match parsed.host() {
        None => return Err("webhook URL has no host".into()),
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(url::Host::Domain(_)) => None,
    };
    if let Some(ip) = ip.filter(|ip| !allowed(*ip, policy)) {
        return Err(format!("webhook address {ip} is not public"));
    }
    Ok(parsed)
}

/// Whether the policy lets a webhook reach `ip`.
pub fn allowed(ip: IpAddr, policy: TargetPolicy) -> bool {
    policy == TargetPolicy::AllowPrivate || is_public(ip)
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn private_targets_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/hook",
            "http://10.1.2.3/x",
            "http://[::1]:80/",
            "http://169.254.169.254/latest",
            "http://192.168.0.1/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(
                check_target(url, TargetPolicy::PublicOnly).await.is_err(),
                "{url} accepted"
            );
            assert!(
                check_target(url, TargetPolicy::AllowPrivate).await.is_ok(),
                "{url} refused when allowed"
            );
        }
        assert!(
            check_target("ftp://example.com/", TargetPolicy::AllowPrivate)
                .await
                .is_err()
        );
        assert!(
            check_target("http://user:pw@8.8.8.8/", TargetPolicy::AllowPrivate)
                .await
                .is_err()
        );
        assert!(
            check_target("http://8.8.8.8/hook", TargetPolicy::PublicOnly)
                .await
                .is_ok()
        );
    }
}
