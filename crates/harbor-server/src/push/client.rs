//! The HTTP client webhooks are called with: no redirects, a per-request timeout, and a
//! DNS resolver that screens every address it returns. reqwest connects to the addresses
//! the resolver gave, so the address checked is the address called: there is no second
//! lookup a rebinding DNS server could answer differently. Hosts written as IP addresses
//! never reach a resolver; [`target::check_url`] screens those.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::PushConfig;
use super::target::{self, TargetPolicy};

/// The webhook client of `config`.
pub(super) fn client(config: &PushConfig) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(Screened {
            policy: config.targets,
        }))
        .build()
}

/// Resolves with the system resolver, then refuses a host any of whose addresses the
/// policy forbids.
struct Screened {
    policy: TargetPolicy,
}

impl Resolve for Screened {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(refused) = addresses.iter().find(|a| !target::allowed(a.ip(), policy)) {
                let why = format!(
                    "webhook host {host} resolves to a non-public address ({})",
                    refused.ip()
                );
                return Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, why).into());
            }
            let addresses: Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}
