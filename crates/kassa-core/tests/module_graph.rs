//! The core's modules import each other in one direction only: no two top-level modules of
//! `src/` depend on each other, directly or through others. A circle means neither can be
//! read, tested or split without the other (the reason `http` knows no provider and a
//! provider knows no `checkout`).
//!
//! How: every `.rs` file under `src/` belongs to a top-level module (`src/till/view.rs` to
//! `till`). Its code (comments, strings and char literals removed) is searched for paths that
//! start with `crate::` (`crate::x::…`, `crate::{x, y::…}`) or `super::` naming another
//! top-level module; an item of the crate root is followed to the module `lib.rs` re-exports it
//! from. The test fails on any cycle in that graph and names it. The last test runs the same
//! code on a made-up crate with a cycle, so the check is known to be able to fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module → the modules its code names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The source with comments, string and char literals blanked out (lifetimes kept), so that
/// `// see crate::x` or `"crate::x"` is not a dependency.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == b'/' && next == Some(b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && next == Some(b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == b'r' && matches!(next, Some(b'"' | b'#')) && !ident_before(b, i) {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push('r');
                i += 1;
                continue;
            }
            j += 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            while j < b.len() && !b[j..].starts_with(&close) {
                j += 1;
            }
            i = j + close.len();
            out.push_str("\"\"");
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == b'\'' {
            // A char literal ('x', '\n', '\u{1}') or a lifetime ('a).
            let is_char = next == Some(b'\\') || b.get(i + 2) == Some(&b'\'') || {
                // A multi-byte char: 'é'.
                let rest = &src[i + 1..];
                let ch = rest.chars().next().map_or(0, char::len_utf8);
                ch > 1 && rest.as_bytes().get(ch) == Some(&b'\'')
            };
            if is_char {
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("' '");
            } else {
                out.push('\'');
                i += 1;
            }
        } else {
            let ch = src[i..].chars().next().expect("inside the text");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Whether the byte before `i` continues an identifier (so `r` at `i` is not a raw string).
fn ident_before(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// The identifier at the start of `s`.
fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first-level names of a `{a, b::c, d as e}` group at the start of `s` (after `{`).
fn group_names(s: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut depth = 0;
    let mut at_start = true;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_start = true,
            c if c.is_whitespace() => {}
            _ if at_start && depth == 0 => {
                at_start = false;
                names.push(ident(&s[i..]));
            }
            _ => {}
        }
    }
    names
}

/// The top-level names a piece of code reaches through `crate::` (and `super::`, which in a
/// file of a top-level module can only reach the crate root or the module itself).
fn named(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for prefix in ["crate::", "super::"] {
        for (i, _) in code.match_indices(prefix) {
            if ident_before(code.as_bytes(), i) {
                continue;
            }
            let rest = &code[i + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                found.extend(group_names(group).into_iter().map(str::to_string));
            } else {
                found.insert(ident(rest).to_string());
            }
        }
    }
    found
}

/// The top-level modules `lib.rs` declares, and the root items it re-exports from them
/// (`pub use quote::{price, PricedOrder}` → `price` and `PricedOrder` are `quote`'s).
fn root(lib: &str) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let code = code_only(lib);
    let mut modules = BTreeSet::new();
    let mut items = BTreeMap::new();
    for stmt in code.split(';') {
        let words: Vec<&str> = stmt.split_whitespace().collect();
        if let Some(p) = words.iter().position(|w| *w == "mod") {
            if let Some(name) = words.get(p + 1) {
                modules.insert(ident(name).to_string());
            }
        }
        if let Some(p) = stmt.find("use ") {
            let path = stmt[p + 4..].trim();
            let module = ident(path).to_string();
            let rest = &path[module.len()..];
            let names = match rest.strip_prefix("::{") {
                Some(group) => group_names(group),
                None => vec![rest.rsplit("::").next().map_or("", ident)],
            };
            for n in names {
                items.insert(n.to_string(), module.clone());
            }
        }
    }
    // An item defined in lib.rs itself would be a module of its own, with dependencies this
    // test does not see: lib.rs only declares modules and re-exports their items.
    assert!(
        !code.contains("fn ") && !code.contains("struct ") && !code.contains("enum "),
        "lib.rs defines an item: move it into a module and re-export it"
    );
    (modules, items)
}

/// The graph of a crate given as (path below `src/`, text) pairs.
fn graph(files: &[(PathBuf, String)]) -> Graph {
    let lib = files
        .iter()
        .find(|(p, _)| p == Path::new("lib.rs"))
        .map(|(_, t)| t.as_str())
        .expect("src/lib.rs");
    let (modules, items) = root(lib);
    let resolve = |name: &str| -> Option<String> {
        if modules.contains(name) {
            Some(name.to_string())
        } else {
            items.get(name).cloned()
        }
    };
    let mut g: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for (path, text) in files {
        let Some(first) = path.components().next() else {
            continue;
        };
        let first = first.as_os_str().to_string_lossy();
        let module = first.strip_suffix(".rs").unwrap_or(&first).to_string();
        if module == "lib" {
            continue;
        }
        assert!(
            modules.contains(&module),
            "{} is not below a module lib.rs declares",
            path.display()
        );
        for m in named(&code_only(text)).iter().filter_map(|n| resolve(n)) {
            if m != module {
                g.entry(module.clone()).or_default().insert(m);
            }
        }
    }
    g
}

/// One cycle of the graph (`a → b → a`), if there is one.
fn cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(
        g: &Graph,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut c = path[start..].to_vec();
            c.push(node.to_string());
            return Some(c);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in g.get(node).into_iter().flatten() {
            if let Some(c) = visit(g, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys()
        .find_map(|n| visit(g, n, &mut Vec::new(), &mut done))
}

fn sources(dir: &Path, below: &Path, out: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).expect("a readable src directory") {
        let path = entry.expect("a readable entry").path();
        let rel = below.join(path.file_name().expect("a name"));
        if path.is_dir() {
            sources(&path, &rel, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((
                rel,
                std::fs::read_to_string(&path).expect("readable source"),
            ));
        }
    }
}

fn core() -> Graph {
    let mut files = Vec::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    sources(&src, Path::new(""), &mut files);
    graph(&files)
}

#[test]
fn the_core_modules_import_each_other_in_one_direction() {
    let g = core();
    assert!(g.len() > 10, "the modules were found: {g:?}");
    if let Some(c) = cycle(&g) {
        panic!(
            "the core's modules import each other in a circle: {}",
            c.join(" → ")
        );
    }
}

#[test]
fn http_depends_on_nothing_else_in_the_core() {
    let g = core();
    assert_eq!(g["http"], BTreeSet::new(), "http imports");
}

#[test]
fn the_check_finds_a_cycle_and_ignores_comments_and_strings() {
    let file = |p: &str, t: &str| (PathBuf::from(p), t.to_string());
    let files = [
        file(
            "lib.rs",
            "pub mod a;\npub mod b;\nmod c;\npub use c::{Thing, other};",
        ),
        file(
            "a.rs",
            "use crate::b::x;\n// crate::c in a comment\nconst S: &str = \"crate::c\";",
        ),
        file(
            "b/mod.rs",
            "fn f<'a>(x: &'a str) -> char { crate::Thing; 'x' }",
        ),
        file("b/inner.rs", "use crate::{c::y, a};"),
        file("c.rs", "const R: &str = r#\"crate::a\"#;"),
    ];
    let g = graph(&files);
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(g["a"], set(&["b"]));
    assert_eq!(g["b"], set(&["a", "c"]), "crate::Thing is c's");
    assert_eq!(g["c"], set(&[]));
    assert_eq!(
        cycle(&g).map(|c| c.join(" → ")).as_deref(),
        Some("a → b → a")
    );
    let mut acyclic = g.clone();
    acyclic.get_mut("b").unwrap().remove("a");
    assert_eq!(cycle(&acyclic), None);
}

/// The identifiers of a piece of code.
fn identifiers(code: &str) -> BTreeSet<&str> {
    code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// What every provider builds on (the shared helpers, the client base, the error type, the
/// registry's types) names no single provider, so adding or changing one provider touches
/// only its own folder and the registry line in `provider/mod.rs`.
#[test]
fn the_shared_provider_modules_name_no_provider() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/provider");
    let providers: Vec<String> = std::fs::read_dir(&dir)
        .expect("src/provider")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(providers.len() >= 5, "{providers:?}");
    let mut shared = 0;
    for entry in std::fs::read_dir(&dir).expect("src/provider") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() || name == "mod.rs" {
            continue;
        }
        shared += 1;
        let code = code_only(&std::fs::read_to_string(&path).expect("readable"));
        let ids = identifiers(&code);
        for p in &providers {
            assert!(!ids.contains(p.as_str()), "provider/{name} names {p}");
        }
    }
    assert!(shared >= 3, "the shared modules were found");
}
