//! One configuration for `harbor serve`: a TOML file (`--config FILE`) and `HARBOR_*`
//! environment variables, both covering every flag, layered as flags > environment >
//! file > defaults.
//!
//! Nothing here lists the flags: they are read from the command's own definition, so a
//! flag group added to `harbor serve` is configurable by file and environment at once.
//! A flag `--push-timeout` is the file key `push-timeout` (or `push_timeout`, or `timeout`
//! in a `[push]` table) and the variable `HARBOR_PUSH_TIMEOUT`. The layers are turned
//! into arguments placed before the command line's own, so clap checks every value the
//! same way, and a later value of a flag overrides an earlier one.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{ArgAction, Args, Command};

/// The `--config` flag of `harbor serve`.
#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// A TOML file of settings: each key is a flag's name (`port = 9000`,
    /// `push-timeout = "5s"`, or `timeout` in a `[push]` table). Flags and HARBOR_*
    /// variables override it. Default: $HARBOR_CONFIG, else none.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

/// The prefix of the environment variables.
const ENV_PREFIX: &str = "HARBOR_";

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    File,
    Env,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Env => "environment",
        }
    }
}

/// One flag as the layers can set it.
struct Flag {
    long: String,
    /// A switch (`--in-memory`): set by `true`, left out by `false`.
    switch: bool,
    /// Takes several values (repeated flag); a file gives a TOML array.
    many: bool,
}

/// The flags of `command` the layers may set (`--config` and `--help` excepted).
fn flags(command: &Command) -> Vec<Flag> {
    command
        .get_arguments()
        .filter(|a| !a.is_positional())
        .filter_map(|arg| {
            let long = arg.get_long()?;
            if matches!(long, "config" | "help" | "version") {
                return None;
            }
            let action = arg.get_action();
            Some(Flag {
                long: long.to_owned(),
                switch: matches!(action, ArgAction::SetTrue),
                many: matches!(action, ArgAction::Append),
            })
        })
        .collect()
}

/// The settings of the file and the environment, by flag name, with their sources.
pub(crate) struct Layers {
    values: BTreeMap<String, (Vec<String>, Source)>,
}

impl Layers {
    /// Reads `file` (if any) and the `HARBOR_*` variables in `env` for the flags of
    /// `command`. A file key that is no flag is an error naming the closest flag; a
    /// variable that is no flag is left alone (other tools share the prefix).
    pub(crate) fn read(
        command: &Command,
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let flags = flags(command);
        let mut values = BTreeMap::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the configuration {}", path.display()))?;
            let table: toml::Table = toml::from_str(&text)
                .with_context(|| format!("{} is not valid TOML", path.display()))?;
            let mut found = Vec::new();
            flatten(&table, "", &mut found);
            for (key, value) in found {
                let flag = find(&flags, &key)
                    .with_context(|| format!("in {}: {}", path.display(), unknown(&flags, &key)))?;
                let values_of = file_values(flag, &value)
                    .with_context(|| format!("in {}: the key {key:?}", path.display()))?;
                values.insert(flag.long.clone(), (values_of, Source::File));
            }
        }
        for (name, value) in env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let key = rest.to_ascii_lowercase().replace('_', "-");
            let Some(flag) = flags.iter().find(|f| f.long == key) else {
                continue;
            };
            let values_of = if flag.switch {
                match parse_bool(&value) {
                    Some(true) => vec!["true".to_owned()],
                    Some(false) => Vec::new(),
                    None => bail!("{name}={value:?}: a switch takes true or false"),
                }
            } else if flag.many {
                value.split(',').map(|v| v.trim().to_owned()).collect()
            } else {
                vec![value]
            };
            values.insert(flag.long.clone(), (values_of, Source::Env));
        }
        Ok(Self { values })
    }

    /// The arguments the layers stand for, to go before the command line's own.
    pub(crate) fn args(&self, command: &Command) -> Vec<OsString> {
        let flags = flags(command);
        let mut args = Vec::new();
        for (long, (values, _)) in &self.values {
            let Some(flag) = flags.iter().find(|f| &f.long == long) else {
                continue;
            };
            if flag.switch {
                if !values.is_empty() {
                    args.push(OsString::from(format!("--{long}")));
                }
                continue;
            }
            for value in values {
                args.push(OsString::from(format!("--{long}={value}")));
            }
        }
        args
    }

    /// Where `long` was set, if by a layer.
    pub(crate) fn source(&self, long: &str) -> Option<Source> {
        self.values.get(long).map(|(_, source)| *source)
    }
}

/// `(dashed key, value)` of every leaf of `table`; a table's keys are prefixed by its name.
fn flatten(table: &toml::Table, prefix: &str, out: &mut Vec<(String, toml::Value)>) {
    for (key, value) in table {
        let key = key.replace('_', "-");
        let key = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}-{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten(inner, &key, out),
            other => out.push((key, other.clone())),
        }
    }
}

fn find<'a>(flags: &'a [Flag], key: &str) -> Option<&'a Flag> {
    flags.iter().find(|f| f.long == key)
}

/// The error of a key that is no flag, naming the closest one.
fn unknown(flags: &[Flag], key: &str) -> String {
    let closest = flags
        .iter()
        .map(|f| (strsim::jaro_winkler(key, &f.long), &f.long))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match closest {
        Some((score, name)) if score > 0.7 => {
            format!("unknown key {key:?}; did you mean {name:?}?")
        }
        _ => format!("unknown key {key:?}; the keys are the flags of `harbor serve --help`"),
    }
}

/// The flag values a file value stands for.
fn file_values(flag: &Flag, value: &toml::Value) -> anyhow::Result<Vec<String>> {
    let scalar = |v: &toml::Value| -> anyhow::Result<String> {
        match v {
            toml::Value::String(s) => Ok(s.clone()),
            toml::Value::Integer(i) => Ok(i.to_string()),
            toml::Value::Float(f) => Ok(f.to_string()),
            toml::Value::Boolean(b) => Ok(b.to_string()),
            other => bail!("a {} is not a flag value", other.type_str()),
        }
    };
    match value {
        toml::Value::Boolean(b) if flag.switch => Ok(if *b {
            vec!["true".to_owned()]
        } else {
            Vec::new()
        }),
        _ if flag.switch => bail!("a switch takes true or false"),
        toml::Value::Array(items) if flag.many => items.iter().map(scalar).collect(),
        toml::Value::Array(_) => bail!("takes one value, not a list"),
        other => Ok(vec![scalar(other)?]),
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

/// The `--config FILE` (or `--config=FILE`) of raw arguments, else `$HARBOR_CONFIG`.
pub(crate) fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let Some(arg) = arg.to_str() else { continue };
        if arg == "--" {
            break;
        }
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("HARBOR_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Whether a flag's value is a secret: shown masked. (Flags that name where a secret is,
/// a file or a variable, show that place.)
fn is_secret(long: &str) -> bool {
    ["secret", "password", "token", "credential", "otlp-header"]
        .iter()
        .any(|word| long.contains(word))
}

/// `value` with any password of a URL in it masked (`postgres://u:***@host/db`).
fn mask_url_password(value: &str) -> String {
    match url::Url::parse(value) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => value.to_owned(),
    }
}

/// The effective configuration of `matches` (parsed from the layers and the command
/// line), one `key = value  # source` line per flag, secrets masked.
pub(crate) fn render(command: &Command, matches: &clap::ArgMatches, layers: &Layers) -> String {
    let mut out = String::new();
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if matches!(long, "config" | "help" | "version") {
            continue;
        }
        let id = arg.get_id().as_str();
        let raw: Vec<String> = matches
            .get_raw(id)
            .map(|values| values.map(|v| v.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let from_default =
            matches.value_source(id) == Some(clap::parser::ValueSource::DefaultValue);
        let source = match (layers.source(long), from_default) {
            (_, true) => "default",
            (Some(source), false) => source.as_str(),
            (None, false) if raw.is_empty() => "unset",
            (None, false) => "flag",
        };
        let shown: Vec<String> = raw
            .iter()
            .map(|v| {
                if is_secret(long) {
                    "***".to_owned()
                } else {
                    mask_url_password(v)
                }
            })
            .collect();
        let value = match (
            matches!(arg.get_action(), ArgAction::SetTrue),
            shown.as_slice(),
        ) {
            (true, [v]) => v.clone(),
            (true, _) => "false".to_owned(),
            (false, []) => "# unset".to_owned(),
            (false, [v]) => toml::Value::String(v.clone()).to_string(),
            (false, many) => {
                toml::Value::Array(many.iter().cloned().map(toml::Value::String).collect())
                    .to_string()
            }
        };
        if value.starts_with('#') {
            out.push_str(&format!("# {long} (unset)\n"));
        } else {
            out.push_str(&format!("{long} = {value}  # {source}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Demo {
        #[arg(long, default_value_t = 9999)]
        port: u16,
        #[arg(long)]
        in_memory: bool,
        #[arg(long, default_value = "10s")]
        push_timeout: String,
        #[arg(long)]
        bus: Option<String>,
        #[arg(long)]
        auth_secret: Option<String>,
        #[command(flatten)]
        config: ConfigArgs,
    }

    fn command() -> Command {
        use clap::CommandFactory as _;
        Demo::command().args_override_self(true)
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), text).expect("write");
        file
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Parses `cli` over the layers of `file` and `env`, as `harbor serve` does.
    fn parse(file: &Path, env: Vec<(String, String)>, cli: &[&str]) -> (clap::ArgMatches, Layers) {
        let command = command();
        let layers = Layers::read(&command, Some(file), env).expect("layers");
        let mut args = vec![OsString::from("demo")];
        args.extend(layers.args(&command));
        args.extend(cli.iter().map(OsString::from));
        let matches = command.try_get_matches_from(args).expect("parses");
        (matches, layers)
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file_which_beats_the_defaults() {
        let f = file("port = 1000\npush-timeout = \"3s\"\nbus = \"memory\"\n");
        let environment = env(&[("HARBOR_PORT", "2000"), ("HARBOR_BUS", "embedded")]);
        let (m, layers) = parse(f.path(), environment, &["--bus", "nats://h:4222"]);
        assert_eq!(m.get_one::<u16>("port"), Some(&2000), "env over file");
        assert_eq!(
            m.get_one::<String>("push_timeout").map(String::as_str),
            Some("3s"),
            "file over default"
        );
        assert_eq!(
            m.get_one::<String>("bus").map(String::as_str),
            Some("nats://h:4222"),
            "flag over env"
        );
        assert_eq!(layers.source("port"), Some(Source::Env));
        assert_eq!(layers.source("push-timeout"), Some(Source::File));

        let f = file("");
        let (m, _) = parse(f.path(), Vec::new(), &[]);
        assert_eq!(m.get_one::<u16>("port"), Some(&9999), "default");
    }

    #[test]
    fn tables_and_snake_case_name_the_same_flags_and_switches_take_booleans() {
        let f = file("in_memory = true\n[push]\ntimeout = \"7s\"\n");
        let (m, _) = parse(f.path(), Vec::new(), &[]);
        assert!(m.get_flag("in_memory"));
        assert_eq!(
            m.get_one::<String>("push_timeout").map(String::as_str),
            Some("7s")
        );
        let f = file("in-memory = true\n");
        let (m, _) = parse(f.path(), env(&[("HARBOR_IN_MEMORY", "false")]), &[]);
        assert!(!m.get_flag("in_memory"), "the environment turns it off");
    }

    #[test]
    fn an_unknown_key_names_the_closest_flag() {
        let f = file("prot = 1\n");
        let error = Layers::read(&command(), Some(f.path()), Vec::new())
            .err()
            .expect("an error")
            .to_string();
        assert!(
            error.contains("\"prot\"") && error.contains("\"port\""),
            "{error}"
        );
        let f = file("in-memory = \"yes\"\n");
        let error = Layers::read(&command(), Some(f.path()), Vec::new())
            .err()
            .expect("an error");
        assert!(format!("{error:#}").contains("true or false"), "{error:#}");
    }

    #[test]
    fn the_effective_configuration_masks_secrets_and_url_passwords() {
        let f = file("auth-secret = \"hunter2\"\nbus = \"postgres://u:pw@db/x\"\n");
        let (m, layers) = parse(f.path(), Vec::new(), &["--port", "1"]);
        let shown = render(&command(), &m, &layers);
        assert!(
            !shown.contains("hunter2") && !shown.contains(":pw@"),
            "{shown}"
        );
        assert!(shown.contains("auth-secret = \"***\"  # file"), "{shown}");
        assert!(shown.contains("postgres://u:***@db/x"), "{shown}");
        assert!(shown.contains("port = \"1\"  # flag"), "{shown}");
        assert!(
            shown.contains("push-timeout = \"10s\"  # default"),
            "{shown}"
        );
    }

    #[test]
    fn the_config_path_comes_from_the_flag_in_either_form() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            config_path(&args(&["--port", "1", "--config", "a.toml"])),
            Some(PathBuf::from("a.toml"))
        );
        assert_eq!(
            config_path(&args(&["--config=b.toml"])),
            Some(PathBuf::from("b.toml"))
        );
    }
}
