//! No import loop inside any crate of the workspace (issue #14).
//!
//! Every library and binary target of every workspace member is read (with `cargo metadata
//! --no-deps --offline`: no network) and its file-level import graph searched for loops.

use std::collections::BTreeMap;
use std::path::Path;

use harbor_layering::{DiskSources, Report, Workspace, crate_loops};

#[test]
fn no_import_loops() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let workspace = match Workspace::load(Path::new(env!("CARGO")), &manifest) {
        Ok(workspace) => workspace,
        Err(e) => panic!("{e}"),
    };
    let mut reports: BTreeMap<String, Report> = BTreeMap::new();
    for target in &workspace.targets {
        let report = match crate_loops(&target.src_path, &DiskSources) {
            Ok(report) => report,
            Err(e) => panic!("{} ({}): {e}", target.package, target.kind),
        };
        let entry = reports.entry(target.package.clone()).or_default();
        entry.loops.extend(report.loops);
        entry.missing.extend(report.missing);
    }
    assert!(
        reports.len() > 1,
        "the workspace lists {} crate(s): cargo metadata was not read right",
        reports.len()
    );

    let mut failing = String::new();
    for (package, report) in &reports {
        let mut text = String::new();
        for (n, found) in report.loops.iter().enumerate() {
            let found = found.relative_to(&workspace.root);
            text.push_str(&format!("{package}: loop {}: {found}", n + 1));
        }
        for missing in &report.missing {
            text.push_str(&format!("{package}: module file not found: {missing}\n"));
        }
        failing.push_str(&text);
    }
    assert!(
        failing.is_empty(),
        "import loops (file -> file: the names the first takes from the second); move what \
         both sides need to a module both import, or turn one import around:\n{failing}"
    );
}
