//! The options every client command shares, and small argument types.

use std::fmt;
use std::str::FromStr;

use clap::{Args, ValueEnum};
use harbor_a2a::TaskState;
use harbor_client::Binding;

/// Options of every client command.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// The agent's base URL; its card is at URL/.well-known/agent-card.json.
    #[arg(value_name = "URL")]
    pub(crate) url: String,
    /// Bindings to use, in order of preference (repeat or separate with commas). Default:
    /// all three, in the order of the card's interfaces.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "BINDING")]
    pub(crate) binding: Vec<BindingArg>,
    /// Machine output: one JSON document per result; streams print one JSON line per event.
    #[arg(long)]
    pub(crate) json: bool,
    /// Seconds a call (or the opening of a stream, card fetch included) may take. An open
    /// stream has no deadline: it lasts until the task ends or Ctrl-C.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_seconds)]
    pub(crate) timeout: std::time::Duration,
    /// Allow plain http:// to hosts other than loopback (the card's endpoints included).
    #[arg(long)]
    pub(crate) allow_insecure_http: bool,
    /// Declare an extension (A2A-Extensions header); repeatable.
    #[arg(long = "extension", value_name = "URI")]
    pub(crate) extensions: Vec<String>,
    /// An extra request header such as 'Authorization: Bearer …' (repeatable). Values are
    /// never printed.
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    pub(crate) headers: Vec<HeaderArg>,
    /// A bearer token (a JWT, an OAuth2 access token), sent as 'Authorization: Bearer …'.
    /// Never printed.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "HARBOR_BEARER",
        hide_env_values = true
    )]
    pub(crate) bearer: Option<Secret>,
    /// An API key, sent in the header the card's apiKey scheme names (else
    /// --api-key-header). Never printed.
    #[arg(
        long,
        value_name = "KEY",
        env = "HARBOR_API_KEY",
        hide_env_values = true
    )]
    pub(crate) api_key: Option<Secret>,
    /// The header of --api-key. Default: the one the agent card's apiKeySecurityScheme
    /// names, else x-api-key.
    #[arg(long, value_name = "NAME", requires = "api_key")]
    pub(crate) api_key_header: Option<String>,
    /// A CA certificate (PEM) to trust besides the system's roots, for agents whose
    /// certificate a private CA issued.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_cert: Option<std::path::PathBuf>,
    /// A client certificate (PEM) for mutual TLS, on every binding; needs --client-key.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub(crate) client_cert: Option<std::path::PathBuf>,
    /// The private key (PEM) of --client-cert.
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub(crate) client_key: Option<std::path::PathBuf>,
    /// The local identity's tenant.
    #[arg(long, default_value = "local")]
    pub(crate) tenant: String,
    /// The local identity's user. Default: $USER, else `local`.
    #[arg(long)]
    pub(crate) user: Option<String>,
    /// The local identity's session. Default: a new UUID for each invocation.
    #[arg(long)]
    pub(crate) session: Option<String>,
    /// Send the local identity to the agent as Harbor's x-harbor-* headers (only Harbor
    /// servers told to trust them read them). Default: the agent learns nothing of it.
    #[arg(long)]
    pub(crate) send_identity: bool,
}

/// `--binding` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BindingArg {
    /// JSON-RPC 2.0 over HTTP.
    Jsonrpc,
    /// HTTP+JSON (REST).
    HttpJson,
    /// gRPC (`lf.a2a.v1.A2AService`; the card's GRPC interface, `host:port`).
    Grpc,
}

impl From<BindingArg> for Binding {
    fn from(binding: BindingArg) -> Self {
        match binding {
            BindingArg::Jsonrpc => Binding::JsonRpc,
            BindingArg::HttpJson => Binding::HttpJson,
            BindingArg::Grpc => Binding::Grpc,
        }
    }
}

/// A value that must never be printed: `Debug` shows that it is set, not what it is.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

/// `--header 'Name: value'`.
#[derive(Debug, Clone)]
pub(crate) struct HeaderArg {
    pub(crate) name: String,
    pub(crate) value: Secret,
}

impl FromStr for HeaderArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| "expected 'NAME: VALUE'".to_owned())?;
        let name = name.trim();
        if name.is_empty() {
            return Err("the header name is empty".to_owned());
        }
        Ok(Self {
            name: name.to_ascii_lowercase(),
            value: Secret(value.trim().to_owned()),
        })
    }
}

/// Seconds, fractions allowed, more than zero.
fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    let seconds: f64 = text.parse().map_err(|e| format!("not a number: {e}"))?;
    if seconds.is_nan() || seconds <= 0.0 {
        return Err("must be more than zero".to_owned());
    }
    std::time::Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string())
}

/// A task state as the user writes it: `completed`, `input-required`, `TASK_STATE_WORKING`.
pub(crate) fn parse_state(text: &str) -> Result<TaskState, String> {
    let upper = text.trim().to_ascii_uppercase().replace('-', "_");
    let name = if upper.starts_with("TASK_STATE_") {
        upper
    } else {
        format!("TASK_STATE_{upper}")
    };
    TaskState::from_str_name(&name)
        .filter(|s| *s != TaskState::Unspecified)
        .ok_or_else(|| {
            "expected one of submitted, working, completed, failed, canceled, input-required, \
             rejected, auth-required"
                .to_owned()
        })
}

/// Parses the common options alone, as a command would.
#[cfg(test)]
pub(crate) fn parse_common(args: &[&str]) -> Common {
    #[derive(Debug, clap::Parser)]
    struct Probe {
        #[command(flatten)]
        common: Common,
    }
    <Probe as clap::Parser>::parse_from(std::iter::once("probe").chain(args.iter().copied())).common
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_read_in_any_spelling() {
        assert_eq!(parse_state("completed"), Ok(TaskState::Completed));
        assert_eq!(parse_state("input-required"), Ok(TaskState::InputRequired));
        assert_eq!(parse_state("TASK_STATE_WORKING"), Ok(TaskState::Working));
        assert!(parse_state("unspecified").is_err());
        assert!(parse_state("done").is_err());
    }

    #[test]
    fn headers_parse_and_hide_their_value() {
        let header: HeaderArg = "Authorization: Bearer s3cret".parse().expect("a header");
        assert_eq!(header.name, "authorization");
        assert_eq!(header.value.0, "Bearer s3cret");
        assert!(!format!("{header:?}").contains("s3cret"));
        assert!("no colon".parse::<HeaderArg>().is_err());
    }

    #[test]
    fn timeouts_are_positive_seconds() {
        assert_eq!(
            parse_seconds("1.5"),
            Ok(std::time::Duration::from_millis(1500))
        );
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("NaN").is_err());
    }
}
