//! The secret store against a real OS keyring, and the `auto` fallback when there is none.
//!
//! Tests marked `#[ignore]` need a running Secret Service on the session bus: `scripts/test.sh`
//! starts a throwaway gnome-keyring in a private D-Bus session, sets `WIXAUTH_TEST_KEYRING=1`
//! and runs them with `--include-ignored`. Every test uses its own keyring service name
//! (`env.keyring_service`), never the real `wixauth` one, and removes its items afterwards.
//!
//! The other tests need no daemon: they point wixauth at a D-Bus address that does not exist.

use crate::support::loopback::*;
use crate::support::*;

use std::process::Command;

const NEEDS_DAEMON: &str = "needs a Secret Service: run scripts/test.sh";

/// A test environment whose keyring items are removed however the test ends.
struct KeyringEnv {
    env: TestEnv,
}

impl std::ops::Deref for KeyringEnv {
    type Target = TestEnv;
    fn deref(&self) -> &TestEnv {
        &self.env
    }
}

impl Drop for KeyringEnv {
    fn drop(&mut self) {
        let _ = Command::new("secret-tool")
            .args(["clear", "service", &self.env.keyring_service])
            .output();
    }
}

/// A `TestEnv` for tests that use the real Secret Service of this session.
fn keyring_env() -> KeyringEnv {
    assert!(
        std::env::var_os("WIXAUTH_TEST_KEYRING").is_some(),
        "this test {NEEDS_DAEMON} (it sets WIXAUTH_TEST_KEYRING=1 once gnome-keyring is up)"
    );
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "WIXAUTH_TEST_KEYRING is set but there is no DBUS_SESSION_BUS_ADDRESS"
    );
    KeyringEnv {
        env: TestEnv::new(),
    }
}

/// How many items the keyring holds for this test's service, through libsecret's own client.
fn keyring_items(env: &TestEnv) -> usize {
    let out = Command::new("secret-tool")
        .args(["search", "--all", "service", &env.keyring_service])
        .output()
        .expect("run secret-tool (package libsecret-tools)");
    // One `[/path]` header per item on stdout; the secret follows it, so never print stdout.
    // An empty search may exit 0 or 1 depending on the libsecret version.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('['))
        .count()
}

/// The value the keyring holds for one entry, through libsecret's own client.
fn keyring_lookup(env: &TestEnv, account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            &env.keyring_service,
            "username",
            account,
        ])
        .output()
        .expect("run secret-tool (package libsecret-tools)");
    let value = String::from_utf8_lossy(&out.stdout)
        .trim_end_matches('\n')
        .to_string();
    (out.status.success() && !value.is_empty()).then_some(value)
}

fn warnings(out: &std::process::Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with("wixauth: warning:"))
        .map(str::to_string)
        .collect()
}

fn login_cmd(env: &TestEnv, store: &str) -> assert_cmd::Command {
    let mut cmd = env.login_basic_cmd();
    cmd.env("WIXAUTH_SECRET_STORE", store);
    cmd
}

fn assert_one_token(out: &std::process::Output, env: &TestEnv) {
    assert!(out.status.success(), "token failed: {}", stderr(out));
    let text = stdout(out);
    assert!(
        text.ends_with('\n') && text.lines().count() == 1,
        "want one line on stdout, got {text:?}"
    );
    assert!(
        env.emu.token_info(text.trim()).is_some(),
        "the emulator did not issue {text:?}"
    );
}

// ---------------------------------------------------------------- a real Secret Service

#[test]
#[ignore = "needs a Secret Service: run scripts/test.sh"]
fn keyring_mode_stores_reads_and_deletes_the_secret() {
    let env = keyring_env();
    assert_eq!(
        keyring_items(&env),
        0,
        "a fresh service name must start empty"
    );

    let out = env.run(&mut login_cmd(&env, "keyring"));
    assert!(out.status.success(), "login failed: {}", stderr(&out));
    assert!(
        warnings(&out).is_empty(),
        "unexpected warning: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("keyring"),
        "the summary should say where the secret went: {}",
        stderr(&out)
    );

    assert_eq!(
        keyring_items(&env),
        1,
        "want exactly the app secret in the keyring"
    );
    assert!(
        keyring_lookup(&env, APP_SECRET_ENTRY).as_deref() == Some(env.secret.as_str()),
        "the keyring entry default/app-secret does not hold the app secret"
    );
    assert!(
        !env.secrets_file().exists(),
        "a keyring login must not write {}",
        env.secrets_file().display()
    );

    // A new token needs the secret: it must come from the keyring.
    let requests = env.token_requests();
    let out = env.run(
        env.cmd()
            .env("WIXAUTH_SECRET_STORE", "keyring")
            .args(["token", "--no-cache"]),
    );
    assert_one_token(&out, &env);
    assert!(
        warnings(&out).is_empty(),
        "unexpected warning: {}",
        stderr(&out)
    );
    assert_eq!(
        env.token_requests(),
        requests + 1,
        "--no-cache must ask Wix"
    );

    let out = env.run(
        env.cmd()
            .env("WIXAUTH_SECRET_STORE", "keyring")
            .args(["logout", "--all"]),
    );
    assert!(out.status.success(), "logout failed: {}", stderr(&out));
    assert_eq!(
        keyring_items(&env),
        0,
        "logout --all must remove the keyring entry"
    );
    assert!(!env.secrets_file().exists());

    let out = env.run(
        env.cmd()
            .env("WIXAUTH_SECRET_STORE", "keyring")
            .arg("token"),
    );
    assert_fails(&out, 2);

    // Logging out twice is not an error.
    let out = env.run(
        env.cmd()
            .env("WIXAUTH_SECRET_STORE", "keyring")
            .args(["logout", "--all"]),
    );
    assert!(
        out.status.success(),
        "second logout failed: {}",
        stderr(&out)
    );
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test.sh"]
fn auto_mode_uses_a_working_keyring_silently() {
    let env = keyring_env();

    let out = env.run(login_cmd(&env, "auto").arg("--json"));
    assert!(out.status.success(), "login failed: {}", stderr(&out));
    assert!(
        warnings(&out).is_empty(),
        "auto must not warn when the keyring works: {}",
        stderr(&out)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&stdout(&out)).expect("login --json prints JSON");
    assert_eq!(summary["secret_store"], "keyring", "{summary}");
    assert_eq!(keyring_items(&env), 1);
    assert!(
        !env.secrets_file().exists(),
        "auto with a working keyring must not write {}",
        env.secrets_file().display()
    );

    let out = env.run(
        env.cmd()
            .env("WIXAUTH_SECRET_STORE", "auto")
            .args(["token", "--no-cache"]),
    );
    assert_one_token(&out, &env);
    assert!(
        stderr(&out).is_empty(),
        "token must be silent: {}",
        stderr(&out)
    );

    // Unset means auto too.
    let out = env.run(
        env.cmd()
            .env_remove("WIXAUTH_SECRET_STORE")
            .args(["token", "--no-cache"]),
    );
    assert_one_token(&out, &env);
    assert!(
        stderr(&out).is_empty(),
        "token must be silent: {}",
        stderr(&out)
    );
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test.sh"]
fn status_reports_the_keyring() {
    let env = keyring_env();
    let out = env.run(&mut login_cmd(&env, "keyring"));
    assert!(out.status.success(), "login failed: {}", stderr(&out));

    for store in ["keyring", "auto"] {
        let out = env.run(
            env.cmd()
                .env("WIXAUTH_SECRET_STORE", store)
                .args(["status", "--json"]),
        );
        assert!(out.status.success(), "status failed: {}", stderr(&out));
        let report: serde_json::Value =
            serde_json::from_str(&stdout(&out)).expect("status --json prints JSON");
        let profile = report["profiles"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "default"))
            .unwrap_or_else(|| panic!("no default profile in {report}"));
        assert_eq!(profile["secret_location"], "keyring", "{report}");
        assert!(profile["secrets_file"].is_null(), "{report}");
        assert_eq!(report["ready"], true, "{report}");

        let out = env.run(env.cmd().env("WIXAUTH_SECRET_STORE", store).arg("status"));
        assert!(out.status.success(), "status failed: {}", stderr(&out));
        assert!(stdout(&out).contains("keyring"), "{}", stdout(&out));
        assert!(!stdout(&out).contains("PLAIN TEXT"), "{}", stdout(&out));
    }
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test.sh"]
fn a_failed_login_leaves_the_keyring_entry_intact() {
    let env = keyring_env();
    let out = env.run(&mut login_cmd(&env, "keyring"));
    assert!(out.status.success(), "login failed: {}", stderr(&out));

    // Wix fails every attempt of a second login that brings another secret.
    for _ in 0..3 {
        env.emu.push_fault("/oauth2/token", Fault::Status(500));
    }
    let other = format!("{}-other", env.secret);
    env.add_secret(&other);
    // write_stdin replaces the login's own secret.
    let out = env.run(login_cmd(&env, "keyring").write_stdin(format!("{other}\n")));
    assert_fails(&out, 4);

    assert_eq!(keyring_items(&env), 1);
    assert!(
        keyring_lookup(&env, APP_SECRET_ENTRY).as_deref() == Some(env.secret.as_str()),
        "a failed login must not replace the stored secret"
    );
    let out = env.run(
        env.cmd()
            .env("WIXAUTH_SECRET_STORE", "keyring")
            .args(["token", "--no-cache"]),
    );
    assert_one_token(&out, &env);
}

// ---------------------------------------------------------------- no Secret Service reachable

/// A D-Bus address nothing listens on, and a HOME and runtime dir of our own, so no real
/// user keyring (or its autolaunch) is ever touched.
#[cfg(target_os = "linux")]
fn without_keyring(env: &TestEnv, cmd: &mut assert_cmd::Command) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("tempdir");
    cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", home.path())
        .env("WIXAUTH_KEYRING_SERVICE", &env.keyring_service);
    home
}

#[cfg(target_os = "linux")]
#[test]
fn auto_falls_back_to_the_file_loudly_when_no_keyring_answers() {
    use std::os::unix::fs::PermissionsExt;

    let env = TestEnv::new();
    let mut login = login_cmd(&env, "auto");
    let _home = without_keyring(&env, &mut login);
    let out = env.run(&mut login);
    assert!(
        out.status.success(),
        "login must still succeed: {}",
        stderr(&out)
    );

    let warns = warnings(&out);
    assert_eq!(
        warns.len(),
        1,
        "want exactly one warning line, got: {}",
        stderr(&out)
    );
    let warning = &warns[0];
    let file = env.secrets_file();
    assert!(
        warning.contains(&file.display().to_string()),
        "the warning must name {}: {warning}",
        file.display()
    );
    assert!(
        warning.contains("keyring"),
        "the warning must say the keyring failed: {warning}"
    );
    // It says why: the reason is given in parentheses after the claim.
    let why = warning
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(why, _)| why.trim());
    assert!(
        why.is_some_and(|w| !w.is_empty()),
        "the warning must say why: {warning}"
    );

    assert!(file.exists(), "the secret must be in {}", file.display());
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} must be 0600", file.display());

    // The fallback is remembered: tokens work, from the cache and from the stored secret.
    let mut token = env.cmd();
    token.env("WIXAUTH_SECRET_STORE", "auto").arg("token");
    let _home = without_keyring(&env, &mut token);
    assert_one_token(&env.run(&mut token), &env);

    let requests = env.token_requests();
    let mut token = env.cmd();
    token
        .env("WIXAUTH_SECRET_STORE", "auto")
        .args(["token", "--no-cache"]);
    let _home = without_keyring(&env, &mut token);
    let out = env.run(&mut token);
    assert_one_token(&out, &env);
    assert!(
        warnings(&out).len() <= 1,
        "at most one warning per command: {}",
        stderr(&out)
    );
    assert_eq!(env.token_requests(), requests + 1);

    let mut status = env.cmd();
    status
        .env("WIXAUTH_SECRET_STORE", "auto")
        .args(["status", "--json"]);
    let _home = without_keyring(&env, &mut status);
    let out = env.run(&mut status);
    assert!(out.status.success(), "status failed: {}", stderr(&out));
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&out)).expect("status --json prints JSON");
    assert_eq!(report["profiles"][0]["secret_location"], "file", "{report}");
}

#[cfg(target_os = "linux")]
#[test]
fn keyring_mode_without_a_keyring_is_a_usage_error() {
    let env = TestEnv::new();
    let mut login = login_cmd(&env, "keyring");
    let _home = without_keyring(&env, &mut login);
    let out = env.run(&mut login);
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("WIXAUTH_SECRET_STORE=file"),
        "the error must name the way out: {line}"
    );
    assert!(
        warnings(&out).is_empty(),
        "keyring mode must not fall back: {}",
        stderr(&out)
    );
    assert!(
        !env.secrets_file().exists(),
        "keyring mode must never write {}",
        env.secrets_file().display()
    );

    // Nothing was stored, so nothing is logged in.
    let mut token = env.cmd();
    token.env("WIXAUTH_SECRET_STORE", "keyring").arg("token");
    let _home = without_keyring(&env, &mut token);
    let out = env.run(&mut token);
    assert_fails(&out, 2);
}

/// A Secret Service that is running but cannot store anything without a person at an unlock
/// prompt (a fresh gnome-keyring whose login collection was never unlocked): `auto` must
/// fall back to the file loudly, and quickly, instead of hanging or failing the login.
#[test]
#[ignore = "needs gnome-keyring and dbus-run-session: run scripts/test.sh"]
fn auto_falls_back_loudly_when_the_keyring_is_locked() {
    let env = TestEnv::new();
    let home = tempfile::tempdir().unwrap();
    let wixauth = env.std_cmd();
    let mut cmd = Command::new("dbus-run-session");
    for (key, value) in wixauth.get_envs() {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    // Wait (bounded) for the daemon to own the bus name, then log in with the secret on stdin.
    let script = r#"
        gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1
        for _ in $(seq 100); do
            dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
                grep -q 'boolean true' && break
            sleep 0.05
        done
        printf '%s\n' "$TEST_APP_SECRET" | "$WIXAUTH" login --flow basic --app-id "$TEST_APP_ID" \
            --instance-id "$TEST_INSTANCE" --secret-stdin
    "#;
    let started = std::time::Instant::now();
    let out = cmd
        .args(["--", "bash", "-c", script])
        .env("WIXAUTH_SECRET_STORE", "auto")
        .env("WIXAUTH", wixauth.get_program())
        .env("TEST_APP_SECRET", &env.secret)
        .env("TEST_APP_ID", APP_ID)
        .env("TEST_INSTANCE", INSTANCE)
        .env("HOME", home.path())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .expect("dbus-run-session");
    env.assert_no_leak(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let file = env.secrets_file();
    let warned: Vec<String> = warnings(&out);
    assert_eq!(warned.len(), 1, "{err}");
    assert!(
        warned[0].contains(&file.display().to_string()),
        "{}",
        warned[0]
    );
    assert!(file.exists());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    env.assert_credentials_work();
}

/// Logging out while the keyring that holds the profile's secrets cannot be reached still
/// forgets everything local, and says plainly that the keyring entries stayed behind.
#[cfg(target_os = "linux")]
#[test]
fn logout_reports_keyring_entries_it_could_not_remove() {
    let env = TestEnv::new();
    env.login_basic();
    // As if login had put the secrets in the keyring.
    let config =
        read(&env.config_file()).replace("secret_store = \"file\"", "secret_store = \"keyring\"");
    std::fs::write(env.config_file(), config).unwrap();
    let mut cmd = env.cmd();
    cmd.env("WIXAUTH_SECRET_STORE", "auto")
        .args(["logout", "--all"]);
    let _home = without_keyring(&env, &mut cmd);
    let out = env.run(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    let warned = warnings(&out);
    assert_eq!(warned.len(), 1, "{}", stderr(&out));
    assert!(warned[0].contains("were not removed"), "{}", warned[0]);
    assert!(!read(&env.config_file()).contains("[profiles.default]"));

    // A profile whose secrets were in the file needs no such warning.
    env.login_basic();
    let mut cmd = env.cmd();
    cmd.env("WIXAUTH_SECRET_STORE", "auto")
        .args(["logout", "--all"]);
    let _home = without_keyring(&env, &mut cmd);
    let out = env.run(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(warnings(&out).is_empty(), "{}", stderr(&out));
}

/// `logout --all` removes the refresh tokens it put in the keyring, not only the app secret
/// (issue 16: a planted bug that kept them survived the whole suite).
#[test]
#[ignore = "needs a Secret Service: run scripts/test.sh"]
fn logout_all_removes_the_refresh_tokens_from_the_keyring() {
    let env = keyring_env();
    env.emu.set_next_instance(INSTANCE_2);
    let (port, redirect) = env.new_redirect();
    let mut cmd = env.std_cmd();
    cmd.args(["login", "--flow", "advanced", "--app-id", APP_ID])
        .args(["--redirect-url", &redirect, "--no-browser"])
        .env("WIXAUTH_SECRET_STORE", "keyring");
    let (mut login, url) = env.start_login_cmd(port, redirect, cmd, SecretVia::Env);
    env.browse(&url);
    let out = login.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    let entry = format!("default/{INSTANCE_2}/refresh-token");
    assert!(
        keyring_lookup(&env, &entry).is_some(),
        "the refresh token is in the keyring"
    );
    assert_eq!(
        keyring_items(&env),
        2,
        "the app secret and the refresh token"
    );
    let out = env.run(
        env.cmd()
            .args(["logout", "--all"])
            .env("WIXAUTH_SECRET_STORE", "keyring"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        keyring_items(&env),
        0,
        "logout --all left keyring items behind"
    );
}

/// When a secret moves from the file store to the keyring, no plain-text copy stays behind.
#[test]
#[ignore = "needs a Secret Service: run scripts/test.sh"]
fn moving_a_secret_to_the_keyring_leaves_no_plain_text_copy() {
    let env = keyring_env();
    let out = env.run(&mut login_cmd(&env, "file"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(read(&env.secrets_file()).contains(&env.secret));
    let out = env.run(&mut login_cmd(&env, "keyring"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        keyring_lookup(&env, APP_SECRET_ENTRY).as_deref(),
        Some(env.secret.as_str())
    );
    let left = std::fs::read_to_string(env.secrets_file()).unwrap_or_default();
    assert!(
        !left.contains(&env.secret),
        "a plain-text copy stayed: {left}"
    );
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test.sh"]
fn the_webhook_dev_key_lives_in_the_keyring_and_logout_removes_it() {
    let env = keyring_env();
    let out = env.run(&mut login_cmd(&env, "keyring"));
    assert!(out.status.success(), "login failed: {}", stderr(&out));
    let keyring = |cmd: &mut assert_cmd::Command| {
        cmd.env("WIXAUTH_SECRET_STORE", "keyring");
        env.run(cmd)
    };
    let out = keyring(env.cmd().args(["webhook", "dev-key"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(read(&env.config_file()).contains("store = \"keyring\""));
    assert_eq!(keyring_items(&env), 2, "the app secret and the dev key");
    assert!(!std::fs::read_to_string(env.secrets_file())
        .unwrap_or_default()
        .contains("webhook-dev-key"));
    // trigger reads the private key back from the keyring.
    let handler = crate::support::fake_handler::FakeHandler::ok();
    let out = keyring(
        env.cmd()
            .args(["webhook", "trigger", "AppInstalled", "--to", &handler.url]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(handler.seen().len(), 1);
    let out = keyring(env.cmd().args(["logout", "--all", "--yes"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        keyring_items(&env),
        0,
        "logout --all removed the dev key too"
    );
}
