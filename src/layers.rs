//! The shape of the source tree, checked: imports only go downhill through the layers named in
//! lib.rs, no command imports another command, no two files import each other (directly or in a
//! circle), and no file or function outgrows what a newcomer can read at once.
//!
//! The check reads `src/` as text: every `use` and every `crate::…`, `super::…` or `child::…`
//! path outside comments and string literals, mapped to the file it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A file may name a module of a lower layer, or its own top module.
const LAYERS: &[&[&str]] = &[
    &["core"],
    &["settings"],
    &["wix", "serve", "ui"],
    &["credentials"],
    &["oauth", "webhook"],
    &["app"],
    // The fuzz targets' facade: beside lib.rs, it may reach everything below.
    &["(root)", "fuzz"],
];

/// Inside `app`, the same rule one level down: the clap model and candidates, then the context
/// and the completion engine and what the fleet commands share, then the commands, then the
/// dispatch in `app/mod.rs`.
const APP_LAYERS: &[&[&str]] = &[
    &["candidates"],
    &["cli", "context"],
    &["complete", "fleet"],
    &["commands"],
    &["(app)"],
];

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 90;

/// One source file: its module path (`["credentials", "cache"]`) and its text.
struct File {
    path: PathBuf,
    module: Vec<String>,
    /// Code with comments and string literals blanked (line numbers kept).
    code: Vec<String>,
    /// Child modules it declares (`mod x;`).
    children: BTreeSet<String>,
}

fn load() -> Vec<File> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    walk(&root, &mut paths);
    paths
        .into_iter()
        .filter(|p| !p.ends_with("main.rs"))
        .map(|path| {
            let rel = path.strip_prefix(&root).unwrap().to_path_buf();
            let mut module: Vec<String> = rel
                .iter()
                .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = blank_comments_and_strings(&text);
            let children = code
                .iter()
                .filter_map(|l| {
                    let l = l.trim();
                    let l = l
                        .strip_prefix("pub(crate) ")
                        .or(l.strip_prefix("pub "))
                        .unwrap_or(l);
                    l.strip_prefix("mod ")?
                        .strip_suffix(';')
                        .map(str::to_string)
                })
                .collect();
            File {
                path: rel,
                module,
                code,
                children,
            }
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
}

/// The text with `//` comments, string and char literals replaced by spaces, line by line.
fn blank_comments_and_strings(text: &str) -> Vec<String> {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && is_raw_start(&chars, i) {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            let end: String = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            i += 2 + hashes;
            out.push_str(&" ".repeat(2 + hashes));
            while i < chars.len() && !chars[i..].iter().take(end.len()).copied().eq(end.chars()) {
                out.push(if chars[i] == '\n' { '\n' } else { ' ' });
                i += 1;
            }
            i += end.len();
            out.push_str(&" ".repeat(end.len()));
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                let skip = if chars[i] == '\\' { 2 } else { 1 };
                for _ in 0..skip {
                    if let Some(&ch) = chars.get(i) {
                        out.push(if ch == '\n' { '\n' } else { ' ' });
                    }
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && is_char_literal(&chars, i) {
            let len = if next == Some('\\') {
                chars[i + 2..]
                    .iter()
                    .position(|&ch| ch == '\'')
                    .map_or(1, |p| p + 3)
            } else {
                3
            };
            out.push_str(&" ".repeat(len));
            i += len;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out.lines().map(str::to_string).collect()
}

fn is_raw_start(chars: &[char], i: usize) -> bool {
    let before = i.checked_sub(1).map(|b| chars[b]);
    !before.is_some_and(|b| b.is_alphanumeric() || b == '_')
        && chars[i + 1..].iter().find(|&&h| h != '#') == Some(&'"')
}

/// `'x'` or `'\n'`, not a lifetime `'a`.
fn is_char_literal(chars: &[char], i: usize) -> bool {
    match chars.get(i + 1) {
        Some('\\') => true,
        Some(_) => chars.get(i + 2) == Some(&'\''),
        None => false,
    }
}

/// A reference from a file to another module: where, and the path as written (absolute).
struct Reference {
    line: usize,
    target: Vec<String>,
    /// A `pub use child::…` re-export (a parent showing a child's item is not a circle).
    reexport: bool,
}

fn references(file: &File) -> Vec<Reference> {
    let mut refs = Vec::new();
    // `super::` inside an inline `mod tests { … }` names this file's own module.
    let mut inline_depth: Option<i32> = None;
    let mut depth = 0i32;
    let mut pending_use = String::new();
    let mut use_start = 0;
    for (n, line) in file.code.iter().enumerate() {
        let trimmed = line.trim();
        if inline_depth.is_none() && trimmed.contains("mod ") && trimmed.ends_with('{') {
            inline_depth = Some(depth);
        }
        let inner = inline_depth.is_some();
        let base: Vec<String> = if inner {
            file.module.clone()
        } else {
            file.module[..file.module.len().saturating_sub(1)].to_vec()
        };
        let own: Vec<String> = file.module.clone();
        if pending_use.is_empty()
            && (trimmed.starts_with("use ")
                || trimmed.contains(" use ") && trimmed.starts_with("pub"))
        {
            use_start = n + 1;
        }
        if use_start == n + 1 || !pending_use.is_empty() {
            pending_use.push_str(trimmed);
            if trimmed.ends_with(';') {
                let reexport = pending_use.starts_with("pub");
                let body = pending_use
                    .split_once("use ")
                    .map(|(_, b)| b.trim_end_matches(';'))
                    .unwrap_or_default();
                for path in expand_use(body) {
                    if let Some(target) = absolute(&path, &base, &own, file, inner) {
                        refs.push(Reference {
                            line: use_start,
                            target,
                            reexport,
                        });
                    }
                }
                pending_use.clear();
            }
        } else {
            for path in inline_paths(line) {
                if let Some(target) = absolute(&path, &base, &own, file, inner) {
                    refs.push(Reference {
                        line: n + 1,
                        target,
                        reexport: false,
                    });
                }
            }
        }
        depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
        if inline_depth.is_some_and(|d| depth <= d) {
            inline_depth = None;
        }
    }
    refs
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand_use(body: &str) -> Vec<Vec<String>> {
    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    fn go(prefix: &[String], text: &str, out: &mut Vec<Vec<String>>) {
        let mut depth = 0;
        let mut start = 0;
        let bytes = text.as_bytes();
        let mut parts = Vec::new();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                b',' if depth == 0 => {
                    parts.push(&text[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&text[start..]);
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            match part.find("::{") {
                Some(at) if part.ends_with('}') => {
                    let mut p = prefix.to_vec();
                    p.extend(part[..at].split("::").map(str::to_string));
                    go(&p, &part[at + 3..part.len() - 1], out);
                }
                _ => {
                    let mut p = prefix.to_vec();
                    let part = part.split(" as ").next().unwrap_or(part);
                    p.extend(
                        part.split("::")
                            .map(|s| s.split("as").next().unwrap_or(s).to_string()),
                    );
                    out.push(p);
                }
            }
        }
    }
    let mut out = Vec::new();
    go(&[], &body, &mut out);
    out
}

/// Paths in ordinary code: `crate::x::y`, `super::x`, `self::x` and `child::x`.
fn inline_paths(line: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':');
        if starts_word && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
            let mut j = i;
            while j < bytes.len()
                && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] == b':')
            {
                j += 1;
            }
            let word = &line[i..j];
            if word.contains("::") {
                out.push(
                    word.split("::")
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                );
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// A written path as an absolute module path, or `None` for std, other crates, or items that
/// are not modules of this crate.
fn absolute(
    path: &[String],
    base: &[String],
    own: &[String],
    file: &File,
    inner: bool,
) -> Option<Vec<String>> {
    let first = path.first()?.as_str();
    let (mut abs, rest) = match first {
        "crate" => (Vec::new(), &path[1..]),
        "super" => {
            let mut b = base.to_vec();
            let mut rest = &path[1..];
            while rest.first().map(String::as_str) == Some("super") {
                b.pop();
                rest = &rest[1..];
            }
            (b, rest)
        }
        "self" => (if inner { own.to_vec() } else { base.to_vec() }, &path[1..]),
        child if file.children.contains(child) && !inner => (own.to_vec(), path),
        _ => return None,
    };
    abs.extend(rest.iter().cloned());
    Some(abs)
}

/// The file a module path lands in: the longest prefix that is a file of ours.
fn resolve<'a>(files: &'a BTreeMap<Vec<String>, usize>, target: &[String]) -> Option<&'a usize> {
    (1..=target.len())
        .rev()
        .find_map(|n| files.get(&target[..n]))
}

fn rank(layers: &[&[&str]], name: &str) -> Option<usize> {
    layers.iter().position(|l| l.contains(&name))
}

fn top(module: &[String]) -> &str {
    module.first().map_or("(root)", String::as_str)
}

/// The module inside `app` (`cli`, `commands`…), `(app)` for app/mod.rs.
fn app_part(module: &[String]) -> &str {
    module.get(1).map_or("(app)", String::as_str)
}

/// Every arrow up, every command naming another command, as `file:line: why`.
fn violations(files: &[File]) -> Vec<String> {
    let by_module: BTreeMap<Vec<String>, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.module.clone(), i))
        .collect();
    let mut out = Vec::new();
    for file in files {
        let from = top(&file.module);
        for r in references(file) {
            let Some(&to_index) = resolve(&by_module, &r.target) else {
                continue;
            };
            let to = &files[to_index];
            let at = format!("src/{}:{}", file.path.display(), r.line);
            let shown = format!("crate::{}", r.target.join("::"));
            let target_top = top(&to.module);
            if target_top != from {
                let (a, b) = (rank(LAYERS, from), rank(LAYERS, target_top));
                if a.is_none() || b.is_none() || b >= a {
                    out.push(format!(
                        "{at}: {from} must not import {shown} (layer order: {})",
                        order(LAYERS)
                    ));
                }
                continue;
            }
            if from == "app" && app_part(&file.module) != app_part(&to.module) {
                let (a, b) = (
                    rank(APP_LAYERS, app_part(&file.module)),
                    rank(APP_LAYERS, app_part(&to.module)),
                );
                if a.is_none() || b.is_none() || b >= a {
                    out.push(format!(
                        "{at}: app/{} must not import {shown} (inside app: {})",
                        app_part(&file.module),
                        order(APP_LAYERS)
                    ));
                }
            }
            let command = |m: &[String]| {
                (m.get(1).map(String::as_str) == Some("commands"))
                    .then(|| m.get(2).cloned())
                    .flatten()
            };
            if let (Some(a), Some(b)) = (command(&file.module), command(&to.module)) {
                if a != b && a != "tests" {
                    out.push(format!("{at}: command {a} must not import command {b} ({shown}); what two commands share lives below them"));
                }
            }
        }
    }
    out
}

fn order(layers: &[&[&str]]) -> String {
    layers
        .iter()
        .map(|l| l.join(" / "))
        .collect::<Vec<_>>()
        .join(" ← ")
}

/// Circles between files (re-exports from a parent to its child do not count).
fn circles(files: &[File]) -> Vec<String> {
    let by_module: BTreeMap<Vec<String>, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.module.clone(), i))
        .collect();
    let mut edges: Vec<BTreeMap<usize, usize>> = vec![BTreeMap::new(); files.len()];
    for (i, file) in files.iter().enumerate() {
        for r in references(file) {
            if let Some(&j) = resolve(&by_module, &r.target) {
                let child_of_i = files[j].module.starts_with(&file.module)
                    && files[j].module.len() > file.module.len();
                if j != i && !(r.reexport && child_of_i) {
                    edges[i].entry(j).or_insert(r.line);
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    for start in 0..files.len() {
        // Depth-first search for a path back to `start`.
        let mut stack = vec![(start, vec![start])];
        let mut seen = BTreeSet::new();
        while let Some((node, trail)) = stack.pop() {
            for &next in edges[node].keys() {
                if next == start {
                    let mut cycle: Vec<usize> = trail.clone();
                    let min = cycle
                        .iter()
                        .position(|x| x == cycle.iter().min().unwrap())
                        .unwrap();
                    cycle.rotate_left(min);
                    let names: Vec<String> = cycle
                        .iter()
                        .map(|&k| format!("src/{}", files[k].path.display()))
                        .collect();
                    out.insert(format!("{} → back to the first", names.join(" → ")));
                } else if seen.insert(next) {
                    let mut t = trail.clone();
                    t.push(next);
                    stack.push((next, t));
                }
            }
        }
    }
    out.into_iter().collect()
}

#[test]
fn imports_only_go_downhill_and_no_command_imports_another() {
    let found = violations(&load());
    assert!(
        found.is_empty(),
        "{} import(s) against the layers:\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn no_two_files_import_each_other() {
    let found = circles(&load());
    assert!(
        found.is_empty(),
        "import circles between files:\n{}",
        found.join("\n")
    );
}

#[test]
fn files_and_functions_stay_readable() {
    let mut found = Vec::new();
    for file in load() {
        let shown = format!("src/{}", file.path.display());
        if file.code.len() > MAX_FILE_LINES {
            found.push(format!(
                "{shown}: {} lines (at most {MAX_FILE_LINES})",
                file.code.len()
            ));
        }
        let mut open: Option<(usize, i32, String)> = None;
        let mut depth = 0i32;
        for (n, line) in file.code.iter().enumerate() {
            let t = line.trim_start();
            let is_fn = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "async fn ",
                "pub(crate) async fn ",
                "unsafe fn ",
                "extern \"C\" fn ",
            ]
            .iter()
            .any(|p| t.starts_with(p));
            if open.is_none() && is_fn {
                let name = t
                    .split("fn ")
                    .nth(1)
                    .unwrap_or("")
                    .split(['(', '<'])
                    .next()
                    .unwrap_or("")
                    .to_string();
                open = Some((n, depth, name));
            }
            depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
            if let Some((start, at, name)) = &open {
                if depth <= *at && (line.contains('}') || line.trim_end().ends_with(';')) {
                    let len = n - start + 1;
                    if len > MAX_FN_LINES {
                        found.push(format!(
                            "{shown}:{}: fn {name} has {len} lines (at most {MAX_FN_LINES})",
                            start + 1
                        ));
                    }
                    open = None;
                }
            }
        }
    }
    assert!(found.is_empty(), "too long:\n{}", found.join("\n"));
}

#[test]
fn the_checker_sees_arrows_up_circles_and_sibling_commands() {
    let file = |module: &[&str], text: &str| File {
        path: PathBuf::from(format!("{}.rs", module.join("/"))),
        module: module.iter().map(|s| s.to_string()).collect(),
        code: blank_comments_and_strings(text),
        children: BTreeSet::new(),
    };
    let files = vec![
        file(&["core", "text"], "use crate::credentials::cache::Key;\n// use crate::app::cli;\nconst S: &str = \"crate::app\";\n"),
        file(&["credentials", "cache"], "fn f() { crate::core::text::printable(); }\n"),
        file(&["app", "commands", "login"], "use crate::app::commands::{logout::run, login};\n"),
        file(&["app", "commands", "logout"], "use super::login::X;\n"),
    ];
    let found = violations(&files);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(
        found[0]
            .starts_with("src/core/text.rs:1: core must not import crate::credentials::cache::Key"),
        "{}",
        found[0]
    );
    assert!(
        found[1].contains("command login must not import command logout"),
        "{}",
        found[1]
    );
    assert!(
        found[2].contains("command logout must not import command login"),
        "{}",
        found[2]
    );
    let loops = circles(&files);
    assert_eq!(loops.len(), 2, "{loops:#?}");
}
