//! The driver's configuration, and how a `nats://` URL sets it.

use std::fmt;
use std::time::Duration;

use harbor_distributed::Error;
use harbor_distributed::kit::{OldUnit, UrlParams};
use url::Url;

/// Where messages are stored by the JetStream server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Storage {
    /// On disk: envelopes survive a server restart (the default).
    #[default]
    File,
    /// In memory: faster, lost when the server stops.
    Memory,
}

/// How a [`NatsBus`](crate::NatsBus) connects and lays out its stream. Plain data: build it
/// with struct update syntax from [`Default`], or from a URL with [`NatsBusConfig::from_url`].
///
/// `Debug` never shows the password or token.
#[derive(Clone, PartialEq, Eq)]
pub struct NatsBusConfig {
    /// The server, `host:port`. Default is `127.0.0.1:4222`.
    pub server: String,
    /// User name for user/password authentication. Default is none.
    pub user: Option<String>,
    /// Password for user/password authentication; never logged. Default is none.
    pub password: Option<String>,
    /// Token authentication; never logged. Default is none.
    pub token: Option<String>,
    /// The stream holding every envelope of this namespace. Default is `HARBOR`.
    pub stream: String,
    /// The first subject token of every envelope: subjects are
    /// `<prefix>.<tenant>.<edge>`. Two namespaces on one server need two streams with two
    /// prefixes. Default is `harbor`.
    pub prefix: String,
    /// Storage of a stream this driver creates. Default is [`Storage::File`].
    pub storage: Storage,
    /// Replicas of a stream this driver creates (clustered servers). Default is 1.
    pub replicas: usize,
    /// How long the stream keeps an envelope (acked or not; replay reads it until then);
    /// zero keeps envelopes forever. Default is 7 days.
    pub max_age: Duration,
    /// How long the server remembers a dedup key (`Nats-Msg-Id`): a second publish of the same
    /// `(task_id, edge, event_id)` within it is stored once. Default is 2 minutes.
    pub duplicate_window: Duration,
    /// Unacknowledged deliveries a whole consumer group may hold on the server (JetStream
    /// `MaxAckPending`); each subscription is also held to its own `max_in_flight`. Default
    /// is 20 000.
    pub max_ack_pending: usize,
    /// How long a publish waits for the server's acknowledgement before it fails with a
    /// retryable error. Default is 5 s.
    pub publish_timeout: Duration,
    /// How long `close` lets subscribers finish their deliveries and the group's backlog.
    /// Default is 5 s.
    pub drain_timeout: Duration,
    /// How long one pull request waits on the server for envelopes before the subscription
    /// sends another; also the longest a dropped subscription takes to give back envelopes
    /// it received but never handed out. Default is 1 s.
    pub pull_expires: Duration,
    /// The longest wait between two reconnection attempts. Default is 1 s.
    pub reconnect_delay_max: Duration,
    /// Largest payload accepted, in bytes; `None` takes the server's `max_payload` less
    /// 64 KiB kept for the envelope's other fields. Default is `None`.
    pub max_payload: Option<usize>,
    /// Acked stream sequences each subscription remembers, to re-ack (not hand out again)
    /// envelopes the server redelivers because it lost their acks; 0 turns this off.
    /// Default is 32 768.
    pub acked_memory: usize,
    /// For tests and benchmarks: the bus owns its stream and deletes it on `close`. Default
    /// is false.
    pub temporary: bool,
    /// The connection name the server shows. Default is `harbor`.
    pub connection_name: String,
}

impl Default for NatsBusConfig {
    fn default() -> Self {
        Self {
            server: "127.0.0.1:4222".to_owned(),
            user: None,
            password: None,
            token: None,
            stream: "HARBOR".to_owned(),
            prefix: "harbor".to_owned(),
            storage: Storage::File,
            replicas: 1,
            max_age: Duration::from_secs(7 * 24 * 3600),
            duplicate_window: Duration::from_secs(120),
            max_ack_pending: 20_000,
            publish_timeout: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(5),
            pull_expires: Duration::from_secs(1),
            reconnect_delay_max: Duration::from_secs(1),
            max_payload: None,
            acked_memory: 32_768,
            temporary: false,
            connection_name: "harbor".to_owned(),
        }
    }
}

impl fmt::Debug for NatsBusConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("NatsBusConfig")
            .field("server", &self.server)
            .field("user", &self.user)
            .field("password", &secret(&self.password))
            .field("token", &secret(&self.token))
            .field("stream", &self.stream)
            .field("prefix", &self.prefix)
            .field("storage", &self.storage)
            .field("replicas", &self.replicas)
            .field("max_age", &self.max_age)
            .field("duplicate_window", &self.duplicate_window)
            .field("max_ack_pending", &self.max_ack_pending)
            .field("publish_timeout", &self.publish_timeout)
            .field("drain_timeout", &self.drain_timeout)
            .field("pull_expires", &self.pull_expires)
            .field("reconnect_delay_max", &self.reconnect_delay_max)
            .field("max_payload", &self.max_payload)
            .field("acked_memory", &self.acked_memory)
            .field("temporary", &self.temporary)
            .field("connection_name", &self.connection_name)
            .finish()
    }
}

/// Every query parameter a `nats://` URL may carry (durations with their unit: `5s`). The
/// old spellings `max_age_s`, `duplicate_window_s`, `publish_timeout_ms`,
/// `drain_timeout_ms`, `pull_expires_ms` and `reconnect_delay_max_ms` are still read, with a
/// deprecation warning.
pub const PARAMETERS: &[&str] = &[
    "stream",
    "prefix",
    "storage",
    "replicas",
    "max_age",
    "duplicate_window",
    "max_ack_pending",
    "publish_timeout",
    "drain_timeout",
    "pull_expires",
    "reconnect_delay_max",
    "max_payload",
    "acked_memory",
    "temporary",
    "name",
    "token",
];

impl NatsBusConfig {
    /// The configuration a URL names:
    /// `nats://[user:password@]host[:port][?param=value&...]` (see the crate docs for the
    /// parameters). The port defaults to 4222.
    pub fn from_url(target: &str) -> Result<Self, Error> {
        let url = Url::parse(target)
            .map_err(|e| Error::InvalidConfig(format!("nats URL is malformed: {e}")))?;
        if url.scheme() != "nats" {
            return Err(Error::InvalidConfig(format!(
                "nats URL must use the nats:// scheme, not {:?}",
                url.scheme()
            )));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| Error::InvalidConfig("nats URL names no host".into()))?;
        if !matches!(url.path(), "" | "/") {
            return Err(Error::InvalidConfig(format!(
                "nats URL must not have a path (got {:?}); use ?stream=...&prefix=...",
                url.path()
            )));
        }
        let mut config = Self {
            server: format!("{host}:{}", url.port().unwrap_or(4222)),
            ..Self::default()
        };
        if !url.username().is_empty() {
            config.user = Some(decode(url.username()));
            config.password = url.password().map(decode);
        }
        let mut params = UrlParams::parse("nats URL", url.query())?;
        config.read(&mut params)?;
        params.finish()?;
        config.validate()?;
        Ok(config)
    }

    /// Sets the fields the URL's parameters name.
    fn read(&mut self, p: &mut UrlParams) -> Result<(), Error> {
        if let Some(stream) = p.string("stream")? {
            self.stream = stream;
        }
        if let Some(prefix) = p.string("prefix")? {
            self.prefix = prefix;
        }
        if let Some(storage) = p.string("storage")? {
            self.storage = match storage.as_str() {
                "file" => Storage::File,
                "memory" => Storage::Memory,
                _ => {
                    return Err(Error::InvalidConfig(format!(
                        "nats URL parameter storage={storage:?} must be file or memory"
                    )));
                }
            }
        }
        if let Some(n) = p.integer("replicas")? {
            self.replicas = n;
        }
        let (secs, ms) = (OldUnit::Seconds, OldUnit::Millis);
        if let Some(d) = p.duration_or_old("max_age", "max_age_s", secs)? {
            self.max_age = d;
        }
        if let Some(d) = p.duration_or_old("duplicate_window", "duplicate_window_s", secs)? {
            self.duplicate_window = d;
        }
        if let Some(n) = p.integer("max_ack_pending")? {
            self.max_ack_pending = n;
        }
        if let Some(d) = p.duration_or_old("publish_timeout", "publish_timeout_ms", ms)? {
            self.publish_timeout = d;
        }
        if let Some(d) = p.duration_or_old("drain_timeout", "drain_timeout_ms", ms)? {
            self.drain_timeout = d;
        }
        if let Some(d) = p.duration_or_old("pull_expires", "pull_expires_ms", ms)? {
            self.pull_expires = d;
        }
        let reconnect = p.duration_or_old("reconnect_delay_max", "reconnect_delay_max_ms", ms)?;
        if let Some(d) = reconnect {
            self.reconnect_delay_max = d;
        }
        if let Some(n) = p.integer("max_payload")? {
            self.max_payload = Some(n);
        }
        if let Some(n) = p.integer("acked_memory")? {
            self.acked_memory = n;
        }
        if let Some(temporary) = p.bool("temporary")? {
            self.temporary = temporary;
        }
        if let Some(name) = p.string("name")? {
            self.connection_name = name;
        }
        if let Some(token) = p.string("token")? {
            self.token = Some(token);
        }
        Ok(())
    }

    /// Checks what the server would refuse later, with a message naming the setting.
    pub fn validate(&self) -> Result<(), Error> {
        let token_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !token_ok(&self.stream) {
            return Err(Error::InvalidConfig(format!(
                "stream {:?} must be non-empty letters, digits, '-' or '_'",
                self.stream
            )));
        }
        if !token_ok(&self.prefix) {
            return Err(Error::InvalidConfig(format!(
                "prefix {:?} must be one subject token of letters, digits, '-' or '_'",
                self.prefix
            )));
        }
        if self.replicas == 0 {
            return Err(Error::InvalidConfig("replicas must be at least 1".into()));
        }
        if self.max_ack_pending == 0 {
            return Err(Error::InvalidConfig(
                "max_ack_pending must be at least 1".into(),
            ));
        }
        if self.pull_expires < Duration::from_millis(100) {
            return Err(Error::InvalidConfig(
                "pull_expires must be at least 100ms".into(),
            ));
        }
        if self.publish_timeout.is_zero() {
            return Err(Error::InvalidConfig(
                "publish_timeout must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// Percent-decodes a URL user or password.
fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_set_the_configuration() {
        let c = NatsBusConfig::from_url(
            "nats://ada:s%40cret@example.org:4333?stream=S1&prefix=p1&storage=memory&temporary=true&drain_timeout=250ms&max_age=1h",
        )
        .expect("valid URL");
        assert_eq!(c.server, "example.org:4333");
        assert_eq!(c.user.as_deref(), Some("ada"));
        assert_eq!(c.password.as_deref(), Some("s@cret"));
        assert_eq!((c.stream.as_str(), c.prefix.as_str()), ("S1", "p1"));
        assert_eq!(c.storage, Storage::Memory);
        assert!(c.temporary);
        assert_eq!(c.drain_timeout, Duration::from_millis(250));
        assert_eq!(c.max_age, Duration::from_secs(3600));
        let shown = format!("{c:?}");
        assert!(!shown.contains("s@cret"), "password in Debug: {shown}");
        let plain = NatsBusConfig::from_url("nats://127.0.0.1").expect("valid");
        assert_eq!(plain.server, "127.0.0.1:4222");
    }

    #[test]
    fn old_ms_and_s_spellings_read_as_the_new_ones() {
        let old = NatsBusConfig::from_url(
            "nats://h?max_age_s=600&duplicate_window_s=60&publish_timeout_ms=2000&drain_timeout_ms=250&pull_expires_ms=500&reconnect_delay_max_ms=3000",
        )
        .expect("old spellings");
        let new = NatsBusConfig::from_url(
            "nats://h?max_age=10m&duplicate_window=1m&publish_timeout=2s&drain_timeout=250ms&pull_expires=500ms&reconnect_delay_max=3s",
        )
        .expect("new spellings");
        assert_eq!(old, new);
        assert_eq!(new.max_age, Duration::from_secs(600));
        assert_eq!(new.pull_expires, Duration::from_millis(500));
    }

    #[test]
    fn bad_urls_name_the_problem() {
        for (bad, needle) in [
            ("nats://h?nope=1", "nope"),
            ("nats://h?replicas=x", "replicas"),
            ("nats://h?stream=a.b", "stream"),
            ("nats://h?prefix=", "prefix"),
            ("nats://h/path", "path"),
            ("redis://h", "scheme"),
            ("nats://h?storage=tape", "storage"),
            ("nats://h?max_age=forever", "max_age"),
            ("nats://h?pull_expires=10ms", "pull_expires"),
            ("nats://h?max_age=1h&max_age_s=3600", "max_age"),
        ] {
            match NatsBusConfig::from_url(bad) {
                Err(Error::InvalidConfig(msg)) => {
                    assert!(msg.contains(needle), "{bad}: {msg}")
                }
                other => panic!("{bad}: expected InvalidConfig, got {other:?}"),
            }
        }
    }
}
