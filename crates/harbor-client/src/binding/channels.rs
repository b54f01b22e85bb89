//! The gRPC channels of a transport: one lazily connected HTTP/2 channel per endpoint
//! origin, shared by all calls to it, with the transport's TLS settings and HTTP/2 pings
//! every [`stream_idle_timeout`](crate::ClientConfig::stream_idle_timeout).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use harbor_distributed::Error;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use url::Url;

use crate::config::ClientConfig;

/// How long an HTTP/2 ping may go unanswered before the connection counts as dead.
const PING_TIMEOUT: Duration = Duration::from_secs(20);

/// A transport's channels, one per endpoint origin (`http://host:port`).
#[derive(Default)]
pub(crate) struct Channels {
    map: Mutex<HashMap<String, Channel>>,
}

impl Channels {
    /// The channel to the endpoint at `url` and its origin, created on first use.
    pub(super) fn get(&self, url: &Url, config: &ClientConfig) -> Result<(Channel, String), Error> {
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return Err(Error::InvalidArgument(format!(
                "the gRPC endpoint {url} has no host and port"
            )));
        };
        let origin = format!("{}://{host}:{port}", url.scheme());
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(channel) = map.get(&origin) {
            return Ok((channel.clone(), origin));
        }
        let tls = (url.scheme() == "https").then(|| {
            let settings = &config.tls;
            let mut tls = ClientTlsConfig::new()
                .with_native_roots()
                .domain_name(host.trim_start_matches('[').trim_end_matches(']'));
            if let Some(ca) = &settings.ca_pem {
                tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(ca));
            }
            if let (Some(cert), Some(key)) = (&settings.cert_pem, &settings.key_pem) {
                tls = tls.identity(tonic::transport::Identity::from_pem(cert, key));
            }
            tls
        });
        let channel = endpoint(&origin, config, tls)?.connect_lazy();
        map.insert(origin.clone(), channel.clone());
        Ok((channel, origin))
    }
}

fn endpoint(
    origin: &str,
    config: &ClientConfig,
    tls: Option<ClientTlsConfig>,
) -> Result<Endpoint, Error> {
    let invalid = |e: tonic::transport::Error| {
        Error::InvalidArgument(format!("the gRPC endpoint {origin}: {e}"))
    };
    let mut endpoint = Endpoint::from_shared(origin.to_owned())
        .map_err(invalid)?
        .user_agent(config.user_agent.clone())
        .map_err(invalid)?
        .connect_timeout(config.connect_timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(config.stream_idle_timeout)
        .keep_alive_timeout(PING_TIMEOUT);
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls).map_err(invalid)?;
    }
    Ok(endpoint)
}
