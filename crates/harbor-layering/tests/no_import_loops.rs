//! No import loop inside any crate of the workspace (issue #14).
//!
//! Every library and binary target of every workspace member is read (with `cargo metadata
//! --no-deps --offline`: no network) and its file-level import graph searched for loops.

use std::collections::BTreeMap;
use std::path::Path;

use harbor_layering::{DiskSources, Report, Workspace, crate_loops};

/// The crates that must be free of import loops: a loop in one of them fails the test.
///
/// The loops of the other crates are printed but do not fail it yet: they are being broken
/// one crate at a time, and this list grows with each until it holds every crate of the
/// workspace (then the list goes and every crate is checked).
const CHECKED: &[&str] = &[
    "harbor-a2a",
    "harbor-client",
    "harbor-conformance",
    "harbor-layering",
    "harbor-nats",
];

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
    for name in CHECKED {
        assert!(
            reports.contains_key(*name),
            "CHECKED names {name}, which is not a workspace crate"
        );
    }

    let mut failing = String::new();
    let mut pending = String::new();
    for (package, report) in &reports {
        let mut text = String::new();
        for (n, found) in report.loops.iter().enumerate() {
            let found = found.relative_to(&workspace.root);
            text.push_str(&format!("{package}: loop {}: {found}", n + 1));
        }
        for missing in &report.missing {
            text.push_str(&format!("{package}: module file not found: {missing}\n"));
        }
        if CHECKED.contains(&package.as_str()) {
            failing.push_str(&text);
        } else {
            pending.push_str(&text);
        }
    }
    if !pending.is_empty() {
        println!("import loops in crates not checked yet (not a failure):\n{pending}");
    }
    assert!(
        failing.is_empty(),
        "import loops (file -> file: the names the first takes from the second); move what \
         both sides need to a module both import, or turn one import around:\n{failing}"
    );
}
