//! Network failures and Wix errors: the contract's exit codes, bounded retries, one error
//! line, and stored credentials that still work afterwards.

use std::time::{Duration, Instant};

use crate::support::*;

const TOKEN_PATH: &str = "/oauth2/token";

/// Injects `faults`, runs `token --no-cache` with a 1 s timeout per attempt, and returns it.
fn token_after_faults(env: &TestEnv, faults: &[Fault]) -> std::process::Output {
    token_after_faults_with_timeout(env, faults, "1")
}

fn token_after_faults_with_timeout(
    env: &TestEnv,
    faults: &[Fault],
    timeout: &str,
) -> std::process::Output {
    for fault in faults {
        env.emu.push_fault(TOKEN_PATH, fault.clone());
    }
    env.run(
        env.cmd()
            .args(["token", "--no-cache"])
            .env("WIXAUTH_HTTP_TIMEOUT", timeout),
    )
}

/// The state of the files a failure must not change.
fn snapshot(env: &TestEnv) -> (String, String) {
    (read(&env.config_file()), read(&env.secrets_file()))
}

/// A failure left the stored state alone and the credentials still work.
fn assert_intact(env: &TestEnv, before: &(String, String)) {
    assert_eq!(
        &snapshot(env),
        before,
        "a failure changed config.toml or secrets.toml"
    );
    env.assert_credentials_work();
}

#[test]
fn server_error_three_times_is_exit_4_after_three_attempts() {
    let env = TestEnv::new();
    env.login_basic();
    let before = snapshot(&env);
    let out = token_after_faults(
        &env,
        &[Fault::Status(500), Fault::Status(500), Fault::Status(500)],
    );
    let line = assert_fails(&out, 4);
    assert!(line.contains("500"), "{line}");
    assert_eq!(
        env.token_requests(),
        1 + 3,
        "one try and two retries, no more"
    );
    assert_intact(&env, &before);
}

#[test]
fn server_errors_then_success_is_retried() {
    let env = TestEnv::new();
    env.login_basic();
    let out = token_after_faults(&env, &[Fault::Status(503), Fault::Status(500)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.token_requests(), 1 + 3);
    let token = stdout(&out);
    assert!(env.emu.token_info(token.trim()).is_some());
    assert_eq!(
        env.cached_token(),
        token.trim(),
        "the retried token is cached"
    );
}

#[test]
fn too_many_requests_honours_retry_after() {
    let env = TestEnv::new();
    env.login_basic();
    let started = Instant::now();
    let out = token_after_faults(
        &env,
        &[Fault::TooManyRequests {
            retry_after_secs: 1,
        }],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.token_requests(), 1 + 2);
    // The first backoff alone would be 0.5 s: waiting a whole second shows Retry-After was used.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retried after {:?}",
        started.elapsed()
    );
}

#[test]
fn too_many_requests_three_times_is_exit_4() {
    let env = TestEnv::new();
    env.login_basic();
    let before = snapshot(&env);
    let faults = vec![
        Fault::TooManyRequests {
            retry_after_secs: 0
        };
        3
    ];
    let out = token_after_faults(&env, &faults);
    let line = assert_fails(&out, 4);
    assert!(line.contains("429"), "{line}");
    assert_eq!(env.token_requests(), 1 + 3);
    assert_intact(&env, &before);
}

#[test]
fn client_errors_are_never_retried() {
    for status in [400, 401, 403] {
        let env = TestEnv::new();
        env.login_basic();
        let before = snapshot(&env);
        let out = token_after_faults(&env, &[Fault::Status(status)]);
        let line = assert_fails(&out, 3);
        assert!(
            line.contains(&status.to_string()) && line.contains("wixauth login"),
            "{line}"
        );
        assert_eq!(
            env.token_requests(),
            1 + 1,
            "HTTP {status} must not be retried"
        );
        assert_intact(&env, &before);
    }
}

#[test]
fn rejected_credentials_on_refresh_are_exit_3_once() {
    let env = TestEnv::new();
    env.login_basic();
    let before = snapshot(&env);
    // The app was removed from the site: Wix answers 400 with a message.
    env.emu.uninstall(APP_ID, INSTANCE);
    let out = env.run(env.cmd().args(["token", "--no-cache"]));
    let line = assert_fails(&out, 3);
    assert!(
        line.contains("not installed")
            && line.contains(&format!("wixauth logout --instance {INSTANCE}")),
        "{line}"
    );
    assert_eq!(env.token_requests(), 2);
    assert_eq!(
        snapshot(&env),
        before,
        "a rejection does not delete anything either"
    );
    env.emu.install(APP_ID, INSTANCE);
    env.assert_credentials_work();
}

#[test]
fn malformed_answer_is_exit_4() {
    let env = TestEnv::new();
    env.login_basic();
    let before = snapshot(&env);
    let cached = env.cached_token();
    let out = token_after_faults(&env, &[Fault::Malformed]);
    let line = assert_fails(&out, 4);
    assert!(line.contains("malformed"), "{line}");
    assert!(!line.contains("trunc"), "the body is not echoed: {line}");
    assert_eq!(
        env.cached_token(),
        cached,
        "the cache is not overwritten by a failure"
    );
    assert_intact(&env, &before);
}

#[test]
fn slow_answers_time_out_and_give_exit_4() {
    let env = TestEnv::new();
    env.login_basic();
    let before = snapshot(&env);
    let started = Instant::now();
    let slow = vec![Fault::Slow(Duration::from_millis(1500)); 3];
    let out = token_after_faults_with_timeout(&env, &slow, "0.5");
    let line = assert_fails(&out, 4);
    assert!(line.contains("0.5 s"), "says how long it waited: {line}");
    assert_eq!(env.token_requests(), 1 + 3, "a timeout is retried twice");
    // Three 0.5 s attempts and 1.5 s of backoff: it gives up in bounded time.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_intact(&env, &before);
}

#[test]
fn slow_answer_once_then_success() {
    let env = TestEnv::new();
    env.login_basic();
    let out = token_after_faults(&env, &[Fault::Slow(Duration::from_millis(2500))]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.token_requests(), 1 + 2);
}

#[test]
fn dropped_connections_are_exit_4() {
    let env = TestEnv::new();
    env.login_basic();
    let before = snapshot(&env);
    let out = token_after_faults(&env, &[Fault::Drop, Fault::Drop, Fault::Drop]);
    assert_fails(&out, 4);
    assert_eq!(env.token_requests(), 1 + 3);
    assert_intact(&env, &before);
}

#[test]
fn dropped_connection_once_is_retried() {
    let env = TestEnv::new();
    env.login_basic();
    let out = token_after_faults(&env, &[Fault::Drop]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.token_requests(), 1 + 2);
}

#[test]
fn connection_refused_is_exit_4() {
    let env = TestEnv::new();
    env.login_basic();
    let before = snapshot(&env);
    let closed = closed_base();
    let mut cmd = env.cmd();
    env.ci(&mut cmd);
    let out = env.run(
        cmd.args(["token", "--no-cache"])
            .env("WIXAUTH_API_BASE", &closed),
    );
    let line = assert_fails(&out, 4);
    assert!(line.contains(&closed), "names where it tried: {line}");
    assert_intact(&env, &before);
}

#[test]
fn failures_during_login_store_nothing() {
    let env = TestEnv::new();
    let cases: Vec<(Vec<Fault>, i32)> = vec![
        (vec![Fault::Status(500); 3], 4),
        (vec![Fault::Malformed], 4),
        (vec![Fault::Drop; 3], 4),
        (vec![Fault::Status(401)], 3),
    ];
    for (faults, code) in cases {
        for fault in &faults {
            env.emu.push_fault(TOKEN_PATH, fault.clone());
        }
        let out = env.run(env.login_basic_cmd().env("WIXAUTH_HTTP_TIMEOUT", "0.5"));
        assert_fails(&out, code);
        assert!(
            !env.config_file().exists(),
            "{faults:?}: config.toml written"
        );
        assert!(
            !env.secrets_file().exists(),
            "{faults:?}: secrets.toml written"
        );
        assert!(
            env.cache_files().is_empty(),
            "{faults:?}: a token was cached"
        );
    }
    env.login_basic();
    env.assert_credentials_work();
}

#[test]
fn failed_login_keeps_the_previous_login() {
    let env = TestEnv::new();
    env.login_basic();
    let before = snapshot(&env);
    env.emu.install(APP_ID, INSTANCE_2);
    for _ in 0..3 {
        env.emu.push_fault(TOKEN_PATH, Fault::Status(502));
    }
    let out = env.login_with(
        &["--app-id", APP_ID, "--instance-id", INSTANCE_2],
        &env.secret,
    );
    assert_fails(&out, 4);
    assert_intact(&env, &before);
    let info = env.emu.token_info(&env.token_ok(&["--no-cache"])).unwrap();
    assert_eq!(
        info.instance_id, INSTANCE,
        "the default instance did not move"
    );
}

// ------------------------------------------------------------------ bad input

/// Sends every plain-http and https request through the emulator as a proxy: should a
/// check below ever break, the request is counted there instead of leaving the machine.
fn local_only(cmd: &mut assert_cmd::Command, env: &TestEnv) {
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env(var, env.emu.base());
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy");
}

#[test]
fn plain_http_to_a_remote_host_is_refused_before_any_request() {
    let env = TestEnv::new();
    env.login_basic();
    let before = env.token_requests();
    for base in [
        "http://example.com",
        "http://0.0.0.0:1",
        "http://10.0.0.1",
        "http://localhost.example.com",
    ] {
        let mut cmd = env.cmd();
        cmd.args(["token", "--no-cache"])
            .env("WIXAUTH_API_BASE", base);
        local_only(&mut cmd, &env);
        let line = assert_fails(&env.run(&mut cmd), 2);
        assert!(
            line.contains("WIXAUTH_API_BASE") && line.contains("https"),
            "{line}"
        );

        let mut cmd = env.login_basic_cmd();
        cmd.env("WIXAUTH_API_BASE", base);
        local_only(&mut cmd, &env);
        assert_fails(&env.run(&mut cmd), 2);
    }
    assert_eq!(
        env.token_requests(),
        before,
        "no request may leave for a refused base URL"
    );
    env.assert_credentials_work();
}

#[test]
fn plain_http_refusal_holds_on_a_cache_hit_too() {
    let env = TestEnv::new();
    env.login_basic();
    let mut cmd = env.cmd();
    cmd.arg("token")
        .env("WIXAUTH_API_BASE", "http://example.com");
    local_only(&mut cmd, &env);
    let line = assert_fails(&env.run(&mut cmd), 2);
    assert!(line.contains("WIXAUTH_API_BASE"), "{line}");
    assert_eq!(env.token_requests(), 1);
}

#[test]
fn https_and_loopback_bases_are_accepted() {
    let env = TestEnv::new();
    env.login_basic();
    // https to any host is accepted (a network failure through the closed proxy, 4, not 2); the
    // token cached for the emulator is not handed out for another API base.
    let mut cmd = env.cmd();
    env.ci(&mut cmd);
    cmd.arg("token")
        .env("WIXAUTH_API_BASE", "https://www.wixapis.com");
    local_only(&mut cmd, &env);
    let line = assert_fails(&env.run(&mut cmd), 4);
    assert!(
        line.contains("cannot reach Wix at https://www.wixapis.com"),
        "{line}"
    );
    // https on a loopback port where nothing listens: accepted, then a network failure (4), not 2.
    let port = closed_base()
        .trim_start_matches("http://127.0.0.1:")
        .to_string();
    let mut cmd = env.cmd();
    env.ci(&mut cmd);
    let out = env.run(
        cmd.args(["token", "--no-cache"])
            .env("WIXAUTH_API_BASE", format!("https://127.0.0.1:{port}")),
    );
    assert_fails(&out, 4);
    // http on every loopback spelling is accepted (the emulator listens on 127.0.0.1).
    let port = env.emu.addr.port();
    for base in [
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}/"),
    ] {
        let mut cmd = env.cmd();
        env.ci(&mut cmd);
        let out = env.run(
            cmd.args(["token", "--no-cache"])
                .env("WIXAUTH_API_BASE", &base),
        );
        assert!(out.status.success(), "{base}: {}", stderr(&out));
    }
}

#[test]
fn unknown_secret_store_is_exit_2() {
    let env = TestEnv::new();
    let out = env.run(env.login_basic_cmd().env("WIXAUTH_SECRET_STORE", "bogus"));
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("WIXAUTH_SECRET_STORE") && line.contains("bogus"),
        "{line}"
    );
    assert!(!env.config_file().exists());

    env.login_basic();
    for args in [
        &["token", "--no-cache"][..],
        &["token"][..],
        &["status"][..],
        &["logout"][..],
    ] {
        let out = env.run(env.cmd().args(args).env("WIXAUTH_SECRET_STORE", "bogus"));
        let line = assert_fails(&out, 2);
        assert!(line.contains("WIXAUTH_SECRET_STORE"), "{args:?}: {line}");
    }
    env.assert_credentials_work();
}

#[test]
fn bad_http_timeout_is_exit_2() {
    let env = TestEnv::new();
    for value in ["abc", "-1", "0"] {
        let out = env.run(env.login_basic_cmd().env("WIXAUTH_HTTP_TIMEOUT", value));
        let line = assert_fails(&out, 2);
        assert!(line.contains("WIXAUTH_HTTP_TIMEOUT"), "{line}");
    }
    assert_eq!(env.token_requests(), 0);
    env.login_basic();
    for args in [&["token", "--no-cache"][..], &["token"][..]] {
        let out = env.run(env.cmd().args(args).env("WIXAUTH_HTTP_TIMEOUT", "abc"));
        assert_fails(&out, 2);
    }
    assert_eq!(env.token_requests(), 1);
}

#[test]
fn malformed_config_is_exit_2_naming_file_and_line() {
    let env = TestEnv::new();
    env.login_basic();
    let path = env.config_file();
    let good = read(&path);
    std::fs::write(&path, format!("{good}\n[profiles.broken\napp_id = 1\n")).unwrap();
    let broken_line = good.lines().count() + 2;
    let path_text = path.to_str().unwrap().to_string();
    for args in [
        &["token"][..],
        &["token", "--no-cache"][..],
        &["status"][..],
        &["logout"][..],
    ] {
        let out = env.run(env.cmd().args(args));
        let line = assert_fails(&out, 2);
        assert!(line.contains(&path_text), "{args:?} names the file: {line}");
        assert!(
            line.contains(&format!("line {broken_line}")),
            "{args:?} names line {broken_line}: {line}"
        );
    }
    let out = env.login_with(
        &["--app-id", APP_ID, "--instance-id", INSTANCE],
        &env.secret,
    );
    assert_fails(&out, 2);
    assert!(
        read(&path).contains("[profiles.broken"),
        "a broken file is not overwritten"
    );
    // Fixing the file makes everything work again.
    std::fs::write(&path, good).unwrap();
    env.assert_credentials_work();
}

#[test]
fn wrong_types_in_config_are_exit_2_too() {
    let env = TestEnv::new();
    std::fs::write(
        env.config_file(),
        "[profiles.default]\napp_id = \"a\"\nflow = \"sideways\"\n",
    )
    .unwrap();
    let out = env.run(env.cmd().arg("token"));
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("line 3") && line.contains("config.toml"),
        "{line}"
    );
}
