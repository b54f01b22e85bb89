//! `harbor config check FILE`: validates a configuration of `harbor serve` (the file, over
//! it the `HARBOR_*` variables) and prints the effective settings, secrets masked.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{FromArgMatches as _, Subcommand};

use crate::config::{Layers, render};
use crate::serve::ServeArgs;

/// `harbor config ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Validate FILE (with the HARBOR_* variables over it, as `harbor serve --config FILE`
    /// reads them) and print every setting with where it came from; secrets are masked.
    /// Exit 0 when valid, 1 when not.
    Check {
        /// The TOML file.
        file: PathBuf,
    },
}

pub(crate) fn run(command: ConfigCommand) -> ExitCode {
    let ConfigCommand::Check { file } = command;
    match check(&file, std::env::vars()) {
        Ok(effective) => {
            print!("{effective}");
            eprintln!("harbor config: {} is valid", file.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("harbor config: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The effective configuration of `file` under `env`, or why it is not valid.
fn check(
    file: &std::path::Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<String> {
    let serve = <ServeArgs as clap::Args>::augment_args(clap::Command::new("serve"))
        .args_override_self(true);
    let layers = Layers::read(&serve, Some(file), env)?;
    let mut args = vec![OsString::from("serve")];
    args.extend(layers.args(&serve));
    let matches = serve
        .clone()
        .try_get_matches_from(args)
        .map_err(|e| anyhow::anyhow!("{}", e.render().to_string().trim_end()))?;
    // The same conversion `harbor serve` makes, so a value clap accepts but the settings
    // refuse is caught here too.
    ServeArgs::from_arg_matches(&matches).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(render(&serve, &matches, &layers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), text).expect("write");
        file
    }

    #[test]
    fn a_valid_file_prints_every_setting_with_its_source() {
        let f = file("port = 7000\n[push]\nmax-attempts = 3\n");
        let env = [("HARBOR_LOG_RETENTION".to_owned(), "1m".to_owned())];
        let shown = check(f.path(), env).expect("valid");
        assert!(shown.contains("port = \"7000\"  # file"), "{shown}");
        assert!(
            shown.contains("push-max-attempts = \"3\"  # file"),
            "{shown}"
        );
        assert!(
            shown.contains("log-retention = \"1m\"  # environment"),
            "{shown}"
        );
        assert!(shown.contains("host = \"127.0.0.1\"  # default"), "{shown}");
    }

    #[test]
    fn an_invalid_value_or_key_is_an_error_that_names_it() {
        let f = file("port = \"not a port\"\n");
        let error = format!("{:#}", check(f.path(), []).expect_err("invalid"));
        assert!(error.contains("--port"), "{error}");
        let f = file("push-timout = \"1s\"\n");
        let error = format!("{:#}", check(f.path(), []).expect_err("invalid"));
        assert!(
            error.contains("\"push-timout\"") && error.contains("\"push-timeout\""),
            "{error}"
        );
    }
}
