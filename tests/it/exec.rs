//! `wixauth exec -- COMMAND`: a child process with a fresh token in its environment (issue 4, item 3).

use crate::support::*;

fn exec(env: &TestEnv, script: &str) -> std::process::Output {
    env.run(env.cmd().args(["exec", "--", "sh", "-c", script]))
}

#[test]
fn the_child_sees_the_token_app_and_instance() {
    let env = TestEnv::new();
    env.login_basic();
    let token = env.token_ok(&[]);
    let out = exec(
        &env,
        r#"printf '%s\n' "$WIX_ACCESS_TOKEN" "$WIX_APP_ID" "$WIX_INSTANCE_ID""#,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{token}\n{APP_ID}\n{INSTANCE}\n"));
    assert!(
        out.stderr.is_empty(),
        "wixauth adds nothing: {}",
        stderr(&out)
    );
}

#[test]
fn the_child_can_use_the_token_with_wix() {
    let env = TestEnv::new();
    env.login_basic();
    let file = env.dir.path().join("seen-token");
    let script = format!(
        r#"printf '%s\n' "$WIX_ACCESS_TOKEN" > {}"#,
        sh_quote(&file.display().to_string())
    );
    let out = exec(&env, &script);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = read(&file).trim_end().to_string();
    let issued = env
        .emu
        .token_info(&token)
        .expect("a token the emulator issued");
    assert_eq!(
        (issued.app_id.as_str(), issued.instance_id.as_str()),
        (APP_ID, INSTANCE)
    );
    assert_eq!(
        token,
        env.token_ok(&[]),
        "the same token `wixauth token` prints"
    );
}

#[test]
fn instance_option_and_variable_pick_the_instance() {
    let env = TestEnv::new();
    env.login_two_instances();
    let script = r#"printf '%s\n' "$WIX_INSTANCE_ID" "$WIX_ACCESS_TOKEN""#;

    let out = exec(&env, script);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], INSTANCE_2, "the last instance logged in: {text}");
    assert_eq!(
        env.emu.token_info(lines[1]).unwrap().instance_id,
        INSTANCE_2
    );

    let out = env.run(
        env.cmd()
            .args(["--instance", INSTANCE, "exec", "--", "sh", "-c", script]),
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], INSTANCE, "{text} {}", stderr(&out));
    assert_eq!(env.emu.token_info(lines[1]).unwrap().instance_id, INSTANCE);
}

#[test]
fn stdin_stdout_and_stderr_pass_through() {
    let env = TestEnv::new();
    env.login_basic();
    env.token_ok(&[]);
    let out = env.run(
        env.cmd()
            .args(["exec", "--", "sh", "-c", "cat; echo err >&2"])
            .write_stdin("line one\nline two\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "line one\nline two\n");
    assert_eq!(stderr(&out), "err\n");
}

#[test]
fn arguments_reach_the_child_unchanged() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().args([
        "exec",
        "--",
        "printf",
        "[%s]",
        "-v",
        "--json",
        "two words",
        "",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "[-v][--json][two words][]");
    // Without `--` too: everything after the command is the command's.
    let out = env.run(env.cmd().args(["exec", "printf", "[%s]", "--min-ttl", "5"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "[--min-ttl][5]");
}

#[test]
fn the_exit_code_is_the_childs() {
    let env = TestEnv::new();
    env.login_basic();
    for code in [0, 1, 2, 7, 42, 255] {
        let out = exec(&env, &format!("exit {code}"));
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        assert!(
            !stderr(&out).contains("wixauth: error"),
            "the child's failure is not wixauth's: {}",
            stderr(&out)
        );
    }
}

#[cfg(unix)]
#[test]
fn a_child_killed_by_a_signal_is_128_plus_the_signal() {
    let env = TestEnv::new();
    env.login_basic();
    for (signal, code) in [("TERM", 143), ("KILL", 137), ("INT", 130)] {
        let out = exec(&env, &format!("kill -{signal} $$"));
        assert_eq!(
            out.status.code(),
            Some(code),
            "SIG{signal}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn no_command_is_exit_2() {
    let env = TestEnv::new();
    env.login_basic();
    let before = env.emu.seen().len();
    for args in [
        &["exec"][..],
        &["exec", "--"][..],
        &["exec", "--min-ttl", "5"][..],
    ] {
        let out = env.run(env.cmd().args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
        assert!(
            stderr(&out).contains("COMMAND"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert_eq!(env.emu.seen().len(), before);
}

#[test]
fn a_missing_command_is_one_error_line() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(
        env.cmd()
            .args(["exec", "--", "wixauth-no-such-command-xyz", "arg"]),
    );
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(127),
        "shells' code for a missing command: {err}"
    );
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("wixauth: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("wixauth-no-such-command-xyz"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn long_lived_credentials_are_not_passed_to_the_child() {
    let env = TestEnv::new();
    env.login_basic();
    // A real one: WIX_REFRESH_TOKEN is then the credential that mints the child's token.
    let refresh = env.emu.issue_refresh_token(APP_ID, INSTANCE);
    let refresh = refresh.as_str();
    env.add_secret(refresh);
    let out = env.run(
        env.cmd()
            .args([
                "exec",
                "--",
                "sh",
                "-c",
                r#"echo "${WIX_APP_SECRET-unset} ${WIX_REFRESH_TOKEN-unset} ${WIX_ACCESS_TOKEN:+token}""#,
            ])
            .env("WIX_APP_SECRET", &env.secret)
            .env("WIX_REFRESH_TOKEN", refresh),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "unset unset token\n");
}

#[test]
fn min_ttl_forces_a_token_that_outlives_the_job() {
    let env = TestEnv::new();
    env.login_basic();
    let cached = env.token_ok(&[]);
    // The cached token has 10 minutes left.
    env.set_cached_expiry(now_unix() + 600);
    let before = env.token_requests();
    let script = r#"printf '%s\n' "$WIX_ACCESS_TOKEN""#;

    // A 5-minute job: the cached token will do.
    let out = env.run(
        env.cmd()
            .args(["exec", "--min-ttl", "300", "--", "sh", "-c", script]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{cached}\n"));
    assert_eq!(env.token_requests(), before);

    // A 30-minute job: it would not.
    let out = env.run(
        env.cmd()
            .args(["exec", "--min-ttl", "1800", "--", "sh", "-c", script]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let fresh = stdout(&out).trim_end().to_string();
    assert_ne!(fresh, cached);
    assert_eq!(env.token_requests(), before + 1);
    let issued = env.emu.token_info(&fresh).expect("issued by the emulator");
    assert!(issued.exp >= now_unix() + 1800, "it outlives the job");
    assert_eq!(
        env.cached_token(),
        fresh,
        "and it is cached for the next call"
    );
}

#[test]
fn default_min_ttl_refreshes_a_nearly_expired_token() {
    let env = TestEnv::new();
    env.login_basic();
    let cached = env.token_ok(&[]);
    env.set_cached_expiry(now_unix() + 30);
    let out = exec(&env, r#"printf '%s' "$WIX_ACCESS_TOKEN""#);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(
        stdout(&out),
        cached,
        "30 s left is less than the default 60 s"
    );
}

#[test]
fn nothing_logged_in_is_exit_2_and_the_command_does_not_run() {
    let env = TestEnv::new();
    let marker = env.dir.path().join("ran");
    let out = exec(
        &env,
        &format!("touch {}", sh_quote(&marker.display().to_string())),
    );
    let line = assert_fails(&out, 2);
    assert!(line.contains("wixauth login"), "{line}");
    assert!(!marker.exists(), "the command must not run without a token");
}

#[test]
fn a_wix_failure_is_exit_4_and_the_command_does_not_run() {
    let env = TestEnv::new();
    env.login_basic();
    env.token_ok(&[]);
    env.set_cached_expiry(now_unix() + 10);
    for _ in 0..3 {
        env.emu.push_fault("/oauth2/token", Fault::Status(503));
    }
    let marker = env.dir.path().join("ran");
    let out = exec(
        &env,
        &format!("touch {}", sh_quote(&marker.display().to_string())),
    );
    assert_fails(&out, 4);
    assert!(!marker.exists());
}

#[test]
fn works_from_environment_credentials_alone() {
    let env = TestEnv::new();
    let out = env.run(
        env.cmd()
            .args([
                "exec",
                "--",
                "sh",
                "-c",
                r#"printf '%s %s\n' "$WIX_APP_ID" "$WIX_INSTANCE_ID""#,
            ])
            .env("WIX_APP_ID", APP_ID)
            .env("WIX_APP_SECRET", &env.secret)
            .env("WIX_INSTANCE_ID", INSTANCE),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{APP_ID} {INSTANCE}\n"));
}
