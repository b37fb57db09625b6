//! The names every installer relies on match what .github/workflows/release.yml builds:
//! cargo binstall's URLs (Cargo.toml), the npm platform packages (npm/wixauth/lib/platform.cjs),
//! install.sh and the Action's install-action.sh. A target renamed in one place fails here, not
//! at a user's install.

use std::path::Path;

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The matrix's `- target: …` entries.
fn release_targets() -> Vec<String> {
    let targets: Vec<String> = read(".github/workflows/release.yml")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- target: "))
        .map(|t| t.trim().to_string())
        .collect();
    assert!(targets.len() >= 5, "{targets:?}");
    targets
}

/// Every `name=VALUE` / `name: 'VALUE'` in `text`, for the given key.
fn assigned(text: &str, key: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '{')
        .filter_map(|w| w.strip_prefix(key))
        .map(|v| v.trim_matches(|c| c == '\'' || c == '"').to_string())
        .filter(|v| v.contains('-'))
        .collect()
}

#[test]
fn cargo_binstall_finds_each_release_archive() {
    let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).unwrap();
    let package = &manifest["package"];
    let repo = package["repository"].as_str().expect("repository");
    let version = package["version"].as_str().unwrap();
    let meta = &package["metadata"]["binstall"];
    let expand = |template: &str, target: &str| {
        let exe = if target.contains("windows") {
            ".exe"
        } else {
            ""
        };
        template
            .replace("{ repo }", repo)
            .replace("{ version }", version)
            .replace("{ name }", "wixauth")
            .replace("{ target }", target)
            .replace("{ bin }", "wixauth")
            .replace("{ binary-ext }", exe)
    };
    let built = release_targets();
    let overridden = meta["overrides"].as_table().unwrap();
    let mut asked: Vec<&str> = built.iter().map(String::as_str).collect();
    asked.extend(overridden.keys().map(String::as_str));
    for target in asked {
        let field = |key: &str| {
            overridden
                .get(target)
                .and_then(|o| o.get(key))
                .or_else(|| meta.get(key))
                .and_then(toml::Value::as_str)
                .unwrap()
                .to_string()
        };
        let url = expand(&field("pkg-url"), target);
        let archive = url.rsplit('/').next().unwrap().to_string();
        let archived = archive
            .strip_prefix("wixauth-")
            .and_then(|a| a.strip_suffix(".tar.gz").or_else(|| a.strip_suffix(".zip")))
            .unwrap_or_else(|| panic!("{target}: {url}"));
        assert!(
            built.iter().any(|b| b == archived),
            "{target}: {url} is not built"
        );
        let ext = if archived.contains("windows") {
            "zip"
        } else {
            "tar.gz"
        };
        assert_eq!(
            url,
            format!("{repo}/releases/download/v{version}/wixauth-{archived}.{ext}")
        );
        assert_eq!(field("pkg-fmt"), if ext == "zip" { "zip" } else { "tgz" });
        let exe = if archived.contains("windows") {
            ".exe"
        } else {
            ""
        };
        assert_eq!(
            expand(&field("bin-dir"), target),
            format!("wixauth-{archived}/wixauth{exe}")
        );
    }
}

#[test]
fn npm_install_sh_and_the_action_use_only_built_targets() {
    let built = release_targets();
    for (file, key, at_least) in [
        ("npm/wixauth/lib/platform.cjs", "target:", 5),
        ("install.sh", "target=", 4),
        ("scripts/install-action.sh", "target=", 5),
    ] {
        let text = read(file).replace("target: '", "target:'");
        let named = assigned(&text, key);
        assert!(named.len() >= at_least, "{file}: {named:?}");
        for target in named {
            assert!(
                built.contains(&target),
                "{file} names {target}, which release.yml does not build"
            );
        }
    }
    // npm's provenance check compares the package's repository with the workflow's.
    let npm: serde_json::Value = serde_json::from_str(&read("npm/wixauth/package.json")).unwrap();
    let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).unwrap();
    let repo = manifest["package"]["repository"].as_str().unwrap();
    assert_eq!(
        npm["repository"]["url"].as_str().unwrap(),
        format!("git+{repo}.git")
    );
    assert_eq!(
        npm["version"],
        manifest["package"]["version"].as_str().unwrap()
    );
}
