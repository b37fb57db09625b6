//! Issue 8: no wrong-tenant tokens, nothing left behind, secrets stay in the process, no proxy
//! for clear text, the terminal is ours, and Wix's current defaults. (Files and folders:
//! `trust_files.rs`; the login's own rules: `browser_login.rs`, `listener_hostile.rs`.)

use crate::support::loopback::*;
use crate::support::*;

use std::io::{Read, Write};
use std::time::Instant;

// ------------------------------------------------------------------ 1. the cache never crosses

#[test]
fn a_wrong_environment_secret_never_gets_a_cached_token() {
    let env = TestEnv::new();
    env.login_basic();
    let cached = env.token_ok(&[]);
    // Today's CI secret check: it must fail when the secret is wrong, cache or not.
    let out = env.run(env.cmd().arg("token").env("WIX_APP_SECRET", "WRONG"));
    let line = assert_fails(&out, 3);
    assert!(line.contains("HTTP 401"), "{line}");
    assert!(!stdout(&out).contains(&cached));
    // The right secret from the environment works, with a token minted for it.
    let out = env.run(env.cmd().arg("token").env("WIX_APP_SECRET", &env.secret));
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn an_environment_refresh_token_wins_over_the_stored_instance() {
    let env = TestEnv::new();
    env.login_basic(); // site A: INSTANCE, basic flow, its token cached
    let site_a = env.token_ok(&[]);
    let refresh_b = env.emu.issue_refresh_token(APP_ID, INSTANCE_2);
    env.add_secret(&refresh_b);
    for args in [&[][..], &["--no-cache"]] {
        let out = env.run(
            env.cmd()
                .arg("token")
                .args(args)
                .arg("--json")
                .env("WIX_REFRESH_TOKEN", &refresh_b),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let v = json_out(&out);
        let token = v["access_token"].as_str().unwrap();
        assert_ne!(token, site_a, "site A's token for site B's refresh token");
        assert_eq!(env.emu.token_info(token).unwrap().instance_id, INSTANCE_2);
        assert_eq!(v["flow"], "advanced");
    }
    // Site A's own entry was not overwritten by B's token.
    assert_eq!(env.token_ok(&[]), site_a);
}

#[test]
fn two_environment_refresh_tokens_of_one_app_never_share_a_cache_entry() {
    let env = TestEnv::new();
    let (a, b) = (
        env.emu.issue_refresh_token(APP_ID, INSTANCE),
        env.emu.issue_refresh_token(APP_ID, INSTANCE_2),
    );
    let token_for = |refresh: &str| {
        let out = env.run(
            env.cmd()
                .arg("token")
                .env("WIX_APP_ID", APP_ID)
                .env("WIX_APP_SECRET", &env.secret)
                .env("WIX_REFRESH_TOKEN", refresh),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).trim().to_string()
    };
    let (ta, tb) = (token_for(&a), token_for(&b));
    assert_ne!(ta, tb);
    assert_eq!(env.emu.token_info(&tb).unwrap().instance_id, INSTANCE_2);
    // Each is then served from its own entry.
    assert_eq!(token_for(&a), ta);
    assert_eq!(token_for(&b), tb);
    assert_eq!(env.cache_files().len(), 2);
}

// ------------------------------------------------------------------ 4. nothing outlives logout

#[test]
fn a_login_to_another_app_forgets_the_old_apps_secrets_and_tokens() {
    let env = TestEnv::new();
    let old = env.login_advanced_via_browser("inst-old-adv");
    assert!(old.status.success());
    assert!(env.stored_refresh_token("inst-old-adv").is_some());
    assert_eq!(env.cache_files().len(), 1);
    // The same profile now logs in to another app.
    let other_secret = format!("{}-other", env.secret);
    env.add_secret(&other_secret);
    env.emu.register_app("app-other-9", &other_secret, &[]);
    env.emu.install("app-other-9", INSTANCE);
    let out = env.login_with(
        &["--app-id", "app-other-9", "--instance-id", INSTANCE],
        &other_secret,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.stored_refresh_token("inst-old-adv"), None);
    let files = env.cache_files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(read(&files[0]).contains("app-other-9"));
    // And `logout --all` leaves no secret or cached token at all.
    let out = env.run(env.cmd().args(["logout", "--all"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !env.secrets_file().exists(),
        "{}",
        read(&env.secrets_file())
    );
    assert!(env.cache_files().is_empty());
}

#[test]
fn logout_all_forgets_tokens_minted_with_other_credentials_too() {
    let env = TestEnv::new();
    env.login_basic();
    // A CI-style run for the same app and instance leaves an entry of its own.
    let out = env.run(env.cmd().arg("token").env("WIX_APP_SECRET", &env.secret));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.cache_files().len(), 2);
    let out = env.run(env.cmd().args(["logout", "--all"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(env.cache_files().is_empty(), "{:?}", env.cache_files());
}

#[cfg(target_os = "linux")]
#[test]
fn logout_waits_for_a_refresh_in_flight_and_its_token_does_not_come_back() {
    use crate::support::emulator::Hold;
    let env = TestEnv::new();
    env.login_basic();
    let hold = Hold::new();
    env.emu
        .push_fault("/oauth2/token", Fault::Hold(hold.clone()));
    let mut token = env.std_cmd();
    token
        .args(["token", "--no-cache"])
        .env("WIXAUTH_HTTP_TIMEOUT", "60");
    let mut token = Running::spawn(token, None);
    hold.wait_arrived(); // it holds the instance's lock, its request is at Wix
    let lock = std::fs::read_dir(env.config_dir().join("locks"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{APP_ID}_{INSTANCE}_")))
        })
        .expect("the instance's lock");
    let mut logout = env.std_cmd();
    logout.args(["logout"]);
    let mut logout = Running::spawn(logout, None);
    let deadline = Instant::now() + WAIT;
    while crate::regressions::flock_waiters(&lock) == 0 {
        logout.assert_running("the refresh in flight holds the lock");
        assert!(
            Instant::now() < deadline,
            "logout never waited for the lock"
        );
        std::thread::yield_now();
    }
    hold.release();
    let (t, l) = (token.wait(), logout.wait());
    assert!(t.status.success(), "{}", stderr(&t));
    assert!(l.status.success(), "{}", stderr(&l));
    assert!(env.cache_files().is_empty(), "{:?}", env.cache_files());
}

// ------------------------------------------------------------------ 5. secrets stay here

#[test]
fn the_browser_launcher_never_sees_the_long_lived_credentials() {
    let env = TestEnv::new();
    let dump = env.config_dir().join("browser-env");
    let script = env.config_dir().join("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nenv > {}.tmp && mv {}.tmp {}\n",
            dump.display(),
            dump.display(),
            dump.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let refresh = "refresh-token-for-the-browser-test";
    env.add_secret(refresh);
    let mut cmd = env.std_cmd();
    cmd.args([
        "login",
        "--flow",
        "advanced",
        "--app-id",
        APP_ID,
        "--timeout",
        "20",
    ])
    .env("BROWSER", &script)
    .env("WIX_APP_SECRET", &env.secret)
    .env("WIX_REFRESH_TOKEN", refresh)
    .env("WIXAUTH_MARKER_FOR_TEST", "present");
    let mut login = Running::spawn(cmd, None);
    let deadline = Instant::now() + WAIT;
    while !dump.exists() {
        login.assert_running("the browser launcher ran");
        assert!(Instant::now() < deadline, "the launcher never ran");
        std::thread::yield_now();
    }
    login.signal("INT");
    let _ = login.wait();
    let seen = read(&dump);
    assert!(seen.contains("WIXAUTH_MARKER_FOR_TEST=present"), "{seen}");
    assert!(!seen.contains("WIX_APP_SECRET"), "{seen}");
    assert!(!seen.contains("WIX_REFRESH_TOKEN"), "{seen}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_running_wixauth_leaves_no_core_file() {
    let env = TestEnv::new();
    env.login_basic();
    let mut cmd = env.std_cmd();
    cmd.args(["exec", "--", "sleep", "30"]);
    let mut exec = Running::spawn(cmd, None);
    // Once wixauth has started its child, it has long set its own limits.
    let child_started = || {
        std::fs::read_to_string(format!("/proc/{}/task/{}/children", exec.pid, exec.pid))
            .is_ok_and(|c| !c.trim().is_empty())
    };
    let deadline = Instant::now() + WAIT;
    while !child_started() {
        assert!(Instant::now() < deadline, "wixauth never started its child");
        std::thread::yield_now();
    }
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", exec.pid)).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a core limit")
        .to_string();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
    exec.signal("TERM");
    let out = exec.wait();
    // The child got the TERM too (it did not sleep on for 30 s): 128 + 15.
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
}

// ------------------------------------------------------------------ 6. no proxy for clear text

/// A "proxy" that counts the connections it gets and answers none of them.
fn counting_proxy() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream);
        }
    });
    (format!("http://{addr}"), count)
}

#[test]
fn an_http_loopback_base_is_never_reached_through_a_proxy() {
    let env = TestEnv::new();
    let (proxy, connections) = counting_proxy();
    let mut cmd = env.login_basic_cmd();
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(var, &proxy);
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    let out = env.run(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the secret went through the proxy"
    );
}

// ------------------------------------------------------------------ 7. the terminal is ours

#[test]
fn escape_sequences_from_wix_never_reach_the_terminal() {
    let env = TestEnv::new();
    env.login_basic();
    env.emu
        .set_site_name("Evil\u{1b}[2J\u{1b}]0;owned\u{7}Site");
    let out = env.run(env.cmd().arg("whoami"));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("Evil\\u{1b}[2J"), "{text}");
    // A Wix error message with escapes, in the one error line.
    env.emu.push_fault(
        "/oauth2/token",
        Fault::Message(400, "bad\u{1b}[31m instance".into()),
    );
    let out = env.run(env.cmd().args(["token", "--no-cache"]));
    let line = assert_fails(&out, 3);
    assert!(line.contains("bad\\u{1b}[31m instance"), "{line}");
    assert!(!stderr(&out).contains('\u{1b}'));
}

#[test]
fn an_instance_id_that_is_not_wix_like_is_refused_before_use() {
    let env = TestEnv::new();
    for bad in ["../../etc/x", "a\u{1b}[2Jb", "has space"] {
        let out = env.login_with(&["--app-id", APP_ID, "--instance-id", bad], &env.secret);
        let line = assert_fails(&out, 2);
        assert!(!line.contains('\u{1b}'), "{line:?}");
        assert_eq!(env.token_requests(), 0, "{bad}");
        let out = env.run(
            env.cmd()
                .args(["token", "--instance", bad])
                .env("WIX_APP_ID", APP_ID)
                .env("WIX_APP_SECRET", &env.secret),
        );
        assert_fails(&out, 2);
    }
    assert!(!env.config_file().exists());
}

// ------------------------------------------------------------------ 8. numbers from Wix

#[test]
fn huge_numbers_from_wix_do_not_crash_token_or_whoami() {
    let env = TestEnv::new();
    env.login_basic();
    env.emu.set_token_info_exp("18446744073709551615");
    let out = env.run(env.cmd().args(["whoami", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        json_out(&out)["token"]["expires_at"],
        serde_json::Value::Null
    );
    env.emu.set_expires_in(300_000_000_000);
    let out = env.run(env.cmd().args(["token", "--no-cache", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_out(&out);
    assert!(v["expires_in"].as_u64().unwrap() <= 86_400, "{v}");
}

#[test]
fn secret_stdin_reads_a_bounded_line() {
    let env = TestEnv::new();
    let mut child = env
        .std_cmd()
        .args([
            "login",
            "--flow",
            "basic",
            "--app-id",
            APP_ID,
            "--instance-id",
            INSTANCE,
            "--secret-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // 64 MiB without a newline: refused once the bound is passed, not read to the end.
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..64 {
            if stdin.write_all(&chunk).is_err() {
                return false;
            }
        }
        true
    });
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("longer than"), "{err}");
    assert!(!writer.join().unwrap(), "wixauth read all 64 MiB");
}

// ------------------------------------------------------------------ 10. Wix's current defaults

#[test]
fn without_a_terminal_the_default_flow_is_basic() {
    let env = TestEnv::new();
    env.emu.set_next_instance(INSTANCE_2);
    env.emu.install(APP_ID, INSTANCE_2);
    let port = free_port();
    let redirect = format!("http://localhost:{port}/callback");
    let mut cmd = env.std_cmd();
    cmd.args([
        "login",
        "--app-id",
        APP_ID,
        "--no-browser",
        "--redirect-url",
        &redirect,
    ])
    .env("WIX_APP_SECRET", &env.secret);
    let mut login = Running::spawn(cmd, None);
    let url = login.installer_url();
    assert!(url.contains("/app-installer?appId="), "{url}");
    env.browse(&url);
    let out = login.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("flow basic"), "{}", stderr(&out));
}

#[test]
fn the_installer_url_keeps_the_redirect_url_exactly_as_given() {
    let env = TestEnv::new();
    let port = free_port();
    // No path and a capital letter: Wix compares character for character.
    let redirect = format!("http://LocalHost:{port}");
    env.register_redirect(&redirect);
    let mut cmd = env.std_cmd();
    cmd.args([
        "login",
        "--flow",
        "advanced",
        "--app-id",
        APP_ID,
        "--no-browser",
        "--redirect-url",
        &redirect,
        "--timeout",
        "20",
    ])
    .env("WIX_APP_SECRET", &env.secret);
    let mut login = Running::spawn(cmd, None);
    let url = login.installer_url();
    assert_eq!(
        query_param(&url, "redirectUrl").as_deref(),
        Some(redirect.as_str())
    );
    login.signal("INT");
    let out = login.wait();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let out = env.run(
        env.cmd()
            .args(["install-url", "--flow", "advanced"])
            .env("WIX_APP_ID", APP_ID),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}
