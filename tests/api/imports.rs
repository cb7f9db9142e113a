//! No circle of imports between the modules of `functions/`: each module's `crate::`, `super::`
//! and relative `use` paths are read from its source, and the graph they form must have no
//! strongly connected component of more than one module. A circle (a handler importing the
//! OpenAPI module that imports every handler) is what the registry replaced; this keeps it gone.
//!
//! The reading is textual on purpose, and so conservative: a path that names a module counts
//! wherever it appears outside a comment, also in a function body.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use harness::repository;

/// A module's path below the crate root: `[]` for lib.rs, `["auth", "login"]` for auth/login.rs.
type ModulePath = Vec<String>;

#[test]
fn the_modules_of_functions_import_each_other_without_a_circle() -> anyhow::Result<()> {
    let source = repository::existing("functions/src")?;
    let modules = modules_under(&source)?;
    assert!(
        modules.len() > 40,
        "found only {} modules under {}",
        modules.len(),
        source.display()
    );
    let graph = import_graph(&modules);
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    assert!(
        edges > 40,
        "only {edges} imports found between modules: the reader is broken"
    );
    let circles: Vec<Vec<String>> = strongly_connected(&graph)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| component.iter().map(display).collect())
        .collect();
    assert!(
        circles.is_empty(),
        "circles of imports in functions/: {circles:?}"
    );
    Ok(())
}

#[test]
fn the_reader_finds_a_circle_it_is_shown() {
    let text = |body: &str| body.to_owned();
    let modules = BTreeMap::from([
        (vec![], text("pub mod a;\npub mod b;\npub use b::Thing;")),
        (
            vec!["a".to_owned()],
            text("use crate::{b::{self, Thing}, Other};\n// crate::c"),
        ),
        (vec!["b".to_owned()], text("pub fn f() { super::a::g() }")),
        (
            vec!["c".to_owned()],
            text("pub mod e;\nuse crate::a;\npub fn h() { e::f() }"),
        ),
        (
            vec!["d".to_owned()],
            text("use crate::{c as see};\nconst X: u8 = see::Y;"),
        ),
        (
            vec!["c".to_owned(), "e".to_owned()],
            text("fn f() { crate::d::g() }"),
        ),
    ]);
    let graph = import_graph(&modules);
    let components = strongly_connected(&graph);
    let circle: Vec<&ModulePath> = components
        .iter()
        .find(|c| c.len() > 1)
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(circle.len(), 3, "lib → b, a → lib and b, b → a: {components:?}");
    assert!(
        !circle.contains(&&vec!["c".to_owned()]),
        "c imports a, nothing imports c, and the comment is no import"
    );
    let second = components.iter().filter(|c| c.len() > 1).count();
    assert_eq!(
        second, 2,
        "d → c (through its alias), c::e → d, c → c::e (a child it names): {components:?}"
    );
}

#[test]
fn globs_comments_raw_identifiers_and_inline_test_modules_are_read_as_rust_reads_them() {
    let module = |path: &str| -> ModulePath {
        path.split("::")
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let modules = BTreeMap::from([
        (module(""), "pub mod p;".to_owned()),
        (module("p"), "pub mod x;\npub mod y;\npub use y::g;".to_owned()),
        (
            module("p::x"),
            "use super::*;\npub fn f() { let r#type = 1; y::g() } // a 5\" screen\n".to_owned(),
        ),
        (
            module("p::y"),
            "/* a \"quote */ pub fn g() { crate::p::x::f() }\n#[cfg(test)]\nmod tests { use super::*; fn t() { super::g() } }"
                .to_owned(),
        ),
    ]);
    let graph = import_graph(&modules);
    let set = |paths: &[&str]| paths.iter().map(|p| module(p)).collect::<BTreeSet<_>>();
    assert_eq!(
        graph[&module("p::x")],
        set(&["p", "p::y"]),
        "the glob itself, and y named through it"
    );
    assert_eq!(
        graph[&module("p::y")],
        set(&["p::x"]),
        "the quote in a comment hides nothing; tests' super is y"
    );
    let components = strongly_connected(&graph);
    assert!(
        components.iter().any(|c| c.len() == 3),
        "x → p (glob) → y (re-export) → x is a circle: {components:?}"
    );
}

fn display(module: &ModulePath) -> String {
    if module.is_empty() {
        "lib.rs".to_owned()
    } else {
        module.join("::")
    }
}

/// Every `.rs` file under `source` except binaries, by module path, with its text.
fn modules_under(source: &Path) -> anyhow::Result<BTreeMap<ModulePath, String>> {
    let mut modules = BTreeMap::new();
    let mut pending = vec![source.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let relative = path.strip_prefix(source)?;
            if relative.starts_with("bin") {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|extension| extension != "rs") {
                continue;
            }
            let mut module: ModulePath = relative
                .with_extension("")
                .iter()
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|last| last == "mod" || last == "lib") {
                module.pop();
            }
            modules.insert(module, std::fs::read_to_string(&path)?);
        }
    }
    Ok(modules)
}

/// Module → the other modules its text names.
fn import_graph(modules: &BTreeMap<ModulePath, String>) -> BTreeMap<ModulePath, BTreeSet<ModulePath>> {
    let known: BTreeSet<&ModulePath> = modules.keys().collect();
    // `#[macro_export]` puts a macro at the crate root; the module that defines it is the one used.
    let macro_homes: BTreeMap<String, &ModulePath> = modules
        .iter()
        .flat_map(|(module, text)| {
            let tokens = tokenize(text);
            let names: Vec<String> = tokens
                .windows(3)
                .filter(|window| window[0] == "macro_rules" && window[1] == "!")
                .map(|window| window[2].clone())
                .collect();
            names.into_iter().map(move |name| (name, module))
        })
        .collect();
    modules
        .iter()
        .map(|(module, text)| {
            let targets = paths_in(module, text, &known)
                .into_iter()
                .map(|path| {
                    match (
                        path.as_slice(),
                        macro_homes.get(path.last().map_or("", String::as_str)),
                    ) {
                        ([_], Some(home)) => (*home).clone(),
                        _ => longest_module_prefix(&path, &known),
                    }
                })
                .filter(|target| target != module)
                .collect();
            (module.clone(), targets)
        })
        .collect()
}

/// The longest prefix of `path` that is a module.
fn longest_module_prefix(path: &[String], known: &BTreeSet<&ModulePath>) -> ModulePath {
    (0..=path.len())
        .rev()
        .map(|length| path[..length].to_vec())
        .find(|prefix| known.contains(prefix))
        .unwrap_or_default()
}

/// The absolute paths `text` (the source of `module`) names: every `use` path, every `crate::`
/// and `super::` path, and every path that starts with a name standing for a module here (a child
/// module, or a module brought in by `use`, under its alias too). Groups `{a, b::c}` expand.
fn paths_in(module: &ModulePath, text: &str, known: &BTreeSet<&ModulePath>) -> Vec<Vec<String>> {
    let tokens = tokenize(text);
    let inline = inline_modules(&tokens);
    let mut module_names: BTreeMap<String, ModulePath> = known
        .iter()
        .filter(|other| other.len() == module.len() + 1 && other.starts_with(module))
        .map(|child| (child[module.len()].clone(), (*child).clone()))
        .collect();
    let mut paths = Vec::new();
    // First the `use` declarations (they name modules that later paths start from), then the rest.
    for uses in [true, false] {
        for (index, token) in tokens.iter().enumerate() {
            let previous = index.checked_sub(1).map(|before| tokens[before].as_str());
            // `mod child;` declares, it does not import: a child may use its parent's helpers.
            if matches!(previous, Some("::" | "$" | "mod" | ".")) || (previous == Some("use")) != uses {
                continue;
            }
            let (base, mut cursor) = match token.as_str() {
                "crate" | "super" | "self" if tokens.get(index + 1).is_some_and(|next| next == "::") => {
                    // Inside `mod tests { … }`, `super` is the file's own module.
                    let here: ModulePath = module.iter().chain(&inline[index]).cloned().collect();
                    let base = match token.as_str() {
                        "crate" => vec![],
                        "super" => here[..here.len().saturating_sub(1)].to_vec(),
                        _ => here,
                    };
                    (base, index + 2)
                }
                name if tokens.get(index + 1).is_some_and(|next| next == "::") => {
                    match module_names.get(name) {
                        Some(named) => (named[..named.len() - 1].to_vec(), index),
                        None => continue,
                    }
                }
                _ => continue,
            };
            for (mut path, alias) in tree(&tokens, &mut cursor, base) {
                // `use m::*;` brings m's child modules in by name.
                if path.last().is_some_and(|last| last == "*") {
                    path.pop();
                    if uses && known.contains(&path) {
                        for child in known
                            .iter()
                            .filter(|c| c.len() == path.len() + 1 && c.starts_with(&path))
                        {
                            module_names.insert(child[path.len()].clone(), (*child).clone());
                        }
                    }
                    paths.push(path);
                    continue;
                }
                if uses && known.contains(&path) {
                    let name = alias.or_else(|| path.last().cloned());
                    if let Some(name) = name {
                        module_names.insert(name, path.clone());
                    }
                }
                paths.push(path);
            }
        }
    }
    paths
}

/// Reads one use-tree at `cursor` (`a::b`, `a::{b, c::d}`, `a::b as c`, `a::*`) below `base`:
/// each path it names, with the alias it is given.
fn tree(tokens: &[String], cursor: &mut usize, base: ModulePath) -> Vec<(ModulePath, Option<String>)> {
    let mut path = base;
    while let Some(token) = tokens.get(*cursor) {
        match token.as_str() {
            "{" => {
                *cursor += 1;
                let mut paths = Vec::new();
                while tokens.get(*cursor).is_some_and(|token| token != "}") {
                    paths.extend(tree(tokens, cursor, path.clone()));
                    if tokens.get(*cursor).is_some_and(|token| token == ",") {
                        *cursor += 1;
                    }
                }
                *cursor += 1;
                return paths;
            }
            "self" => *cursor += 1,
            "super" => {
                path.pop();
                *cursor += 1;
            }
            name if name.starts_with(|c: char| c.is_alphanumeric() || c == '_') || name == "*" => {
                path.push(name.to_owned());
                *cursor += 1;
            }
            _ => break,
        }
        if tokens.get(*cursor).is_some_and(|token| token == "::") {
            *cursor += 1;
        } else {
            break;
        }
    }
    let alias = (tokens.get(*cursor).is_some_and(|token| token == "as"))
        .then(|| tokens.get(*cursor + 1).cloned())
        .flatten();
    if alias.is_some() {
        *cursor += 2;
    }
    vec![(path, alias)]
}

/// For each token, the inline modules (`mod tests { … }`) it sits in, innermost last.
fn inline_modules(tokens: &[String]) -> Vec<Vec<String>> {
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut at = Vec::with_capacity(tokens.len());
    for (index, token) in tokens.iter().enumerate() {
        match token.as_str() {
            "{" => {
                depth += 1;
                let declared = index >= 2 && tokens[index - 2] == "mod";
                if declared {
                    open.push((tokens[index - 1].clone(), depth));
                }
            }
            "}" => {
                open.retain(|(_, opened)| *opened < depth);
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        at.push(open.iter().map(|(name, _)| name.clone()).collect());
    }
    at
}

/// Words (raw identifiers without their `r#`), `::` and single punctuation; comments, and string,
/// raw string and char literals are skipped (SQL inside them says `crate` in no sense Rust means).
fn tokenize(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(&c) = chars.get(at) {
        let is_word = |c: char| c.is_alphanumeric() || c == '_';
        if is_word(c) {
            let start = at;
            while chars.get(at).is_some_and(|&c| is_word(c)) {
                at += 1;
            }
            let word: String = chars[start..at].iter().collect();
            let raw_identifier =
                word == "r" && chars.get(at) == Some(&'#') && chars.get(at + 1).is_some_and(|&c| is_word(c));
            if raw_identifier {
                at += 1;
            } else if matches!(word.as_str(), "r" | "br") && matches!(chars.get(at), Some('#' | '"')) {
                at = after_raw_string(&chars, at);
            } else {
                tokens.push(word);
            }
        } else if c == '/' && chars.get(at + 1) == Some(&'/') {
            while chars.get(at).is_some_and(|&c| c != '\n') {
                at += 1;
            }
        } else if c == '/' && chars.get(at + 1) == Some(&'*') {
            at = after_block_comment(&chars, at);
        } else if c == '"' {
            at += 1;
            while let Some(&inner) = chars.get(at) {
                at += if inner == '\\' { 2 } else { 1 };
                if inner == '"' {
                    break;
                }
            }
        } else if c == '\'' && chars.get(at + 1) == Some(&'\\') {
            at += 2;
            while chars.get(at).is_some_and(|&inner| inner != '\'') {
                at += 1;
            }
            at += 1;
        } else if c == '\'' && chars.get(at + 2) == Some(&'\'') {
            at += 3;
        } else if c == ':' && chars.get(at + 1) == Some(&':') {
            tokens.push("::".to_owned());
            at += 2;
        } else {
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
            at += 1;
        }
    }
    tokens
}

/// Where the block comment opening at `at` ends (they nest).
fn after_block_comment(chars: &[char], mut at: usize) -> usize {
    let mut depth = 0;
    while at < chars.len() {
        match (chars[at], chars.get(at + 1)) {
            ('/', Some('*')) => {
                depth += 1;
                at += 2;
            }
            ('*', Some('/')) => {
                depth -= 1;
                at += 2;
                if depth == 0 {
                    return at;
                }
            }
            _ => at += 1,
        }
    }
    at
}

/// Where a raw string whose hashes start at `at` ends (`#"…"#`, `"…"`).
fn after_raw_string(chars: &[char], mut at: usize) -> usize {
    let hashes = chars[at..].iter().take_while(|&&c| c == '#').count();
    at += hashes + 1;
    while at < chars.len() {
        let closes =
            chars[at] == '"' && chars[at + 1..].iter().take(hashes).filter(|&&c| c == '#').count() == hashes;
        at += 1;
        if closes {
            return at + hashes;
        }
    }
    at
}

/// Tarjan's algorithm: the strongly connected components of `graph`.
fn strongly_connected(graph: &BTreeMap<ModulePath, BTreeSet<ModulePath>>) -> Vec<Vec<ModulePath>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<ModulePath, BTreeSet<ModulePath>>,
        next_index: usize,
        index: BTreeMap<&'g ModulePath, usize>,
        low: BTreeMap<&'g ModulePath, usize>,
        stack: Vec<&'g ModulePath>,
        on_stack: BTreeSet<&'g ModulePath>,
        components: Vec<Vec<ModulePath>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, node: &'g ModulePath) {
            self.index.insert(node, self.next_index);
            self.low.insert(node, self.next_index);
            self.next_index += 1;
            self.stack.push(node);
            self.on_stack.insert(node);
            for target in self.graph.get(node).into_iter().flatten() {
                if !self.index.contains_key(target) {
                    self.visit(target);
                    let lowest = self.low[node].min(self.low[target]);
                    self.low.insert(node, lowest);
                } else if self.on_stack.contains(target) {
                    let lowest = self.low[node].min(self.index[target]);
                    self.low.insert(node, lowest);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.push(member.clone());
                    if member == node {
                        break;
                    }
                }
                self.components.push(component);
            }
        }
    }
    let mut walk = Walk {
        graph,
        next_index: 0,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node) {
            walk.visit(node);
        }
    }
    walk.components
}
