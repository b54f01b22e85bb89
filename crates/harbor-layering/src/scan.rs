//! Reads a crate target's module tree from its entry file: which module lives in which file,
//! what each defines and imports, and every path that may name something of the crate.
//!
//! Token trees, not a full parse: items are told apart by their leading keyword and end at
//! their first top-level `;` or `{ … }` body, which is all the layering needs.

use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use crate::error::Error;
use crate::model::{FileId, ModId, Reference, Tree};
use crate::sources::Sources;
use crate::tokens::{
    after_path_sep, attr_is_test_only, ident, is_path_sep, is_punct, path_attr_value, unraw,
};
use crate::use_tree::parse_use;

/// Scans the target whose root file (`lib.rs`, `main.rs`) is `entry`.
pub(crate) fn scan_crate(entry: &Path, sources: &dyn Sources) -> Result<Tree, Error> {
    let text = sources
        .read(entry)
        .ok_or_else(|| Error::Read(entry.to_path_buf()))?;
    let mut scanner = Scanner {
        tree: Tree::default(),
        sources,
    };
    let dir = entry.parent().unwrap_or(Path::new("")).to_path_buf();
    let file = scanner.add_file(entry);
    let root = scanner.tree.add_module("crate", None, file);
    scanner.file(root, file, &text, &dir)?;
    let mut tree = scanner.tree;
    // A re-export ties its file only where the file uses the name itself.
    for (id, module) in tree.modules.iter().enumerate() {
        let used = module.imports.iter().filter(|i| {
            i.public
                && i.local
                    .as_ref()
                    .is_some_and(|n| module.bare_names.contains(n))
        });
        let used: Vec<Reference> = used
            .map(|i| Reference {
                file: module.file,
                module: id,
                path: i.path.clone(),
                macro_call: false,
            })
            .collect();
        tree.references.extend(used);
    }
    Ok(tree)
}

struct Scanner<'a> {
    tree: Tree,
    sources: &'a dyn Sources,
}

/// Where a module's `mod x;` declarations look for their files.
struct Dirs<'d> {
    /// `x.rs` and `x/mod.rs` are looked for here.
    children: &'d Path,
    /// `#[path = "…"]` is relative to the directory of the declaring file.
    file: &'d Path,
}

impl Scanner<'_> {
    fn add_file(&mut self, path: &Path) -> FileId {
        self.tree.files.push(path.to_path_buf());
        self.tree.files.len() - 1
    }

    fn file(
        &mut self,
        module: ModId,
        file: FileId,
        text: &str,
        children: &Path,
    ) -> Result<(), Error> {
        let path = self.tree.files[file].clone();
        let tokens: Vec<TokenTree> = text
            .parse::<TokenStream>()
            .map_err(|e| Error::Lex {
                path: path.clone(),
                message: e.to_string(),
            })?
            .into_iter()
            .collect();
        let file_dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let dirs = Dirs {
            children,
            file: &file_dir,
        };
        self.items(&tokens, module, file, &dirs)
    }

    /// The items of one module body.
    fn items(
        &mut self,
        tokens: &[TokenTree],
        module: ModId,
        file: FileId,
        dirs: &Dirs<'_>,
    ) -> Result<(), Error> {
        let mut i = 0;
        while i < tokens.len() {
            let mut test_only = false;
            let mut path_attr = None;
            // Outer attributes (`#[…]`) belong to the item; inner ones (`#![…]`) are skipped.
            while is_punct(tokens.get(i), '#') {
                let inner = is_punct(tokens.get(i + 1), '!');
                let at = if inner { i + 2 } else { i + 1 };
                let Some(TokenTree::Group(group)) = tokens.get(at) else {
                    break;
                };
                if group.delimiter() != Delimiter::Bracket {
                    break;
                }
                if !inner {
                    let attr: Vec<TokenTree> = group.stream().into_iter().collect();
                    test_only |= attr_is_test_only(&attr);
                    path_attr = path_attr.or_else(|| path_attr_value(&attr));
                }
                i = at + 1;
            }
            if i >= tokens.len() {
                break;
            }
            let end = item_end(tokens, i);
            if !test_only {
                self.item(&tokens[i..end], module, file, dirs, path_attr.as_deref())?;
            }
            i = end;
        }
        Ok(())
    }

    fn item(
        &mut self,
        item: &[TokenTree],
        module: ModId,
        file: FileId,
        dirs: &Dirs<'_>,
        path_attr: Option<&str>,
    ) -> Result<(), Error> {
        let start = skip_qualifiers(item);
        let keyword = ident(item.get(start));
        let name = ident(item.get(start + 1));
        match keyword.as_deref() {
            Some("use") => {
                let public = ident(item.first()).as_deref() == Some("pub");
                self.use_item(&item[start + 1..], module, file, public);
                return Ok(());
            }
            Some("mod") => {
                let Some(name) = name else { return Ok(()) };
                return match item.get(start + 2) {
                    Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => {
                        let inline = self.tree.add_module(&name, Some(module), file);
                        let children = dirs.children.join(&name);
                        let body: Vec<TokenTree> = body.stream().into_iter().collect();
                        let dirs = Dirs {
                            children: &children,
                            file: dirs.file,
                        };
                        self.items(&body, inline, file, &dirs)
                    }
                    _ => self.file_module(&name, module, file, dirs, path_attr),
                };
            }
            Some("struct" | "enum" | "union" | "trait" | "type" | "fn" | "const" | "static") => {
                let name = if name.as_deref() == Some("mut") {
                    ident(item.get(start + 2))
                } else {
                    name
                };
                if let Some(name) = name.filter(|n| n != "_") {
                    self.tree.modules[module].items.insert(name);
                }
            }
            Some("macro_rules") if is_punct(item.get(start + 1), '!') => {
                if let Some(name) = ident(item.get(start + 2)) {
                    self.tree.modules[module].macros.insert(name);
                }
            }
            _ => {}
        }
        self.references(item, module, file);
        Ok(())
    }

    /// `mod name;`: the file is `name.rs` or `name/mod.rs` beside the declaring module's
    /// children, or the `#[path]` given.
    fn file_module(
        &mut self,
        name: &str,
        parent: ModId,
        file: FileId,
        dirs: &Dirs<'_>,
        path_attr: Option<&str>,
    ) -> Result<(), Error> {
        let candidates: Vec<(PathBuf, PathBuf)> = match path_attr {
            Some(path) => {
                let path = dirs.file.join(path);
                let children = path.parent().unwrap_or(Path::new("")).to_path_buf();
                vec![(path, children)]
            }
            None => vec![
                (
                    dirs.children.join(format!("{name}.rs")),
                    dirs.children.join(name),
                ),
                (
                    dirs.children.join(name).join("mod.rs"),
                    dirs.children.join(name),
                ),
            ],
        };
        for (path, children) in candidates {
            if let Some(text) = self.sources.read(&path) {
                let child_file = self.add_file(&path);
                let module = self.tree.add_module(name, Some(parent), child_file);
                return self.file(module, child_file, &text, &children);
            }
        }
        let declaring = self.tree.files[file].display().to_string();
        self.tree.missing.push(format!("{declaring}: mod {name}"));
        Ok(())
    }

    /// A `use` item; a `pub use` is a re-export and ties its file only if the name is used
    /// there (see [`scan_crate`]).
    fn use_item(&mut self, tokens: &[TokenTree], module: ModId, file: FileId, public: bool) {
        let mut imports = Vec::new();
        parse_use(tokens, &[], &mut imports);
        for mut import in imports {
            import.public = public;
            if public {
                self.tree.modules[module].imports.push(import);
                continue;
            }
            self.tree.references.push(Reference {
                file,
                module,
                path: import.path.clone(),
                macro_call: false,
            });
            self.tree.modules[module].imports.push(import);
        }
    }

    /// Every path in `tokens` (recursively) that starts a path of two segments or more, every
    /// bare `name!` call, and every `use` inside a body.
    fn references(&mut self, tokens: &[TokenTree], module: ModId, file: FileId) {
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(group) => {
                    let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                    self.references(&inner, module, file);
                }
                TokenTree::Ident(word) if !after_path_sep(tokens, i) => {
                    let word = unraw(&word.to_string());
                    // `pub(in super::super)` names where an item is visible, not an import.
                    if word == "pub"
                        && matches!(tokens.get(i + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
                    {
                        i += 2;
                        continue;
                    }
                    if word == "use" {
                        let end = (i + 1..tokens.len())
                            .find(|&j| is_punct(tokens.get(j), ';'))
                            .unwrap_or(tokens.len());
                        self.use_item(&tokens[i + 1..end], module, file, false);
                        i = end;
                        continue;
                    }
                    if is_path_sep(tokens, i + 1) {
                        let mut path = vec![word];
                        // `j` is the last segment read; stops before `::<…>` and `::{…}`.
                        let mut j = i;
                        while is_path_sep(tokens, j + 1) {
                            let Some(next) = ident(tokens.get(j + 3)) else {
                                break;
                            };
                            path.push(next);
                            j += 3;
                        }
                        self.tree.references.push(Reference {
                            file,
                            module,
                            path,
                            macro_call: false,
                        });
                        i = j + 1;
                        continue;
                    }
                    if is_punct(tokens.get(i + 1), '!')
                        && matches!(tokens.get(i + 2), Some(TokenTree::Group(_)))
                    {
                        self.tree.references.push(Reference {
                            file,
                            module,
                            path: vec![word],
                            macro_call: true,
                        });
                    } else {
                        self.tree.modules[module].bare_names.insert(word);
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// Index one past the item that starts at `start`: its first top-level `;`, or its `{ … }`
/// body (constants, statics, type aliases and `use` only end at `;`).
fn item_end(tokens: &[TokenTree], start: usize) -> usize {
    let at = skip_qualifiers(&tokens[start..]) + start;
    let semicolon_only = matches!(
        ident(tokens.get(at)).as_deref(),
        Some("const" | "static" | "type" | "use")
    );
    for (j, token) in tokens.iter().enumerate().skip(start) {
        match token {
            TokenTree::Punct(p) if p.as_char() == ';' => return j + 1,
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace && !semicolon_only => {
                return j + 1;
            }
            _ => {}
        }
    }
    tokens.len()
}

/// Index of the item's keyword, past visibility and qualifiers (`pub(crate) unsafe fn`).
fn skip_qualifiers(item: &[TokenTree]) -> usize {
    let mut i = 0;
    loop {
        match ident(item.get(i)).as_deref() {
            Some("pub") => {
                i += 1;
                if let Some(TokenTree::Group(g)) = item.get(i)
                    && g.delimiter() == Delimiter::Parenthesis
                {
                    i += 1;
                }
            }
            Some("unsafe" | "async" | "default" | "safe") => i += 1,
            Some("extern") => {
                i += 1;
                if let Some(TokenTree::Literal(_)) = item.get(i) {
                    i += 1;
                }
            }
            Some("const")
                if matches!(
                    ident(item.get(i + 1)).as_deref(),
                    Some("fn" | "unsafe" | "async" | "extern")
                ) =>
            {
                i += 1
            }
            _ => return i,
        }
    }
}
