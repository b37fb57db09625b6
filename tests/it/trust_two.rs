//! Issue 16 (trust, round two): folders above the config folder, a long run that looks again
//! before each write, secrets bound to their API base, exact profile matches.
#![cfg(unix)]

use crate::support::loopback::*;
use crate::support::*;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode()
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A TestEnv whose config folder sits in `parent` (created with `mode`).
fn env_under(parent_mode: u32) -> (TestEnv, tempfile::TempDir, std::path::PathBuf) {
    let env = TestEnv::new();
    let outer = tempfile::tempdir().unwrap();
    let parent = outer.path().join("shared");
    std::fs::create_dir(&parent).unwrap();
    chmod(&parent, parent_mode);
    let dir = parent.join("wixauth");
    (env, outer, dir)
}

#[test]
fn a_config_folder_under_a_folder_others_can_write_is_refused() {
    let (env, outer, dir) = env_under(0o777);
    let out = env.run(
        env.login_basic_cmd()
            .env("WIXAUTH_CONFIG_DIR", &dir)
            .write_stdin(format!("{}\n", env.secret)),
    );
    let line = assert_fails(&out, 2);
    let parent = outer.path().join("shared");
    assert!(line.contains(&parent.display().to_string()), "{line}");
    assert!(line.contains("writable by other users"), "{line}");
    assert!(!dir.exists(), "nothing was created under it");
    // Sticky, as /tmp is: others cannot remove or rename what is ours, so it is fine.
    chmod(&parent, 0o1777);
    let out = env.run(
        env.login_basic_cmd()
            .env("WIXAUTH_CONFIG_DIR", &dir)
            .write_stdin(format!("{}\n", env.secret)),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A login that waits for the browser looks at the folder again before it writes: one made
/// writable by others meanwhile gets nothing.
#[test]
fn a_waiting_login_checks_the_folder_again_before_it_writes() {
    let env = TestEnv::new();
    env.login_basic();
    let before = read(&env.config_file());
    let (mut login, url) = env.start_advanced(&[]);
    chmod(env.config_dir(), 0o777);
    env.browse(&url);
    let out = login.wait();
    chmod(env.config_dir(), 0o700);
    let line = assert_fails(&out, 2);
    assert!(line.contains("writable by other users"), "{line}");
    assert_eq!(
        read(&env.config_file()),
        before,
        "the config was not written"
    );
}

/// Stored credentials go only to the base they were stored for, whatever the flow: another
/// local user's port on 127.0.0.1 never receives the app secret or a refresh token.
#[test]
fn stored_secrets_never_go_to_another_api_base() {
    let env = TestEnv::new();
    env.login_advanced_via_browser(INSTANCE);
    let other = crate::support::emulator::Emulator::start();
    other.register_app(APP_ID, &env.secret, &[]);
    for args in [&["token", "--no-cache"][..], &["api", "/echo"], &["whoami"]] {
        let out = env.run(env.cmd().args(args).env("WIXAUTH_API_BASE", other.base()));
        let line = assert_fails(&out, 2);
        assert!(
            line.contains(&other.base().trim_end_matches('/').to_string()),
            "{line}"
        );
        assert!(line.contains("logged in at"), "{line}");
    }
    assert_eq!(other.seen().len(), 0, "the other base heard nothing");
}

/// `logout --all` of profile `ci` leaves profile `ci/staging` as it was (a prefix match used
/// to take its secrets too).
#[test]
fn logout_all_matches_the_profile_exactly() {
    let env = TestEnv::new();
    for profile in ["ci", "ci/staging"] {
        let out = env.run(
            env.login_basic_cmd()
                .args(["--profile", profile])
                .write_stdin(format!("{}\n", env.secret)),
        );
        assert!(out.status.success(), "{profile}: {}", stderr(&out));
    }
    let out = env.run(env.cmd().args(["--profile", "ci", "logout", "--all"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        env.stored_secret(&format!("ci/staging/app-secret#{APP_ID}"))
            .is_some(),
        "ci/staging lost its secret: {}",
        read(&env.secrets_file())
    );
    let out = env.run(
        env.cmd()
            .args(["--profile", "ci/staging", "token", "--no-cache"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A callback whose `state` is only a prefix of the login's is not the login's.
#[test]
fn a_prefix_of_the_state_never_completes_a_login() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_advanced(&[]);
    let state = query_param(&url, "state").unwrap();
    let code = env.emu.issue_code(APP_ID, INSTANCE);
    for forged in [&state[..state.len() - 1], &state[..8], ""] {
        let answer = get(&login.url(&format!(
            "/callback?code={code}&instanceId={INSTANCE}&state={forged}"
        )));
        assert_eq!(answer.status, 400, "{forged:?}: {}", answer.text());
        login.assert_running("a forged state");
    }
    env.browse(&url);
    assert!(login.wait().status.success());
}

/// The basic flow's external install comes back to `/installed`: a wrong or missing `state`
/// there is not this login's either.
#[test]
fn a_wrong_state_at_installed_never_completes_a_basic_login() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_login("basic", SecretVia::Env, &["--no-browser"]);
    for query in [
        format!("instanceId={INSTANCE}&state=not-the-state"),
        format!("instanceId={INSTANCE}"),
    ] {
        let answer = get(&login.url(&format!("/installed?{query}")));
        assert_eq!(answer.status, 400, "{query}: {}", answer.text());
        login.assert_running("a forged install");
    }
    env.browse(&url);
    let out = login.wait();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A secrets or cache file readable by the group (0640, not only 0644/0604) is made private.
#[test]
fn a_group_readable_secrets_or_cache_file_is_made_private() {
    let env = TestEnv::new();
    env.login_basic();
    // --no-cache reads the secret; a plain `token` reads the cache.
    for (file, args) in [
        (env.secrets_file(), &["token", "--no-cache"][..]),
        (env.cache_file(), &["token"]),
    ] {
        chmod(&file, 0o640);
        let out = env.run(env.cmd().args(args));
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(mode(&file) & 0o777, 0o600, "{}", file.display());
        assert!(stderr(&out).contains("0600"), "{}", stderr(&out));
    }
}

/// `--secret-stdin` refuses a line that is too long without echoing any of it.
#[test]
fn a_too_long_secret_line_is_refused_and_never_echoed() {
    let env = TestEnv::new();
    let line: String = (0..5000)
        .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
        .collect();
    env.add_secret(&line);
    let out = env.run(
        env.cmd()
            .args(["login", "--flow", "basic", "--app-id", APP_ID])
            .args(["--instance", INSTANCE, "--secret-stdin"])
            .write_stdin(format!("{line}\n")),
    );
    let message = assert_fails(&out, 2);
    assert!(message.contains("longer than"), "{message}");
}

/// `api` sends the token only under the API base's path: `/prefixevil` is not `/prefix/`.
#[test]
fn api_never_sends_the_token_beside_the_base_path() {
    let env = TestEnv::new();
    let base = format!("{}/prefix/", env.emu.base().trim_end_matches('/'));
    let mut cmd = env.cmd();
    env.ci(&mut cmd);
    let evil = format!("{}/prefixevil/x", env.emu.base().trim_end_matches('/'));
    let out = env.run(cmd.args(["api", &evil]).env("WIXAUTH_API_BASE", &base));
    let line = assert_fails(&out, 2);
    assert!(line.contains("refusing to send a Wix token"), "{line}");
    assert_eq!(env.emu.seen().len(), 0, "nothing was sent anywhere");
}

/// Swaps `path` for a folder of the same name (no write can replace it, as root neither)
/// and back again.
struct Blocked(std::path::PathBuf, std::path::PathBuf);

impl Blocked {
    fn new(path: &Path) -> Blocked {
        let aside = path.with_extension("aside");
        std::fs::rename(path, &aside).unwrap();
        std::fs::create_dir(path).unwrap();
        std::fs::write(path.join("keep"), "").unwrap();
        Blocked(path.to_path_buf(), aside)
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::rename(&self.1, &self.0);
    }
}

/// Issue 16 item 4: Wix rotated the refresh token (the old one is gone) and the store refused
/// the new one: it is kept in a 0600 recovery file (named in a warning), the token Wix gave is
/// printed, and the next run uses and stores the kept one.
#[test]
fn a_rotated_refresh_token_the_store_refuses_is_kept_not_lost() {
    use crate::support::emulator::{Fault, Hold};
    let env = TestEnv::new();
    env.login_advanced_via_browser(INSTANCE);
    env.emu.rotate_refresh_tokens(true);
    let hold = Hold::new();
    env.emu
        .push_fault("/oauth/access", Fault::Hold(hold.clone()));
    let mut cmd = env.std_cmd();
    cmd.args(["token", "--no-cache"])
        .env("WIXAUTH_HTTP_TIMEOUT", "60");
    let mut token = Running::spawn(cmd, None);
    hold.wait_arrived();
    let blocked = Blocked::new(&env.secrets_file());
    hold.release();
    let out = token.wait();
    assert!(
        out.status.success(),
        "Wix's token is printed: {}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("recovered-") && err.contains("0600"), "{err}");
    let kept: Vec<_> = std::fs::read_dir(env.config_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("recovered-"))
        .collect();
    assert_eq!(kept.len(), 1, "one recovery file");
    assert_eq!(mode(&kept[0].path()) & 0o777, 0o600);
    drop(blocked);
    // The next run refreshes with the kept (newest) token, stores it, and drops the file.
    let out = env.run(env.cmd().args(["token", "--no-cache"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !kept[0].path().exists(),
        "the recovery file is gone once stored"
    );
}

/// Issue 16 item 4: a login into another app writes the new secret under its own name, so a
/// config write that fails after it leaves the previous app working with its own secret.
#[test]
fn a_login_to_another_app_whose_config_write_fails_keeps_the_old_app_working() {
    use crate::support::emulator::{Fault, Hold};
    let env = TestEnv::new();
    env.login_basic();
    let other = format!("other-{}", env.secret);
    env.add_secret(&other);
    env.emu.register_app("app-99999999", &other, &[]);
    env.emu.install("app-99999999", INSTANCE);
    let hold = Hold::new();
    env.emu
        .push_fault("/oauth2/token", Fault::Hold(hold.clone()));
    let mut cmd = env.std_cmd();
    cmd.args([
        "login",
        "--app-id",
        "app-99999999",
        "--instance",
        INSTANCE,
        "--secret-stdin",
    ])
    .env("WIXAUTH_HTTP_TIMEOUT", "60");
    let mut login = Running::spawn(cmd, Some(&format!("{other}\n")));
    hold.wait_arrived();
    let blocked = Blocked::new(&env.config_file());
    hold.release();
    let out = login.wait();
    assert!(!out.status.success(), "the config could not be written");
    drop(blocked);
    let out = env.run(env.cmd().args(["token", "--no-cache"]));
    assert!(
        out.status.success(),
        "the old app lost its secret: {}",
        stderr(&out)
    );
}

/// `webhook listen --save-instances` refuses a Wix Headless profile (it has no instances).
#[test]
fn save_instances_refuses_a_headless_profile() {
    let env = TestEnv::new();
    env.emu.register_headless("client-77777777", &[]);
    let out = env.run(env.cmd().args([
        "login",
        "--flow",
        "visitor",
        "--client-id",
        "client-77777777",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(
        env.cmd()
            .args(["webhook", "listen", "--save-instances", "--port", "0"])
            .env("WIX_WEBHOOK_PUBLIC_KEY", "unused"),
    );
    let line = assert_fails(&out, 2);
    assert!(line.contains("Wix Headless client"), "{line}");
}
