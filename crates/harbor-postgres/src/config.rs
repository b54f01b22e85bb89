//! The driver's configuration and how it is read from a URL.

use std::fmt;
use std::time::Duration;

use harbor_distributed::Error;
use harbor_distributed::kit::UrlParams;

/// How a [`PostgresBus`](crate::PostgresBus) behaves. Plain data: start from [`Default`]
/// and change fields, or parse a URL with [`PostgresBusConfig::from_url`].
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresBusConfig {
    /// The server URL without the driver's own query parameters (it may hold a password,
    /// so it never appears in `Debug` output or logs). Default is
    /// `postgres://postgres@127.0.0.1:5432/postgres`.
    pub(crate) server: String,
    /// The schema holding the bus tables; one schema is one independent bus. Lower-case
    /// letters, digits and `_`, starting with a letter or `_`, at most 50 characters.
    /// Default is `harbor`.
    pub schema: String,
    /// Connections in each of the two pools: one with durable commits for publishing, one
    /// with `synchronous_commit = off` for claiming and settling (whose loss in a server
    /// crash only means a redelivery). The LISTEN connection is extra. Default is 16.
    pub pool_size: usize,
    /// Most envelopes written by one multi-row insert. Default is 512.
    pub publish_batch: usize,
    /// Publish batches (transactions) in flight at once. Default is 2: fewer, larger
    /// transactions win on a small machine (2 cores: 60-66k/s at 2 against 42k/s at 8).
    pub publish_pipeline: usize,
    /// Most deliveries one claim statement takes for a subscription (never more than its
    /// free `max_in_flight`). Default is 256.
    pub claim_batch: usize,
    /// Most acks settled by one statement. Default is 1024.
    pub ack_batch: usize,
    /// How often an idle subscription looks for work without a notification (deliveries
    /// whose visibility timeout passed in another process, missed notifications). Default
    /// is 500 ms.
    pub poll_interval: Duration,
    /// How long `close` lets subscribers finish in-flight deliveries and the backlog of
    /// their groups. Default is 5 s.
    pub drain_timeout: Duration,
    /// Timeout for opening one connection. Default is 5 s.
    pub connect_timeout: Duration,
    /// Largest payload accepted, in bytes. Default is 1 MiB.
    pub max_payload: usize,
    /// Settled envelopes are deleted this long after they were stored (the replay window,
    /// and the publish dedup window). Default is 24 h.
    pub retention: Duration,
}

impl Default for PostgresBusConfig {
    fn default() -> Self {
        Self {
            server: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            schema: "harbor".into(),
            pool_size: 16,
            publish_batch: 512,
            publish_pipeline: 2,
            claim_batch: 256,
            ack_batch: 1024,
            poll_interval: Duration::from_millis(500),
            drain_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            max_payload: 1024 * 1024,
            retention: Duration::from_secs(24 * 3600),
        }
    }
}

impl fmt::Debug for PostgresBusConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresBusConfig")
            .field("server", &redact(&self.server))
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .field("publish_batch", &self.publish_batch)
            .field("publish_pipeline", &self.publish_pipeline)
            .field("claim_batch", &self.claim_batch)
            .field("ack_batch", &self.ack_batch)
            .field("poll_interval", &self.poll_interval)
            .field("drain_timeout", &self.drain_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_payload", &self.max_payload)
            .field("retention", &self.retention)
            .finish()
    }
}

/// Parameters the PostgreSQL client understands in a URL.
const CLIENT: &[&str] = &[
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "sslmode",
    "host",
    "hostaddr",
    "port",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

impl PostgresBusConfig {
    /// Reads `postgres://user:password@host:port/db?schema=…&pool_size=…` (or
    /// `postgresql://…`). The driver's parameters are listed in the crate docs; the
    /// PostgreSQL client's own (`sslmode`, `application_name`, …) pass through.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        let parsed = url::Url::parse(url)
            .map_err(|e| Error::InvalidConfig(format!("postgres URL {:?}: {e}", redact(url))))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(Error::InvalidConfig(format!(
                "postgres URL {:?}: the scheme must be postgres:// or postgresql://",
                redact(url)
            )));
        }
        let mut config = Self::default();
        let mut params = UrlParams::parse("postgres URL", parsed.query())?;
        config.read(&mut params)?;
        let client = params.pass_through(CLIENT);
        params.finish()?;
        let mut passed = url::form_urlencoded::Serializer::new(String::new());
        passed.extend_pairs(&client);
        let any_passed = !client.is_empty();
        let mut server = parsed.clone();
        server.set_query(any_passed.then(|| passed.finish()).as_deref());
        config.server = server.to_string();
        config.validate()?;
        Ok(config)
    }

    /// Sets the fields the URL's own parameters name (durations with their unit; a bare
    /// number of milliseconds is still read, with a deprecation warning).
    fn read(&mut self, p: &mut UrlParams) -> Result<(), Error> {
        if let Some(schema) = p.string("schema")? {
            self.schema = schema;
        }
        for (name, field) in [
            ("pool_size", &mut self.pool_size),
            ("publish_batch", &mut self.publish_batch),
            ("publish_pipeline", &mut self.publish_pipeline),
            ("claim_batch", &mut self.claim_batch),
            ("ack_batch", &mut self.ack_batch),
            ("max_payload", &mut self.max_payload),
        ] {
            if let Some(n) = p.integer(name)? {
                *field = n;
            }
        }
        for (name, field) in [
            ("poll_interval", &mut self.poll_interval),
            ("drain_timeout", &mut self.drain_timeout),
            ("connect_timeout", &mut self.connect_timeout),
            ("retention", &mut self.retention),
        ] {
            if let Some(d) = p.duration(name)? {
                *field = d;
            }
        }
        Ok(())
    }

    /// The configuration for `server` (a URL without the driver's parameters).
    pub fn for_server(server: impl Into<String>) -> Self {
        Self {
            server: server.into(),
            ..Self::default()
        }
    }

    /// The server URL with any password replaced by `***`.
    pub fn redacted_server(&self) -> String {
        redact(&self.server)
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<(), Error> {
        let s = &self.schema;
        let first_ok = s
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
        let rest_ok = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !first_ok || !rest_ok || s.len() > 50 || s.starts_with("pg_") {
            return Err(Error::InvalidConfig(format!(
                "schema {s:?}: use 1 to 50 lower-case letters, digits or '_', starting with a letter or '_' (not pg_)"
            )));
        }
        for (name, value) in [
            ("pool_size", self.pool_size),
            ("publish_batch", self.publish_batch),
            ("publish_pipeline", self.publish_pipeline),
            ("claim_batch", self.claim_batch),
            ("ack_batch", self.ack_batch),
            ("max_payload", self.max_payload),
        ] {
            if value == 0 {
                return Err(Error::InvalidConfig(format!("{name} must be at least 1")));
            }
        }
        if self.poll_interval.is_zero() {
            return Err(Error::InvalidConfig(
                "poll_interval must be positive".into(),
            ));
        }
        self.server_config().map(|_| ())
    }

    /// The PostgreSQL client's configuration.
    pub(crate) fn server_config(&self) -> Result<tokio_postgres::Config, Error> {
        let mut pg: tokio_postgres::Config = self.server.parse().map_err(|e| {
            Error::InvalidConfig(format!("postgres URL {:?}: {e}", redact(&self.server)))
        })?;
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(self.connect_timeout);
        }
        if pg.get_application_name().is_none() {
            pg.application_name("harbor-bus");
        }
        Ok(pg)
    }

    /// The NOTIFY channel of this bus.
    pub(crate) fn channel(&self) -> String {
        format!("{}_wake", self.schema)
    }
}

/// `url` with its password, if any, replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k == "password" {
                        "***".into()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            if !pairs.is_empty() {
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        Err(_) => "<unparsable URL>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_parse_and_pass_through() {
        let c = PostgresBusConfig::from_url(
            "postgres://u:secret@db:5433/app?schema=bus_1&pool_size=4&poll_interval=2s&sslmode=disable",
        )
        .expect("valid");
        assert_eq!(c.schema, "bus_1");
        assert_eq!(c.pool_size, 4);
        assert_eq!(c.poll_interval, Duration::from_secs(2));
        assert_eq!(c.server, "postgres://u:secret@db:5433/app?sslmode=disable");
        let debug = format!("{c:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(c.redacted_server().contains("***"));
    }

    #[test]
    fn bad_values_name_the_parameter() {
        for (url, needle) in [
            ("postgres://h/db?schema=Bad-Name", "schema"),
            ("postgres://h/db?pool_size=0", "pool_size"),
            ("postgres://h/db?poll_interval=soon", "poll_interval"),
            ("postgres://h/db?drain_timeout=5x", "drain_timeout"),
            ("postgres://h/db?pool_size=x", "pool_size"),
            ("postgres://h/db?schema=a&schema=b", "more than once"),
            ("postgres://h/db?colour=red", "colour"),
            ("mysql://h/db", "scheme"),
        ] {
            match PostgresBusConfig::from_url(url) {
                Err(Error::InvalidConfig(msg)) => assert!(msg.contains(needle), "{msg}"),
                other => panic!("{url}: expected InvalidConfig, got {other:?}"),
            }
        }
    }

    #[test]
    fn durations_take_every_unit_and_bare_milliseconds() {
        let c = PostgresBusConfig::from_url(
            "postgres://h/db?poll_interval=250ms&drain_timeout=5s&connect_timeout=1m&retention=2h",
        )
        .expect("valid");
        assert_eq!(c.poll_interval, Duration::from_millis(250));
        assert_eq!(c.drain_timeout, Duration::from_secs(5));
        assert_eq!(c.connect_timeout, Duration::from_secs(60));
        assert_eq!(c.retention, Duration::from_secs(7200));
        // The old bare number of milliseconds is still read (with a deprecation warning).
        let bare =
            PostgresBusConfig::from_url("postgres://h/db?drain_timeout=5000").expect("valid");
        assert_eq!(bare.drain_timeout, c.drain_timeout);
    }

    #[test]
    fn passwords_never_show() {
        let msg = match PostgresBusConfig::from_url("postgres://u:hunter2@h/db?colour=red") {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted"),
        };
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(!redact("postgres://u:hunter2@h/db?password=x2").contains("hunter2"));
    }
}
