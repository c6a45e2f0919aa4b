//! Keeps zk-core's layout honest: its areas (the modules at the top of `src/`) import each other
//! without circles, and no service imports `app`, the wiring that imports every service.
//!
//! An area's own files may use each other (a child its parent's types); between areas the imports
//! form a directed acyclic graph. Read from the sources, so a new `use crate::…` that closes a
//! circle fails this test and names the circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Areas that may import `app`: the runtime that starts what `app` wires.
const MAY_IMPORT_APP: &[&str] = &["running"];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The code of a file without comments and without its inline `#[cfg(test)]` modules.
fn code_of(source: &str) -> String {
    let mut code = String::new();
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" && lines.peek().is_some_and(|next| next.trim_start().starts_with("mod ")) {
            // Skip the test module: up to the line that closes its brace.
            let mut depth = 0i32;
            for body in lines.by_ref() {
                depth += body.matches('{').count() as i32 - body.matches('}').count() as i32;
                if depth <= 0 && body.contains('}') {
                    break;
                }
            }
            continue;
        }
        let without_comment = line.split("//").next().unwrap_or_default();
        code.push_str(without_comment);
        code.push('\n');
    }
    code
}

/// The first segment of every `crate::` path: `crate::agents::X` and `use crate::{agents, cad::Y}`.
fn crate_roots(code: &str) -> BTreeSet<String> {
    let mut roots = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        roots.insert(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                }
            }
            roots.insert(first_segment(&item));
        } else {
            roots.insert(first_segment(rest));
        }
    }
    roots.remove("");
    roots
}

fn first_segment(path: &str) -> String {
    path.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// Which area each top-level name of `lib.rs` (`pub use app::Core;`) comes from.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else { continue };
        let Some((area, items)) = rest.trim_end_matches(';').split_once("::") else { continue };
        for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
            names.insert(first_segment(item), area.to_owned());
        }
    }
    names
}

/// Area → the other areas it imports.
fn area_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let area_of = |path: &Path| -> Option<String> {
        let relative = path.strip_prefix(src).ok()?;
        let first = relative.components().next()?.as_os_str().to_str()?;
        Some(first.trim_end_matches(".rs").to_owned())
    };
    let areas: BTreeSet<String> = files.iter().filter_map(|f| area_of(f)).filter(|a| a != "lib").collect();
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
    let reexports = root_reexports(&lib);
    let mut graph: BTreeMap<String, BTreeSet<String>> = areas.iter().map(|a| (a.clone(), BTreeSet::new())).collect();
    for file in &files {
        let Some(area) = area_of(file) else { continue };
        let test_only = file.file_stem().is_some_and(|s| s == "tests" || s == "layout");
        if area == "lib" || test_only {
            continue;
        }
        let source = std::fs::read_to_string(file).unwrap_or_default();
        for root in crate_roots(&code_of(&source)) {
            let target = if areas.contains(&root) { Some(root) } else { reexports.get(&root).cloned() };
            if let Some(target) = target.filter(|t| *t != area) {
                graph.entry(area.clone()).or_default().insert(target);
            }
        }
    }
    graph
}

/// A circle through the graph, if there is one, as the areas along it.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn areas_import_each_other_without_circles() {
    let graph = area_graph(&src_dir());
    assert!(graph.len() > 10, "the areas were found: {graph:?}");
    if let Some(circle) = find_circle(&graph) {
        panic!("zk-core's areas import each other in a circle: {}", circle.join(" → "));
    }
}

#[test]
fn no_service_imports_the_wiring() {
    let graph = area_graph(&src_dir());
    let importers: Vec<&String> = graph
        .iter()
        .filter(|(area, imports)| imports.contains("app") && !MAY_IMPORT_APP.contains(&area.as_str()))
        .map(|(a, _)| a)
        .collect();
    assert!(importers.is_empty(), "these import `app` (the wiring of every service): {importers:?}");
}

#[test]
fn the_check_sees_imports_and_circles() {
    let code = code_of(
        "use crate::agents::X;\n// use crate::commented::Y;\nuse crate::{cad::Z, chat};\nfn f() { crate::health::report(); }\n\
         #[cfg(test)]\nmod tests {\n    use crate::tests_only::T;\n}\n",
    );
    let roots: Vec<String> = crate_roots(&code).into_iter().collect();
    assert_eq!(roots, ["agents", "cad", "chat", "health"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into();
    assert_eq!(find_circle(&graph), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    let reexports = root_reexports("pub use app::Core;\npub use error::{CoreError, CoreResult};\n");
    assert_eq!(reexports.get("CoreResult").map(String::as_str), Some("error"));
}
