use std::path::PathBuf;

use super::*;
use crate::sources::MemorySources;

fn loops_of(sources: &MemorySources) -> Vec<Loop> {
    match crate_loops("src/lib.rs".as_ref(), sources) {
        Ok(report) => {
            assert!(report.missing.is_empty(), "{:?}", report.missing);
            report.loops
        }
        Err(e) => panic!("{e}"),
    }
}

fn files(found: &Loop) -> Vec<&str> {
    found.files.iter().filter_map(|p| p.to_str()).collect()
}

#[test]
fn a_loop_is_found_with_the_names_that_tie_it() {
    let sources = MemorySources::new()
        .with("src/lib.rs", "mod a;\nmod b;\n")
        .with("src/a.rs", "use crate::b::{B, helper};\npub struct A;\n")
        .with(
            "src/b.rs",
            "pub struct B;\npub fn helper(_: super::a::A) {}\n",
        );
    let found = loops_of(&sources);
    assert_eq!(found.len(), 1);
    assert_eq!(files(&found[0]), ["src/a.rs", "src/b.rs"]);
    let ties: Vec<(PathBuf, Vec<String>)> = found[0]
        .ties
        .iter()
        .map(|t| (t.from.clone(), t.names.clone()))
        .collect();
    assert_eq!(
        ties,
        [
            (
                PathBuf::from("src/a.rs"),
                vec!["B".to_owned(), "helper".to_owned()]
            ),
            (PathBuf::from("src/b.rs"), vec!["A".to_owned()]),
        ]
    );
}

#[test]
fn no_loop_when_the_imports_go_one_way() {
    let sources = MemorySources::new()
        .with("src/lib.rs", "mod a;\nmod b;\npub use a::A;\n")
        .with("src/a.rs", "pub struct A(crate::b::B);\n")
        .with("src/b.rs", "pub struct B;\n");
    assert!(loops_of(&sources).is_empty());
}

#[test]
fn a_reexport_is_followed_to_the_defining_file() {
    // `crate::C` names c.rs's item, not lib.rs; lib.rs only passes it on.
    let sources = MemorySources::new()
        .with("src/lib.rs", "mod a;\nmod c;\npub use c::C;\n")
        .with("src/a.rs", "pub struct A;\nfn f(_: &crate::C) {}\n")
        .with("src/c.rs", "use crate::a::A;\npub struct C(A);\n");
    let found = loops_of(&sources);
    assert_eq!(found.len(), 1);
    assert_eq!(files(&found[0]), ["src/a.rs", "src/c.rs"]);
}

#[test]
fn a_reexport_through_a_module_and_a_rename_is_followed() {
    let sources = MemorySources::new()
        .with("src/lib.rs", "mod a;\nmod m;\n")
        .with(
            "src/m/mod.rs",
            "mod deep;\npub(crate) use self::deep::Deep as Renamed;\n",
        )
        .with("src/m/deep.rs", "pub struct Deep(crate::a::A);\n")
        .with("src/a.rs", "use crate::m::Renamed;\npub struct A;\n");
    let found = loops_of(&sources);
    assert_eq!(found.len(), 1);
    assert_eq!(files(&found[0]), ["src/a.rs", "src/m/deep.rs"]);
    assert_eq!(found[0].ties[0].names, ["Deep"]);
}

#[test]
fn a_reexport_used_by_its_own_file_ties_it() {
    // m/mod.rs re-exports Child and uses it; child.rs uses m's Shared: a loop.
    let sources = MemorySources::new()
        .with("src/lib.rs", "mod m;\n")
        .with(
            "src/m/mod.rs",
            "mod child;\npub use child::Child;\npub struct Shared;\nfn make() -> Child { Child }\n",
        )
        .with("src/m/child.rs", "use super::Shared;\npub struct Child;\n");
    let found = loops_of(&sources);
    assert_eq!(found.len(), 1);

    // The same re-export passed on only: no loop.
    let sources = MemorySources::new()
        .with("src/lib.rs", "mod m;\n")
        .with(
            "src/m/mod.rs",
            "mod child;\npub use child::Child;\npub struct Shared;\n",
        )
        .with("src/m/child.rs", "use super::Shared;\npub struct Child;\n");
    assert!(loops_of(&sources).is_empty());
}

#[test]
fn test_code_is_ignored() {
    let sources = MemorySources::new()
        .with("src/lib.rs", "mod a;\nmod b;\n")
        .with(
            "src/a.rs",
            "pub struct A;\n\
             #[cfg(test)]\nmod tests { use crate::b::B; }\n\
             #[cfg(test)]\nmod more;\n\
             #[cfg(all(test, feature = \"x\"))]\nuse crate::b::B as _;\n\
             #[test]\nfn t() { let _ = crate::b::B; }\n",
        )
        // Never read: its `mod` is test-only.
        .with("src/a/more.rs", "use crate::b::B;\n")
        .with("src/b.rs", "pub struct B(crate::a::A);\n");
    assert!(loops_of(&sources).is_empty());
}

#[test]
fn grouped_and_nested_imports_and_inline_paths_tie() {
    let sources = MemorySources::new()
        .with("src/lib.rs", "mod a;\nmod b;\nmod c;\n")
        .with(
            "src/a.rs",
            "use crate::{b::{self, inner::{Deep}}};\npub struct A;\n",
        )
        .with(
            "src/b.rs",
            "pub mod inner { pub struct Deep; }\npub fn f() {}\n",
        )
        .with(
            "src/c.rs",
            "pub fn g() { let x = format!(\"{:?}\", crate::a::A); super::b::f(); }\n",
        );
    let found = loops_of(&sources);
    assert!(found.is_empty(), "{found:?}");

    // b.rs now reaches back to a.rs through a path in a macro call.
    let sources = sources.with(
        "src/b.rs",
        "pub mod inner { pub struct Deep; }\npub fn f() { let _ = vec![crate::a::A]; }\n",
    );
    let found = loops_of(&sources);
    assert_eq!(found.len(), 1);
    assert_eq!(files(&found[0]), ["src/a.rs", "src/b.rs"]);
}

#[test]
fn a_child_module_path_ties_the_parent_to_the_child() {
    let sources = MemorySources::new()
        .with("src/lib.rs", "mod m;\n")
        .with(
            "src/m/mod.rs",
            "mod grpc;\npub struct Call;\npub fn run() { grpc::unary(); }\n",
        )
        .with("src/m/grpc.rs", "pub fn unary() { let _ = super::Call; }\n");
    let found = loops_of(&sources);
    assert_eq!(found.len(), 1);
    let names: Vec<&[String]> = found[0].ties.iter().map(|t| t.names.as_slice()).collect();
    assert_eq!(names, [["Call".to_owned()], ["unary".to_owned()]]);
}

#[test]
fn path_attributes_and_macros_are_followed() {
    let sources = MemorySources::new()
        .with("src/lib.rs", "macro_rules! shout { () => {} }\n#[path = \"other/place.rs\"]\nmod a;\npub struct Root;\n")
        .with("src/other/place.rs", "pub fn f() { shout!(); }\n");
    // place.rs -> lib.rs (the macro); nothing back.
    assert!(loops_of(&sources).is_empty());
    let sources = sources.with(
        "src/lib.rs",
        "macro_rules! shout { () => {} }\n#[path = \"other/place.rs\"]\nmod a;\npub fn root() { a::f(); }\n",
    );
    let found = loops_of(&sources);
    assert_eq!(files(&found[0]), ["src/lib.rs", "src/other/place.rs"]);
}

#[test]
fn a_visibility_path_is_not_an_import() {
    let sources = MemorySources::new()
        .with("src/lib.rs", "mod m;\n")
        .with(
            "src/m/mod.rs",
            "mod child;\npub fn run() { child::go(); }\n",
        )
        .with(
            "src/m/child.rs",
            "pub(in super::super) struct Hidden;\npub(super) fn go() {}\n",
        );
    assert!(loops_of(&sources).is_empty());
}

#[test]
fn a_missing_module_file_is_reported() {
    let sources = MemorySources::new().with("src/lib.rs", "mod gone;\n");
    let report = crate_loops("src/lib.rs".as_ref(), &sources).map_err(|e| e.to_string());
    assert_eq!(
        report.map(|r| r.missing),
        Ok(vec!["src/lib.rs: mod gone".to_owned()])
    );
}
