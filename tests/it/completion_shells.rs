//! The committed completion scripts, run by the real shells against the real binary: the
//! candidates come from config.toml, `bi-event`'s list and the command model.
//! Unix only: bash, zsh and fish run them (CI installs the shells on Linux and macOS).
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;

const CONFIG: &str = r#"
[profiles.default]
app_id = "app-1"
default_instance = "inst-b"

[profiles.default.instances.inst-a]
flow = "basic"

[profiles.default.instances.inst-b]
flow = "advanced"

[profiles.shop]
app_id = "app-2"

[profiles.shop.instances.shop-1]
flow = "basic"
"#;

struct Setup {
    _dir: tempfile::TempDir,
    config: PathBuf,
    /// The shells' working directory, holding a file that must never be offered.
    cwd: PathBuf,
    path: std::ffi::OsString,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir(&config).unwrap();
    std::fs::write(config.join("config.toml"), CONFIG).unwrap();
    let cwd = dir.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    std::fs::write(cwd.join("some-file.txt"), "").unwrap();
    // The scripts call `wixauth` through PATH, as they do once installed.
    let bin = assert_cmd::cargo::cargo_bin("wixauth");
    let bin_dir = bin.parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    Setup {
        _dir: dir,
        config,
        cwd,
        path,
    }
}

fn script(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("completions")
        .join(file)
}

/// Candidates bash's completion function leaves in COMPREPLY for `line` (the cursor at its end).
fn bash(setup: &Setup, line: &str, env: &[(&str, &str)]) -> Vec<String> {
    let program = r#"
source "$1"
read -ra COMP_WORDS <<<"$2"
[[ "$2" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$2"
COMP_POINT=${#2}
COMP_TYPE=9
_clap_complete_wixauth wixauth "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", program, "bash"])
        .arg(script("wixauth.bash"))
        .arg(line)
        .current_dir(&setup.cwd)
        .env("PATH", &setup.path)
        .env("WIXAUTH_CONFIG_DIR", &setup.config)
        .env_remove("WIXAUTH_PROFILE")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines(&out.stdout)
}

fn lines(out: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Values only: the engine also offers `--flags` when the word is empty.
fn values(candidates: &[String]) -> Vec<&str> {
    candidates
        .iter()
        .map(String::as_str)
        .filter(|c| !c.starts_with('-'))
        .collect()
}

#[test]
fn bash_completes_profiles_from_the_config() {
    let s = setup();
    assert_eq!(bash(&s, "wixauth --profile ", &[]), ["default", "shop"]);
    assert_eq!(bash(&s, "wixauth token --profile s", &[]), ["shop"]);
}

#[test]
fn bash_completes_instances_of_the_profile_being_typed() {
    let s = setup();
    assert_eq!(
        bash(&s, "wixauth token --instance ", &[]),
        ["inst-a", "inst-b"]
    );
    assert_eq!(
        bash(&s, "wixauth --profile shop token --instance ", &[]),
        ["shop-1"]
    );
    assert_eq!(
        bash(
            &s,
            "wixauth token --instance ",
            &[("WIXAUTH_PROFILE", "shop")]
        ),
        ["shop-1"]
    );
    // The flag on the line wins over the environment, as when the command runs.
    assert_eq!(
        bash(
            &s,
            "wixauth token --profile default --instance inst-",
            &[("WIXAUTH_PROFILE", "shop")]
        ),
        ["inst-a", "inst-b"]
    );
    assert!(bash(&s, "wixauth --profile nobody status --instance ", &[]).is_empty());
}

#[test]
fn bash_completes_event_names_and_help_topics() {
    let s = setup();
    let events = bash(&s, "wixauth bi-event ", &[]);
    let events = values(&events);
    assert_eq!(events.first(), Some(&"finished"), "{events:?}");
    assert!(events.contains(&"APP_FINISHED_CONFIGURATION"), "{events:?}");
    assert!(events.contains(&"CUSTOM"), "{events:?}");
    assert_eq!(
        bash(&s, "wixauth bi-event APP_D", &[]),
        ["APP_DASHBOARD_LOADED", "APP_DEPLOYED"]
    );

    let topics = bash(&s, "wixauth help ", &[]);
    let topics = values(&topics);
    for topic in ["login", "token", "bi-event", "environment"] {
        assert!(topics.contains(&topic), "{topics:?}");
    }
    assert!(topics.len() < 20, "a handful, not thousands: {topics:?}");
    assert_eq!(bash(&s, "wixauth help env", &[]), ["environment"]);
}

#[test]
fn bash_never_offers_file_names_for_profiles_or_instances() {
    let s = setup();
    for line in [
        "wixauth --profile ",
        "wixauth token --instance ",
        "wixauth --profile nobody token --instance ",
        "wixauth help ",
    ] {
        let got = bash(&s, line, &[]);
        assert!(
            !got.iter().any(|c| c.contains("some-file")),
            "{line:?} offered files: {got:?}"
        );
    }
}

#[test]
fn bash_completion_survives_a_broken_config() {
    let s = setup();
    std::fs::write(s.config.join("config.toml"), "[profiles.broken\n").unwrap();
    assert!(bash(&s, "wixauth --profile ", &[]).is_empty());
    // Static parts still work.
    assert_eq!(bash(&s, "wixauth sta", &[]), ["status"]);
}

/// fish through `complete -C`, which prints what fish itself would offer; skipped where fish is
/// missing outside CI (scripts/test.sh installs it).
#[test]
fn fish_completes_profiles_instances_and_events() {
    let s = setup();
    let fish = |line: &str| -> Option<Vec<String>> {
        let out = Command::new("fish")
            .args(["--no-config", "-c", "source $argv[1]; complete -C $argv[2]"])
            .arg(script("wixauth.fish"))
            .arg(line)
            .current_dir(&s.cwd)
            .env("PATH", &s.path)
            .env("WIXAUTH_CONFIG_DIR", &s.config)
            .env_remove("WIXAUTH_PROFILE")
            .output()
            .ok()?;
        assert!(
            out.status.success(),
            "fish: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Each line is `value<TAB>description`.
        Some(
            lines(&out.stdout)
                .into_iter()
                .map(|l| l.split('\t').next().unwrap_or_default().to_string())
                .collect(),
        )
    };
    let Some(profiles) = fish("wixauth --profile ") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "fish is missing: scripts/test.sh installs it"
        );
        eprintln!("skipping: fish is not installed");
        return;
    };
    assert_eq!(profiles, ["default", "shop"]);
    assert_eq!(
        fish("wixauth --profile shop token --instance ").unwrap(),
        ["shop-1"]
    );
    let events = fish("wixauth bi-event ").unwrap();
    assert!(events.contains(&"finished".to_string()), "{events:?}");
    assert!(events.contains(&"APP_UPGRADED".to_string()), "{events:?}");
    let topics = fish("wixauth help ").unwrap();
    assert!(topics.contains(&"environment".to_string()), "{topics:?}");
    assert!(
        !topics.iter().any(|t| t.contains("some-file")),
        "{topics:?}"
    );
}

/// zsh: the script's function, with `_describe` (which would draw the menu) replaced by one
/// that prints what it was given, `value:description` a line.
#[test]
fn zsh_completes_profiles_instances_and_help_topics() {
    let s = setup();
    let zsh = |words: &[&str]| -> Option<Vec<String>> {
        let program = r#"
compdef() { : }
_describe() { print -rl -- "${(@P)${@[-1]}}" }
source "$1"
shift
words=("$@")
CURRENT=$#words
_clap_dynamic_completer_wixauth
"#;
        let out = Command::new("zsh")
            .args(["-f", "-c", program, "zsh"])
            .arg(script("_wixauth"))
            .args(words)
            .current_dir(&s.cwd)
            .env("PATH", &s.path)
            .env("WIXAUTH_CONFIG_DIR", &s.config)
            .env_remove("WIXAUTH_PROFILE")
            .output()
            .ok()?;
        assert!(
            out.status.success(),
            "zsh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(
            lines(&out.stdout)
                .into_iter()
                .map(|l| l.split(':').next().unwrap_or_default().to_string())
                .collect(),
        )
    };
    let Some(profiles) = zsh(&["wixauth", "--profile", ""]) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "zsh is missing: scripts/test.sh installs it"
        );
        eprintln!("skipping: zsh is not installed");
        return;
    };
    assert_eq!(profiles, ["default", "shop"]);
    assert_eq!(
        zsh(&["wixauth", "--profile", "shop", "token", "--instance", ""]).unwrap(),
        ["shop-1"]
    );
    let topics = zsh(&["wixauth", "help", ""]).unwrap();
    let topics = values(&topics);
    assert!(
        topics.contains(&"environment") && topics.contains(&"login"),
        "{topics:?}"
    );
    assert!(topics.len() < 20, "a handful, not thousands: {topics:?}");
    assert!(
        !topics.iter().any(|t| t.contains("some-file")),
        "{topics:?}"
    );
}

/// `--instance <TAB>` follows the active profile (`wixauth switch`), and shows the site names
/// wixauth learnt (issue 17 item 7).
#[test]
fn instances_follow_the_active_profile_and_show_site_names() {
    let s = setup();
    let config = format!(
        "active_profile = \"shop\"\n{}",
        CONFIG.replace(
            "[profiles.shop.instances.shop-1]\nflow = \"basic\"",
            "[profiles.shop.instances.shop-1]\nflow = \"basic\"\nsite_name = \"My Shop\"",
        )
    );
    std::fs::write(s.config.join("config.toml"), config).unwrap();
    assert_eq!(bash(&s, "wixauth token --instance ", &[]), ["shop-1"]);
    let out = Command::new(assert_cmd::cargo::cargo_bin("wixauth"))
        .args(["--", "wixauth", "token", "--instance", ""])
        .env("_WIXAUTH_COMPLETE", "fish")
        .env("WIXAUTH_CONFIG_DIR", &s.config)
        .env_remove("WIXAUTH_PROFILE")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("shop-1\tMy Shop, basic flow"), "{shown:?}");
}
