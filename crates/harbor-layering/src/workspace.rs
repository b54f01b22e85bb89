//! The crates of the workspace, from `cargo metadata`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::error::Error;

/// A library or binary target of a workspace package: one module tree to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The package name (`harbor-client`).
    pub package: String,
    /// The target's kind as cargo names it (`lib`, `bin`, `proc-macro`).
    pub kind: String,
    /// The root file of its module tree.
    pub src_path: PathBuf,
}

/// The workspace's root directory and the library and binary targets of its members.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Where the workspace `Cargo.toml` is.
    pub root: PathBuf,
    /// Library, proc-macro and binary targets (tests, benches, examples and build scripts
    /// are not module trees of the crate's code).
    pub targets: Vec<Target>,
}

impl Workspace {
    /// Runs `cargo metadata --no-deps --offline` (no network, no dependency resolution) on
    /// the workspace of `manifest_path`.
    pub fn load(cargo: &Path, manifest_path: &Path) -> Result<Self, Error> {
        let output = Command::new(cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .arg("--manifest-path")
            .arg(manifest_path)
            .output()
            .map_err(|e| Error::Metadata(format!("cannot run {}: {e}", cargo.display())))?;
        if !output.status.success() {
            return Err(Error::Metadata(
                String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            ));
        }
        Self::from_metadata(&String::from_utf8_lossy(&output.stdout))
    }

    /// Reads the JSON printed by `cargo metadata --format-version 1`.
    pub fn from_metadata(json: &str) -> Result<Self, Error> {
        let bad = |what: &str| Error::Metadata(format!("unexpected output: {what}"));
        let metadata: Value = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
        let root = metadata["workspace_root"]
            .as_str()
            .ok_or_else(|| bad("no workspace_root"))?;
        let members: Vec<&str> = metadata["workspace_members"]
            .as_array()
            .ok_or_else(|| bad("no workspace_members"))?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let packages = metadata["packages"]
            .as_array()
            .ok_or_else(|| bad("no packages"))?;
        let mut targets = Vec::new();
        for package in packages {
            if !members.contains(&package["id"].as_str().unwrap_or_default()) {
                continue;
            }
            let name = package["name"]
                .as_str()
                .ok_or_else(|| bad("package without name"))?;
            for target in package["targets"].as_array().into_iter().flatten() {
                let kinds = target["kind"].as_array().into_iter().flatten();
                let Some(kind) = kinds
                    .filter_map(Value::as_str)
                    .find(|k| matches!(*k, "lib" | "rlib" | "proc-macro" | "bin"))
                else {
                    continue;
                };
                let src_path = target["src_path"]
                    .as_str()
                    .ok_or_else(|| bad("target without src_path"))?;
                targets.push(Target {
                    package: name.to_owned(),
                    kind: kind.to_owned(),
                    src_path: PathBuf::from(src_path),
                });
            }
        }
        Ok(Workspace {
            root: PathBuf::from(root),
            targets,
        })
    }
}
