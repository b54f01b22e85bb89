//! Resolves the paths found by the scan to the file that defines what they name, following
//! `use` and `pub use` (re-exports) through as many modules as it takes.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{FileId, ModId, Reference, Tree};

/// Past this many hops through imports a path is given up on (an import cycle, which rustc
/// refuses anyway).
const MAX_DEPTH: u8 = 24;

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Module(ModId),
    /// An item, by the module that defines it and its name.
    Item(ModId, String),
}

/// Edges between files: `(from, to)` and the names `from` takes from `to`.
pub(crate) type Edges = BTreeMap<(FileId, FileId), BTreeSet<String>>;

/// The file-level import graph of a scanned tree.
pub(crate) fn edges(tree: &Tree) -> Edges {
    let resolver = Resolver { tree };
    let mut edges = Edges::new();
    for reference in &tree.references {
        let Some(target) = resolver.reference(reference) else {
            continue;
        };
        let (file, name) = match target {
            Target::Module(m) => (tree.modules[m].file, tree.modules[m].name.clone()),
            Target::Item(m, name) => (tree.modules[m].file, name),
        };
        if file != reference.file {
            edges
                .entry((reference.file, file))
                .or_default()
                .insert(name);
        }
    }
    edges
}

struct Resolver<'t> {
    tree: &'t Tree,
}

impl Resolver<'_> {
    fn reference(&self, reference: &Reference) -> Option<Target> {
        if reference.macro_call {
            let name = reference.path.first()?;
            return self.macro_in_scope(reference.module, name);
        }
        self.path(reference.module, &reference.path, 0)
    }

    /// A bare macro call: a `macro_rules!` of this module or an ancestor (textual scope), or
    /// one imported by name.
    fn macro_in_scope(&self, from: ModId, name: &str) -> Option<Target> {
        let mut module = Some(from);
        while let Some(m) = module {
            let here = &self.tree.modules[m];
            if here.macros.contains(name) {
                return Some(Target::Item(m, name.to_owned()));
            }
            let imported = here
                .imports
                .iter()
                .filter(|i| !i.glob && i.local.as_deref() == Some(name))
                .find_map(|i| self.path(m, &i.path, 1));
            if imported.is_some() {
                return imported;
            }
            module = here.parent;
        }
        None
    }

    fn path(&self, from: ModId, path: &[String], depth: u8) -> Option<Target> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (first, rest) = path.split_first()?;
        let mut target = match first.as_str() {
            "crate" => Target::Module(0),
            "self" => Target::Module(from),
            "super" => Target::Module(self.tree.modules[from].parent?),
            "Self" => return None,
            name => self.name(from, name, depth)?,
        };
        for segment in rest {
            let Target::Module(m) = target else {
                // A variant or an associated item: the item's own file is what is named.
                break;
            };
            target = match segment.as_str() {
                "super" => Target::Module(self.tree.modules[m].parent?),
                "self" => Target::Module(m),
                name => self.name(m, name, depth)?,
            };
        }
        Some(target)
    }

    /// `name` in the scope of module `m`: a child module, an item it defines, a name it
    /// imports (followed to its definition), or a name of a module it glob-imports.
    fn name(&self, m: ModId, name: &str, depth: u8) -> Option<Target> {
        let module = &self.tree.modules[m];
        if let Some(&child) = module.children.get(name) {
            return Some(Target::Module(child));
        }
        if module.items.contains(name) || module.macros.contains(name) {
            return Some(Target::Item(m, name.to_owned()));
        }
        let named = module
            .imports
            .iter()
            .filter(|i| !i.glob && i.local.as_deref() == Some(name))
            .find_map(|i| self.path(m, &i.path, depth + 1));
        if named.is_some() {
            return named;
        }
        module.imports.iter().filter(|i| i.glob).find_map(|i| {
            match self.path(m, &i.path, depth + 1)? {
                Target::Module(t) if t != m => self.name(t, name, depth + 1),
                _ => None,
            }
        })
    }
}
