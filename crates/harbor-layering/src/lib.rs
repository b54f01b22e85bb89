//! Checks on the shape of the workspace's code, run as tests.
//!
//! The one check today: **no import loop inside any crate**. Within one crate, file A is
//! tied to file B when A names something that B defines (a type, function, constant,
//! static, trait, macro, or B's module itself), through a `use` (grouped, nested, `pub use`)
//! or a path in code (`crate::x::f()`, `super::Thing`, `module::f`). Re-exports are followed
//! to the file that defines the name, so `crate::Name` re-exported by `lib.rs` ties to the
//! defining file, not to `lib.rs`. A loop is a set of two files or more that all reach each
//! other through such ties; the check lists each with the names that tie it.
//!
//! Test-only code does not count: items under `#[cfg(test)]` (or `#[cfg(all(test, …))]`)
//! and `#[test]` functions are skipped, and so are the files of `#[cfg(test)] mod x;`.
//!
//! The crate has no runtime code: `tests/no_import_loops.rs` runs the check on every
//! workspace crate (found with `cargo metadata`), and the scan itself is unit-tested on
//! small sources.
//!
//! # What it does not see
//!
//! It reads token trees, not expanded code: names brought in by a macro expansion, by
//! `include!`, or by a bare name under a glob import (`use super::*`) in non-test code are
//! not followed (glob imports are followed when a path goes through them). A local name
//! that shadows a module name in a path (`let x; x::…` cannot happen, but a generic `T` that
//! matches an item name could) would be read as the item.
//!
//! # Example
//!
//! ```
//! use harbor_layering::{MemorySources, crate_loops};
//!
//! let sources = MemorySources::new()
//!     .with("src/lib.rs", "mod a; mod b;")
//!     .with("src/a.rs", "use crate::b::B; pub struct A;")
//!     .with("src/b.rs", "pub struct B(crate::a::A);");
//! let report = crate_loops("src/lib.rs".as_ref(), &sources)?;
//! assert_eq!(report.loops.len(), 1);
//! println!("{}", report.loops[0]);
//! # Ok::<(), harbor_layering::Error>(())
//! ```

mod check;
mod error;
mod graph;
mod model;
mod resolve;
mod scan;
mod sources;
mod tokens;
mod use_tree;
mod workspace;

pub use check::{Report, crate_loops};
pub use error::Error;
pub use graph::{Loop, Tie};
pub use sources::{DiskSources, MemorySources, Sources};
pub use workspace::{Target, Workspace};
