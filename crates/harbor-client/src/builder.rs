//! Building an [`A2aTransport`]: settings in, checks and the HTTP client out.

use std::time::Duration;

use harbor_distributed::Error;

use crate::A2aTransport;
use crate::config::{Binding, ClientConfig, IdentityPolicy, PeerConfig};

/// Builds an [`A2aTransport`]; [`build`](Self::build) checks the settings.
#[derive(Debug, Clone, Default)]
pub struct A2aTransportBuilder {
    config: ClientConfig,
}

// `A2aTransport::builder` is written here, beside what it returns, so that the transport's
// module does not import the builder, which imports the transport.
impl A2aTransport {
    /// A builder with [`ClientConfig::default`].
    pub fn builder() -> A2aTransportBuilder {
        A2aTransportBuilder::default()
    }
}

impl A2aTransportBuilder {
    /// Replaces every setting.
    #[must_use]
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The bindings to use, in order of preference (see [`ClientConfig::bindings`]).
    #[must_use]
    pub fn bindings(mut self, bindings: impl IntoIterator<Item = Binding>) -> Self {
        self.config.bindings = bindings.into_iter().collect();
        self
    }

    /// Uses `binding` whenever a card offers it (see [`ClientConfig::preferred_binding`]).
    #[must_use]
    pub fn preferred_binding(mut self, binding: Binding) -> Self {
        self.config.preferred_binding = Some(binding);
        self
    }

    /// Allows plain HTTP beyond loopback (see [`ClientConfig::allow_insecure_http`]).
    #[must_use]
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.config.allow_insecure_http = allow;
        self
    }

    /// What peers without their own settings learn of the caller's identity.
    #[must_use]
    pub fn identity_policy(mut self, policy: IdentityPolicy) -> Self {
        self.config.default_peer.identity = policy;
        self
    }

    /// Settings for one peer URL.
    #[must_use]
    pub fn peer(mut self, url: impl Into<String>, config: PeerConfig) -> Self {
        let url = url.into();
        self.config
            .peers
            .insert(url.trim_end_matches('/').to_owned(), config);
        self
    }

    /// The timeout of a whole non-streaming call (see [`ClientConfig::request_timeout`]).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// Checks the settings and builds the transport with its connection pool.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when no binding is allowed (or the preferred one is not among
    /// them), a timeout or size cap is zero,
    /// a peer header is not a valid header, or the HTTP client cannot be built.
    pub fn build(self) -> Result<A2aTransport, Error> {
        let c = self.config;
        let invalid = |what: &str| Err(Error::InvalidConfig(what.to_owned()));
        if c.bindings.is_empty() {
            return invalid("at least one binding must be allowed");
        }
        if let Some(binding) = c.preferred_binding
            && !c.bindings.contains(&binding)
        {
            return invalid(&format!(
                "the preferred binding {binding} is not among the allowed bindings"
            ));
        }
        let timeouts = [
            ("connect_timeout", c.connect_timeout),
            ("request_timeout", c.request_timeout),
            ("stream_idle_timeout", c.stream_idle_timeout),
            ("card_timeout", c.card_timeout),
            ("close_deadline", c.close_deadline),
        ];
        if let Some((name, _)) = timeouts.iter().find(|(_, t)| t.is_zero()) {
            return invalid(&format!("{name} must be more than zero"));
        }
        let caps = [
            ("max_response_bytes", c.max_response_bytes),
            ("max_card_bytes", c.max_card_bytes),
            ("max_event_bytes", c.max_event_bytes),
        ];
        if let Some((name, _)) = caps.iter().find(|(_, n)| *n == 0) {
            return invalid(&format!("{name} must be more than zero"));
        }
        let mut http = reqwest::Client::builder()
            .connect_timeout(c.connect_timeout)
            .user_agent(c.user_agent.clone())
            // A redirect could carry identity headers to a host the card never named.
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true);
        if let Some(ca) = &c.tls.ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(ca.as_bytes())
                .map_err(|_| Error::InvalidConfig("tls.ca_pem holds no PEM certificate".into()))?
            {
                http = http.add_root_certificate(cert);
            }
        }
        match (&c.tls.cert_pem, &c.tls.key_pem) {
            (Some(cert), Some(key)) => {
                let identity = reqwest::Identity::from_pem(format!("{cert}\n{key}").as_bytes())
                    .map_err(|_| {
                        Error::InvalidConfig(
                            "the client certificate or its key is not valid PEM".into(),
                        )
                    })?;
                http = http.identity(identity);
            }
            (None, None) => {}
            _ => return invalid("tls.cert_pem and tls.key_pem go together"),
        }
        let http = http
            .build()
            .map_err(|e| Error::InvalidConfig(format!("the HTTP client cannot be built: {e}")))?;
        A2aTransport::from_parts(c, http)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_checks_the_settings() {
        assert!(A2aTransport::builder().build().is_ok());
        let bad = [
            A2aTransport::builder().bindings([]),
            A2aTransport::builder().request_timeout(Duration::ZERO),
            A2aTransport::builder()
                .bindings([Binding::JsonRpc])
                .preferred_binding(Binding::Grpc),
            A2aTransport::builder().config(ClientConfig {
                max_event_bytes: 0,
                ..ClientConfig::default()
            }),
            A2aTransport::builder().peer(
                "https://a.example",
                PeerConfig {
                    headers: [("authorization".to_owned(), "bad\nvalue".to_owned())].into(),
                    ..PeerConfig::default()
                },
            ),
        ];
        for builder in bad {
            assert!(
                matches!(builder.clone().build(), Err(Error::InvalidConfig(_))),
                "{builder:?}"
            );
        }
    }
}
