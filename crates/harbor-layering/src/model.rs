//! What the scan of one crate keeps: its module tree, what each module defines and imports,
//! and every path that names something of the crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Index of a file in [`Tree::files`].
pub(crate) type FileId = usize;
/// Index of a module in [`Tree::modules`].
pub(crate) type ModId = usize;

/// One module: a file module (`mod x;`), an inline one (`mod x { … }`) or the crate root.
#[derive(Debug, Default)]
pub(crate) struct Module {
    pub(crate) name: String,
    pub(crate) parent: Option<ModId>,
    /// The file its items are written in (an inline module shares its parent's).
    pub(crate) file: FileId,
    pub(crate) children: BTreeMap<String, ModId>,
    /// Names of the items it defines (types, functions, constants, statics, traits).
    pub(crate) items: BTreeSet<String>,
    /// Names of the `macro_rules!` macros it defines.
    pub(crate) macros: BTreeSet<String>,
    /// `use` leaves written in it: local name (none for `as _` and globs) and full path.
    pub(crate) imports: Vec<Import>,
    /// Bare identifiers of its code: a `pub use` ties its file only when the name is used
    /// there too, not when it only passes the name on.
    pub(crate) bare_names: BTreeSet<String>,
}

/// One leaf of a `use` tree.
#[derive(Debug, Clone)]
pub(crate) struct Import {
    /// The name it brings into scope; `None` for `as _` and for globs.
    pub(crate) local: Option<String>,
    /// The path as written (`crate`, `super`, `self` kept as segments).
    pub(crate) path: Vec<String>,
    pub(crate) glob: bool,
    /// Written `pub use` (any visibility): a re-export.
    pub(crate) public: bool,
}

/// A path written in a file that may name something of the crate: a `use` leaf, or a path
/// of two segments or more in code (`crate::x::f()`, `super::Thing`, `module::f`).
#[derive(Debug)]
pub(crate) struct Reference {
    pub(crate) file: FileId,
    /// The module the path is resolved from.
    pub(crate) module: ModId,
    pub(crate) path: Vec<String>,
    /// A bare `name!(…)` call: resolved in the macro scope of the module and its ancestors.
    pub(crate) macro_call: bool,
}

/// Everything the scan of one crate target found.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    pub(crate) files: Vec<PathBuf>,
    pub(crate) modules: Vec<Module>,
    pub(crate) references: Vec<Reference>,
    /// `mod x;` declarations whose file was not found, as `declaring file: x`.
    pub(crate) missing: Vec<String>,
}

impl Tree {
    pub(crate) fn add_module(&mut self, name: &str, parent: Option<ModId>, file: FileId) -> ModId {
        let id = self.modules.len();
        self.modules.push(Module {
            name: name.to_owned(),
            parent,
            file,
            ..Module::default()
        });
        if let Some(parent) = parent {
            self.modules[parent].children.insert(name.to_owned(), id);
        }
        id
    }
}
