//! Bugs that copies of one rule in several rooms caused (issue 15), each fixed by giving the
//! rule one home: the profile lifecycle, the flow rules, `Error { exit, what, fix }`.

use crate::support::loopback::*;
use crate::support::*;

const CLIENT: &str = "client-55555555";

fn headless_env() -> TestEnv {
    let env = TestEnv::new();
    env.emu
        .register_headless(CLIENT, &["http://localhost:8338/callback"]);
    env
}

fn login_visitor(env: &TestEnv) {
    let out = env.run(
        env.cmd()
            .args(["login", "--flow", "visitor", "--client-id", CLIENT]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

fn check<'v>(v: &'v serde_json::Value, name: &str) -> &'v serde_json::Value {
    v["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name:?}: {v:#}"))
}

/// Bug 3: CI Headless credentials that Wix refuses get Headless advice, not "check the app
/// secret".
#[test]
fn status_check_with_ci_headless_credentials_names_the_refresh_token() {
    let env = headless_env();
    let out = env.run(
        env.cmd()
            .args(["status", "--check"])
            .env("WIX_CLIENT_ID", CLIENT)
            .env("WIX_REFRESH_TOKEN", "revoked-refresh-token-value"),
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.starts_with("wixauth: error:"))
        .unwrap_or_default();
    assert!(line.contains("WIX_REFRESH_TOKEN"), "{line}");
    // Its status lines speak of a Headless client too.
    assert!(!stdout(&out).contains("app id"), "{}", stdout(&out));
    for app_words in ["app secret", "WIX_APP_SECRET", "app id"] {
        assert!(
            !line.contains(app_words),
            "app advice for a Headless client: {line}"
        );
    }
}

/// Bug 4: `doctor` checks CI Headless credentials, and in CI it acts for WIX_INSTANCE_ID.
#[test]
fn doctor_checks_ci_credentials_of_either_kind() {
    let env = headless_env();
    login_visitor(&env);
    let refresh = env
        .stored_secret("default/headless-client/refresh-token")
        .expect("a visitor refresh token");
    let ci_dir = tempfile::tempdir().unwrap();
    let doctor = |vars: &[(&str, &str)]| {
        let mut cmd = env.cmd();
        cmd.args(["doctor", "--json"])
            .env("WIXAUTH_CONFIG_DIR", ci_dir.path());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        json_out(&env.run(&mut cmd))
    };
    let v = doctor(&[("WIX_CLIENT_ID", CLIENT), ("WIX_REFRESH_TOKEN", &refresh)]);
    let c = check(&v, "credentials (environment)");
    assert_eq!(c["ok"], true, "{c}");
    assert!(c["detail"].as_str().unwrap().contains(CLIENT), "{c}");

    let v = doctor(&[
        ("WIX_APP_ID", APP_ID),
        ("WIX_APP_SECRET", &env.secret),
        ("WIX_INSTANCE_ID", INSTANCE),
    ]);
    let c = check(&v, "credentials (environment)");
    assert_eq!(
        c["ok"], true,
        "no app instance given while WIX_INSTANCE_ID is set? {c}"
    );
    assert!(c["detail"].as_str().unwrap().contains(INSTANCE), "{c}");
}

/// Bug 5: a member profile logs in through the local listener: its port is checked.
#[test]
fn doctor_checks_the_redirect_port_of_a_member_profile() {
    let env = TestEnv::new();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/callback",
        busy.local_addr().unwrap().port()
    );
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(
        env.config_file(),
        format!("[profiles.shop]\nclient_id = \"{CLIENT}\"\nflow = \"member\"\nredirect_url = \"{url}\"\n"),
    )
    .unwrap();
    let v = json_out(&env.run(env.cmd().args(["doctor", "--json"])));
    let c = check(&v, "redirect port of profile shop");
    assert_eq!(c["ok"], false, "{c}");
    assert!(c["detail"].as_str().unwrap().contains("in use"), "{c}");
}

/// Bug 7: a config folder others can write to is the case `doctor` exists for: reported
/// among the other checks, with its fix, exit 1, and nothing written there.
#[cfg(unix)]
#[test]
fn doctor_reports_a_writable_config_folder_and_writes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    env.login_basic();
    let dir = env.config_dir().to_path_buf();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let listing = |d: &std::path::Path| {
        let mut all = Vec::new();
        for e in walk(d) {
            let meta = std::fs::metadata(&e).unwrap();
            all.push((e, meta.len(), meta.modified().ok()));
        }
        all.sort();
        all
    };
    let before = listing(&dir);
    let out = env.run(env.cmd().args(["doctor", "--json"]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json_out(&out);
    let c = check(&v, "config folder");
    assert_eq!(c["ok"], false, "{c}");
    let fix = format!("chmod 700 {}", dir.display());
    assert!(c["fix"].as_str().unwrap().contains(&fix), "{c}");
    assert!(
        v["checks"].as_array().unwrap().len() >= 6,
        "every check ran: {v:#}"
    );
    assert_eq!(
        listing(&dir),
        before,
        "doctor wrote into an untrusted folder"
    );
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        match entry.path().is_dir() {
            true => out.extend(walk(&entry.path())),
            false => out.push(entry.path()),
        }
    }
    out
}

/// Bug 8: a child of `exec` calls wixauth again for the same profile, for every flow.
#[test]
fn exec_children_can_call_wixauth_again_for_a_headless_profile() {
    let env = headless_env();
    login_visitor(&env);
    let wixauth = assert_cmd::cargo::cargo_bin("wixauth");
    let out = env.run(env.cmd().args(["exec", "--"]).arg(&wixauth).arg("token"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).trim().is_empty());
    // And for an app profile, as before.
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().args(["exec", "--"]).arg(&wixauth).arg("token"));
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Bug 6: one Wix rejection reads the same in the terminal and on the browser's page: the
/// same words, and the same next step, carrying the user's own flags.
#[test]
fn one_rejection_reads_the_same_in_the_terminal_and_the_page() {
    let env = TestEnv::new();
    env.emu.push_fault(
        "/oauth/access",
        crate::support::emulator::Fault::Message(401, "invalid client credentials".into()),
    );
    let (mut login, url) = env.start_advanced(&["--profile", "shop"]);
    let hops = follow(&url);
    let (_, page) = hops.last().expect("the callback's answer");
    let out = login.wait();
    let line = assert_fails(&out, 3);
    let text = page.text();
    let what = line
        .trim_start_matches("wixauth: error: ")
        .split("; ")
        .next()
        .unwrap();
    let mut sentence = what.to_string();
    sentence[..1].make_ascii_uppercase();
    assert!(text.contains(&sentence), "page: {text}\nline: {line}");
    let command = line.split('`').nth(1).expect("a command in the line");
    assert!(command.contains("--profile shop"), "{line}");
    assert!(
        text.contains(&format!("<code>{command}</code>")),
        "page: {text}\nline: {line}"
    );
}
