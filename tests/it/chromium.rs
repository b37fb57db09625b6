//! A real browser: headless Chromium as `$BROWSER` follows the emulator's installer redirect to
//! the login's listener, which sends it on to Wix's close-window page with the access token.
//!
//! Ignored by default: `scripts/test.sh` installs Debian's `chromium` and runs them with
//! `--include-ignored` (the keyring variant also needs the gnome-keyring that script starts).

use crate::support::loopback::*;
use crate::support::*;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const INST: &str = "inst-chromium";

/// `chromium` or `chromium-browser` from PATH.
fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!("Chromium is not installed (neither chromium nor chromium-browser is on PATH): run scripts/test.sh, or apt-get install chromium");
}

/// A `$BROWSER` script running headless Chromium on its argument with a fresh profile,
/// bounded by `timeout`; Chromium's final DOM and its log are left in `dir`. Everything not on
/// loopback (which Chromium never proxies) goes to a proxy on a closed port.
fn chromium_browser(dir: &Path) -> PathBuf {
    let script = dir.join("browser.sh");
    let profiles = dir.join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
profile=$(mktemp -d '{profiles}/run.XXXXXX')
timeout 60 '{chromium}' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --proxy-server='{proxy}' \
  --user-data-dir="$profile" --dump-dom "$1" >'{dir}/dom.html' 2>'{dir}/chromium.log'
echo "exit $?" >>'{dir}/chromium.log'
rm -rf "$profile"
"#,
            profiles = profiles.display(),
            chromium = chromium().display(),
            dir = dir.display(),
            proxy = closed_base(),
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

/// Runs `wixauth login --flow advanced` with Chromium as `$BROWSER` (no `--no-browser`, no
/// DISPLAY) and asserts it completes through the close-window page. Returns the output.
fn login_with_chromium(env: &TestEnv, store: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let browser = chromium_browser(dir.path());
    env.emu.set_next_instance(INST);
    let (port, redirect) = env.new_redirect();
    let mut cmd = env.std_cmd();
    cmd.args([
        "login",
        "--flow",
        "advanced",
        "--app-id",
        APP_ID,
        "--redirect-url",
        &redirect,
        "--timeout",
        "75",
    ])
    .env("BROWSER", &browser)
    .env("WIXAUTH_SECRET_STORE", store);
    let started = Instant::now();
    let (mut login, _url) = env.start_login_cmd(port, redirect, cmd, SecretVia::Env);
    // Chromium can take tens of seconds to start on a loaded 2-core machine.
    let out = login.wait_for(Duration::from_secs(80));
    let log = std::fs::read_to_string(dir.path().join("chromium.log")).unwrap_or_default();
    env.assert_no_leak(&out);
    assert!(
        out.status.success(),
        "login with Chromium failed: {}\nChromium: {log}",
        stderr(&out)
    );
    eprintln!(
        "TIMING Chromium login ({store} store): start to exit = {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    assert!(
        !stderr(&out).contains("Not opening a browser"),
        "{}",
        stderr(&out)
    );

    // Chromium goes on to Wix's close-window page after the listener's redirect.
    let deadline = Instant::now() + Duration::from_secs(20);
    let closed = loop {
        let closed = env.emu.closed_windows();
        if !closed.is_empty() {
            break closed;
        }
        assert!(
            Instant::now() < deadline,
            "Chromium never reached close-window; Chromium: {log}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(closed.len(), 1);
    let token = &closed[0];
    let issued = env
        .emu
        .token_info(token)
        .expect("close-window got a token the emulator issued");
    assert_eq!(issued.instance_id, INST);
    assert_eq!(
        env.default_profile()["instances"][INST]["flow"].as_str(),
        Some("advanced")
    );
    // The same token is what `token` prints from the cache.
    assert_eq!(&token_with_store(env, store, &[]), token);
    out
}

/// `wixauth token ARGS` with the given secret store; asserts success, returns the token.
fn token_with_store(env: &TestEnv, store: &str, args: &[&str]) -> String {
    let out = env.run(
        env.cmd()
            .arg("token")
            .args(args)
            .env("WIXAUTH_SECRET_STORE", store),
    );
    assert!(out.status.success(), "token {args:?}: {}", stderr(&out));
    stdout(&out).trim_end().to_string()
}

#[test]
#[ignore = "needs Chromium: run scripts/test.sh"]
fn chromium_completes_the_advanced_login() {
    let env = TestEnv::new();
    login_with_chromium(&env, "file");
    assert!(env.stored_refresh_token(INST).is_some());
    env.assert_credentials_work();
}

/// Removes this test's keyring items however the test ends.
struct KeyringCleanup(String);

impl Drop for KeyringCleanup {
    fn drop(&mut self) {
        let _ = Command::new("secret-tool")
            .args(["clear", "service", &self.0])
            .output();
    }
}

#[test]
#[ignore = "needs Chromium: run scripts/test.sh"]
fn chromium_login_with_the_real_keyring() {
    assert!(
        std::env::var_os("WIXAUTH_TEST_KEYRING").is_some(),
        "this test needs the gnome-keyring that scripts/test.sh starts (it sets WIXAUTH_TEST_KEYRING=1)"
    );
    let env = TestEnv::new();
    let _cleanup = KeyringCleanup(env.keyring_service.clone());
    let out = login_with_chromium(&env, "keyring");
    assert!(
        stderr(&out).contains("keyring"),
        "the summary names the keyring: {}",
        stderr(&out)
    );
    assert!(
        !env.secrets_file().exists(),
        "the keyring store never writes secrets.toml"
    );
    // The refresh token is in the keyring under this test's service name.
    let lookup = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            &env.keyring_service,
            "username",
            &format!("default/{INST}/refresh-token"),
        ])
        .output()
        .expect("run secret-tool (package libsecret-tools)");
    let refresh = String::from_utf8_lossy(&lookup.stdout).trim().to_string();
    assert!(
        env.emu.refresh_tokens().contains(&refresh),
        "the keyring holds the refresh token Wix issued"
    );
    // A later `token --no-cache` refreshes with it, from the keyring.
    let before = env.emu.count("/oauth/access");
    let token = token_with_store(&env, "keyring", &["--no-cache"]);
    assert!(env.emu.token_info(&token).is_some());
    assert_eq!(env.emu.count("/oauth/access"), before + 1);
    assert!(!env.secrets_file().exists());
}

/// Chromium's view of a page: the visible text of `--dump-dom`, and a screenshot beside it.
fn render(url: &str, dir: &Path, name: &str) -> String {
    let run = |extra: &[String]| {
        Command::new("timeout")
            .arg("60")
            .arg(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=800,600",
            ])
            .arg(format!(
                "--user-data-dir={}",
                dir.join(format!("profile-{name}")).display()
            ))
            .args(extra)
            .arg(url)
            .output()
            .expect("run Chromium")
    };
    let shot = dir.join(format!("{name}.png"));
    let _ = run(&[format!("--screenshot={}", shot.display())]);
    if let Some(keep) = std::env::var_os("WIXAUTH_KEEP_SCREENSHOTS") {
        let _ = std::fs::copy(&shot, Path::new(&keep).join(format!("{name}.png")));
    }
    let dom = String::from_utf8_lossy(&run(&["--dump-dom".to_string()]).stdout).into_owned();
    let mut text = String::new();
    let mut in_tag = false;
    let body = &dom[dom.find("<body").unwrap_or(0)..];
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
#[ignore = "needs Chromium: run scripts/test.sh"]
fn the_listeners_pages_read_as_written_for_a_person_in_chromium() {
    let env = TestEnv::new();
    let dir = tempfile::tempdir().unwrap();
    let (mut login, _url) = env.start_advanced(&[]);
    // A stray address, and a redirect that did not come from this login (a reload, another page).
    let stray = render(&login.url("/elsewhere"), dir.path(), "not-found");
    assert!(stray.contains("Nothing here"), "{stray}");
    assert!(
        stray.contains("open the URL wixauth printed in the terminal"),
        "{stray}"
    );
    let wrong = render(
        &login.url("/callback?state=from-another-page&code=x"),
        dir.path(),
        "wrong-state",
    );
    assert!(wrong.contains("The login is still waiting"), "{wrong}");
    assert!(!wrong.to_lowercase().contains("cross-site"), "{wrong}");
    // Calm: the login goes on, so no red mark and no "could not log in" (issue 17 item 8).
    let app = render(&login.url("/app"), dir.path(), "app-without-token");
    for text in [&stray, &wrong, &app] {
        assert!(!text.contains('`'), "a literal backtick: {text}");
        assert!(text.contains("You can close this tab"), "{text}");
        assert!(
            !text.contains('\u{2718}') && !text.contains("could not log in"),
            "{text}"
        );
    }
    login.assert_running("the pages");
    login.signal("INT");
    let out = login.wait();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
}
