//! Which webhook URLs may be called: by default only public addresses, so a push config
//! cannot make the server reach into its own network (SSRF).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

/// Whether `ip` is a public unicast address. IPv6 forms that carry an IPv4 address
/// (IPv4-mapped and -compatible, NAT64, 6to4, Teredo, ISATAP) are judged by the IPv4
/// addresses inside them, so none of them reaches a private network by translation.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    !(v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || o[0] == 0
        // 100.64.0.0/10: carrier-grade NAT.
        || (o[0] == 100 && (64..128).contains(&o[1]))
        // 192.0.0.0/24: IETF protocol assignments.
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        // 198.18.0.0/15: benchmarking.
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        // 240.0.0.0/4: reserved.
        || o[0] >= 240)
}

fn v4_at(segments: &[u16; 8], high: usize) -> Ipv4Addr {
    let [a, b] = segments[high].to_be_bytes();
    let [c, d] = segments[high + 1].to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

fn is_public_v6(v6: Ipv6Addr) -> bool {
    let s = v6.segments();
    if v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() {
        return false;
    }
    // IPv4-mapped ::ffff:a.b.c.d and IPv4-translated ::ffff:0:a.b.c.d.
    if (s[..5] == [0; 5] && s[5] == 0xffff) || (s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0) {
        return is_public_v4(v4_at(&s, 6));
    }
    // IPv4-compatible ::a.b.c.d (deprecated), and anything else in ::/96.
    if s[..6] == [0; 6] {
        return is_public_v4(v4_at(&s, 6));
    }
    // NAT64: the well-known prefix 64:ff9b::/96 embeds the target; the local-use prefix
    // 64:ff9b:1::/48 leads into a private network whatever it embeds.
    if s[0] == 0x64 && s[1] == 0xff9b {
        return s[2..6] == [0; 4] && is_public_v4(v4_at(&s, 6));
    }
    // 6to4 2002::/16: the relay's IPv4 address is in bits 16-48.
    if s[0] == 0x2002 {
        return is_public_v4(v4_at(&s, 1));
    }
    // Teredo 2001:0::/32: the server's IPv4 address, then the client's (inverted).
    if s[0] == 0x2001 && s[1] == 0 {
        let client = Ipv4Addr::from(!u32::from(v4_at(&s, 6)));
        return is_public_v4(v4_at(&s, 2)) && is_public_v4(client);
    }
    // ISATAP interface identifiers (::0:5efe:a.b.c.d, ::200:5efe:a.b.c.d).
    if (s[4] | 0x0200) == 0x0200 && s[5] == 0x5efe {
        return is_public_v4(v4_at(&s, 6));
    }
    !(
        // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local (deprecated).
        (s[0] & 0xfe00) == 0xfc00
            || (s[0] & 0xffc0) == 0xfe80
            || (s[0] & 0xffc0) == 0xfec0
            // 2001:db8::/32 documentation, 3fff::/20 documentation.
            || (s[0] == 0x2001 && s[1] == 0x0db8)
            || (s[0] == 0x3fff && (s[1] & 0xf000) == 0)
            // 100::/64 discard-only.
            || (s[0] == 0x0100 && s[1..4] == [0; 3])
            // 2001:2::/48 benchmarking, 2001:10::/28 ORCHID, 2001:20::/28 ORCHIDv2.
            || (s[0] == 0x2001 && s[1] == 0x0002 && s[2] == 0)
            || (s[0] == 0x2001 && (s[1] & 0xfff0) == 0x0010)
            || (s[0] == 0x2001 && (s[1] & 0xfff0) == 0x0020)
    )
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
            // NAT64 of 10.0.0.1 and of loopback, and the local-use NAT64 prefix.
            "http://[64:ff9b::a00:1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[64:ff9b:1::808:808]/",
            // 6to4 of 192.168.1.1; Teredo with a private server; IPv4-compatible loopback.
            "http://[2002:c0a8:101::1]/",
            "http://[2001:0:a00:1::1]/",
            "http://[::127.0.0.1]/",
            "http://[::ffff:0:a00:1]/",
            "http://[fe80::5efe:a00:1]/",
            "http://[2001:db8::1]/",
            "http://[fec0::1]/",
            "http://198.18.0.1/",
            "http://240.0.0.1/",
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
        for public in [
            "http://8.8.8.8/hook",
            // NAT64 and 6to4 of a public address, and a plain global address.
            "http://[64:ff9b::808:808]/",
            "http://[2002:808:808::1]/",
            "http://[2606:4700:4700::1111]/",
        ] {
            assert!(
                check_target(public, TargetPolicy::PublicOnly).await.is_ok(),
                "{public} refused"
            );
        }
    }
}
