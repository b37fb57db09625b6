//! The committed completion scripts and man page must match what the binary generates.
//! Regenerate with `WIXAUTH_UPDATE_GENERATED=1 cargo test --test it generated`.

use std::path::Path;

use clap_complete::Shell;
use wixauth::commands::generate;

fn check(file: &str, generated: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("completions")
        .join(file);
    if std::env::var_os("WIXAUTH_UPDATE_GENERATED").is_some() {
        std::fs::write(&path, generated).expect("write generated file");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `WIXAUTH_UPDATE_GENERATED=1 cargo test --test it generated` and commit the result",
        path.display()
    );
}

#[test]
fn completions_are_current() {
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ] {
        check(
            generate::completion_file(shell),
            &generate::completion_script(shell),
        );
    }
}

#[test]
fn man_page_is_current() {
    check("wixauth.1", &generate::man_page());
}

#[test]
fn binary_prints_the_same_scripts() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = assert_cmd::Command::cargo_bin("wixauth")
            .unwrap()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let parsed: Shell = shell.parse().unwrap();
        assert_eq!(out.stdout, generate::completion_script(parsed), "{shell}");
    }
}

/// Syntax checks with the real shells (installed by scripts/test.sh); skipped where missing.
#[test]
fn scripts_parse_in_their_shells() {
    for (shell, file) in [
        ("bash", "wixauth.bash"),
        ("zsh", "_wixauth"),
        ("fish", "wixauth.fish"),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("completions")
            .join(file);
        let Ok(out) = std::process::Command::new(shell)
            .arg("-n")
            .arg(&path)
            .output()
        else {
            if std::env::var_os("CI").is_some() {
                panic!("{shell} is missing: scripts/test.sh installs it");
            }
            eprintln!("skipping {shell} -n: {shell} is not installed");
            continue;
        };
        assert!(
            out.status.success(),
            "{shell} -n {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn environment_topic_lists_every_variable_the_source_reads() {
    let out = assert_cmd::Command::cargo_bin("wixauth")
        .unwrap()
        .args(["help", "environment"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    let mut found = std::collections::BTreeSet::new();
    for entry in walk(&src) {
        let text = std::fs::read_to_string(&entry).unwrap();
        let is_env_module = entry.ends_with("src/env.rs");
        // The environment is read in one place: src/env.rs builds `Env` once at start-up.
        if !is_env_module {
            for reader in ["env::var(", "env::var_os(", "env::vars("] {
                assert!(
                    !text.contains(reader),
                    "{} reads the environment ({reader}); read it in src/env.rs instead",
                    entry.display()
                );
            }
        }
        // Every WIX_* / WIXAUTH_* name the source mentions is documented.
        for marker in ["\"WIX_", "\"WIXAUTH_"] {
            for piece in text.split(marker).skip(1) {
                let rest: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                let name = format!("{}{rest}", &marker[1..]);
                if piece[rest.len()..].starts_with('"') && rest.len() > 1 {
                    found.insert(name.clone());
                    if !help.contains(&name) {
                        missing.push(format!("{name} ({})", entry.display()));
                    }
                }
            }
        }
    }
    assert!(
        found.len() >= 12,
        "the source scan found too few variables to be working: {found:?}"
    );
    assert!(
        missing.is_empty(),
        "not in `wixauth help environment`: {missing:?}"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}
