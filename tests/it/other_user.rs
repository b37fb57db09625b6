//! Issue 16 item 1: no other local user can complete, redirect or bind a login the user
//! started. These run as another user (uid 65534, with `setpriv`), which needs root: without
//! it they say why and pass (CI runs as root).
#![cfg(target_os = "linux")]

use crate::support::loopback::*;
use crate::support::*;

use std::process::Command;
use std::time::{Duration, Instant};

const NOBODY: &str = "65534";

/// A command run as uid/gid 65534, or `None` (with the reason on stderr) when not root.
fn as_other_user(program: &str) -> Option<Command> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: running a command as another user needs root (setpriv)");
        return None;
    }
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid",
        NOBODY,
        "--regid",
        NOBODY,
        "--clear-groups",
        "--",
        program,
    ]);
    Some(cmd)
}

/// What another user sees: `program args` as uid 65534, stdout and whether it succeeded.
fn other_user_runs(program: &str, args: &[&str]) -> Option<(bool, String)> {
    let out = as_other_user(program)?
        .args(args)
        .output()
        .expect("setpriv");
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

/// A `$BROWSER` that writes its pid and argument and stays alive (so its command line can be
/// read), like a real browser that keeps running.
fn lingering_browser(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let script = dir.join("browser.sh");
    let record = dir.join("launched");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s %s' \"$$\" \"$1\" > '{0}.tmp' && mv '{0}.tmp' '{0}'\nsleep 20\n",
            record.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The other user must be able to run it too if it wanted: the folder is world-readable.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, record)
}

fn wait_for(path: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The browser's command line, read by another user, holds no `state` and no URL, and the
/// file it names cannot be read by them; the login then completes for the user.
/// `secret_of` is what in the URL would let someone else complete the login.
fn browser_argv_gives_nothing_away(flow: &str, extra: &[&str], secret_of: impl Fn(&str) -> String) {
    let env = TestEnv::new();
    let dir = tempfile::tempdir().unwrap();
    let (script, record) = lingering_browser(dir.path());
    let (_, redirect) = env.new_redirect();
    env.emu.register_headless("client-66666666", &[&redirect]);
    let mut cmd = env.std_cmd();
    cmd.args(["login", "--flow", flow, "--redirect-url", &redirect])
        .args(extra)
        .env("BROWSER", &script)
        .env("WIX_APP_SECRET", &env.secret);
    let mut proc = Running::spawn(cmd, None);
    let url = proc
        .wait_line("the login URL", |l| l.trim().starts_with("http://"))
        .trim()
        .to_string();
    let state = secret_of(&url);
    let launched = wait_for(&record);
    let (pid, path) = launched.split_once(' ').unwrap();
    let Some((_, argv)) = other_user_runs("cat", &[&format!("/proc/{pid}/cmdline")]) else {
        return;
    };
    assert!(
        !argv.is_empty(),
        "another user reads the browser's command line"
    );
    assert!(!argv.contains(&state) && !argv.contains("://"), "{argv:?}");
    let (read, leaked) = other_user_runs("cat", &[path]).unwrap();
    assert!(
        !read && !leaked.contains(&state),
        "another user read the login file"
    );
    match flow {
        "member" => drop(follow(&url)),
        _ => drop(env.browse(&url)),
    }
    let out = proc.wait();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn an_app_logins_browser_command_line_gives_nothing_away() {
    browser_argv_gives_nothing_away("advanced", &["--app-id", APP_ID], |url| {
        query_param(url, "state").unwrap()
    });
}

#[test]
fn a_member_logins_browser_command_line_gives_nothing_away() {
    // Whoever opens Wix's member login page completes the login with their own account: the
    // page's URL (its session) is what must stay private.
    browser_argv_gives_nothing_away("member", &["--client-id", "client-66666666"], |url| {
        query_param(url, "session").unwrap_or_else(|| url.to_string())
    });
}

/// Another user asks the App URL first (in a normal advanced login the user's browser never
/// calls it): refused without a terminal, no state handed out; a forged callback then waits.
#[test]
fn another_user_cannot_take_the_state_from_the_app_url() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_advanced(&[]);
    let state = query_param(&url, "state").unwrap();
    let app = login.url("/app?token=from-another-user");
    let Some((_, page)) = other_user_runs("curl", &["-s", "-i", &app]) else {
        return;
    };
    assert!(page.starts_with("HTTP/1.1 403"), "{page}");
    assert!(
        !page.contains(&state) && !page.to_ascii_lowercase().contains("location:"),
        "{page}"
    );
    let code = env.emu.issue_code(APP_ID, "inst-attacker-site");
    let forged = login.url(&format!(
        "/callback?code={code}&instanceId=inst-attacker-site&state=guess"
    ));
    let (_, page) = other_user_runs("curl", &["-s", "-i", &forged]).unwrap();
    assert!(page.starts_with("HTTP/1.1 400"), "{page}");
    login.assert_running("the forged callback");
    env.emu.set_next_instance(INSTANCE);
    env.browse(&url);
    let out = login.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(INSTANCE) && !stderr(&out).contains("inst-attacker-site"));
}
