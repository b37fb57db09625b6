//! `wixauth switch` and `wixauth doctor` through the binary.

use crate::support::*;

#[test]
fn switch_changes_the_instance_commands_use() {
    let env = TestEnv::new();
    env.login_two_instances();
    let instance_of_token = || {
        let out = env.run(env.cmd().args(["token", "--json"]));
        assert!(out.status.success(), "{}", stderr(&out));
        json_out(&out)["instance_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(instance_of_token(), INSTANCE_2);

    let out = env.run(env.cmd().args(["switch", "--instance", INSTANCE]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("Default instance set: profile default, instance {INSTANCE} (site \"Emulated Site\").\n")
    );
    assert!(stdout(&out).is_empty());
    assert_eq!(instance_of_token(), INSTANCE);

    // Without flags and without a terminal; an unknown profile or instance: exit 2, no change.
    for args in [
        &["switch"][..],
        &["switch", "--profile", "nope"],
        &["switch", "--instance", "inst-99999999"],
    ] {
        let out = env.run(env.cmd().args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    }
    assert_eq!(instance_of_token(), INSTANCE);
}

#[test]
fn doctor_passes_when_all_holds_and_fails_with_a_fix() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().args(["doctor", "--json"]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let v = json_out(&out);
    assert_eq!(v["ok"], true, "{v:#}");
    assert!(
        v["checks"].as_array().is_some_and(|c| c.len() >= 7),
        "{v:#}"
    );

    // Wix no longer takes the credentials: exit 1, the problem and what to do on its line.
    env.emu.uninstall(APP_ID, INSTANCE);
    let out = env.run(env.cmd().arg("doctor"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("PROBLEM credentials of profile default: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("not installed") && line.contains("(fix: "),
        "{line}"
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("PROBLEM")).count(),
        1,
        "{text}"
    );
}

/// A D-Bus address nothing listens on, and a HOME of our own: no keyring answers.
#[cfg(target_os = "linux")]
fn without_keyring(cmd: &mut assert_cmd::Command) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("tempdir");
    cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", home.path())
        .env("WIXAUTH_SECRET_STORE", "keyring");
    home
}

#[cfg(target_os = "linux")]
#[test]
fn an_unreachable_keyring_still_gets_a_listing_and_a_doctor_line() {
    let env = TestEnv::new();
    env.login_basic();
    let mut status = env.cmd();
    status.arg("status");
    let _home = without_keyring(&mut status);
    let out = env.run(&mut status);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(APP_ID) && text.contains(INSTANCE), "{text}");
    assert!(text.contains("secret:  cannot be read: "), "{text}");
    assert!(stderr(&out).contains("keyring"), "{}", stderr(&out));

    // A Wix Headless profile beside it is listed too, its refresh token "cannot be read".
    env.emu
        .register_headless("client-55555555", &["http://localhost:8338/callback"]);
    let out = env.run(env.cmd().args([
        "login",
        "--profile",
        "shop",
        "--flow",
        "visitor",
        "--client-id",
        "client-55555555",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&mut status);
    let text = stdout(&out);
    assert!(
        text.contains(APP_ID) && text.contains("client-55555555"),
        "{text}"
    );
    assert!(text.contains("refresh token cannot be read: "), "{text}");

    let mut doctor = env.cmd();
    doctor.args(["doctor", "--json"]);
    let _home = without_keyring(&mut doctor);
    let out = env.run(&mut doctor);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json_out(&out);
    let store = &v["checks"][0];
    assert_eq!(store["name"], "secret store");
    assert_eq!(store["ok"], false, "{store}");
    assert!(
        store["fix"]
            .as_str()
            .unwrap_or_default()
            .contains("WIXAUTH_SECRET_STORE=file"),
        "{store}"
    );
}

#[test]
fn status_check_learns_the_site_name_and_status_shows_it() {
    let env = TestEnv::new();
    env.login_basic();
    // The login learnt the site's name on the way.
    let out = env.run(env.cmd().arg("status"));
    assert!(stdout(&out).contains("Emulated Site"), "{}", stdout(&out));
    // A site renamed since is learnt by --check.
    env.emu.set_site_name("Renamed Site");
    let out = env.run(env.cmd().arg("status"));
    assert!(!stdout(&out).contains("Renamed Site"), "{}", stdout(&out));
    let out = env.run(env.cmd().args(["status", "--check"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(env.cmd().arg("status"));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains(INSTANCE))
        .unwrap_or_default();
    assert!(
        line.contains(&format!("instance {INSTANCE} \"Renamed Site")),
        "{text}"
    );
    let out = env.run(env.cmd().args(["status", "--json"]));
    let v = json_out(&out);
    let site = v["profiles"][0]["instances"][0]["site_name"]
        .as_str()
        .unwrap_or_default();
    assert!(site.starts_with("Renamed Site"), "{v}");
}
