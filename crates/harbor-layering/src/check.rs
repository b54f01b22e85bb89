//! The check of one module tree.

use std::path::Path;

use crate::error::Error;
use crate::graph::{Loop, loops};
use crate::resolve::edges;
use crate::scan::scan_crate;
use crate::sources::Sources;

/// What the check of one crate target found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The import loops, sorted by their files.
    pub loops: Vec<Loop>,
    /// `mod x;` declarations whose file was not found (`file: mod x`): their files were
    /// not read, so a loop through them would go unseen.
    pub missing: Vec<String>,
}

/// Reads the module tree rooted at `entry` (a `lib.rs` or `main.rs`) and returns its import
/// loops. Test-only code (`#[cfg(test)]`, `#[test]`) is left out.
pub fn crate_loops(entry: &Path, sources: &dyn Sources) -> Result<Report, Error> {
    let tree = scan_crate(entry, sources)?;
    let edges = edges(&tree);
    Ok(Report {
        loops: loops(&tree.files, &edges),
        missing: tree.missing,
    })
}

#[cfg(test)]
mod tests;
