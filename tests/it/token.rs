//! `wixauth token` (basic flow): output shapes, the cache, env-only CI mode, parallel calls.

use crate::support::*;

/// A D-Bus address where nothing answers: any keyring call fails at once.
const NO_DBUS: &str = "unix:path=/nonexistent/wixauth-test-bus";

#[test]
fn stdout_is_the_token_and_one_newline() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().arg("token"));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let token = env.cached_token();
    assert_eq!(
        text,
        format!("{token}\n"),
        "stdout must be exactly the token and a newline"
    );
    assert!(env.emu.token_info(&token).is_some());
    assert!(
        out.stderr.is_empty(),
        "a cache hit says nothing on stderr: {}",
        stderr(&out)
    );
}

#[test]
fn header_prints_an_authorization_header() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().args(["token", "--header"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("Authorization: {}\n", env.cached_token())
    );
}

#[test]
fn json_has_the_contract_keys() {
    let env = TestEnv::new();
    env.login_basic();
    for args in [
        &["token", "--json"][..],
        &["token", "--json", "--no-cache"][..],
    ] {
        let out = env.run(env.cmd().args(args));
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out).lines().count(), 1);
        let v = json_out(&out);
        let mut keys: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "access_token",
                "app_id",
                "expires_at",
                "expires_in",
                "flow",
                "instance_id",
                "token_type"
            ],
            "{v}"
        );
        let token = v["access_token"].as_str().unwrap();
        assert!(env.emu.token_info(token).is_some(), "{v}");
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["app_id"], APP_ID);
        assert_eq!(v["instance_id"], INSTANCE);
        assert_eq!(v["flow"], "basic");
        let expires_in = v["expires_in"].as_i64().expect("expires_in is a number");
        assert!((14_300..=14_400).contains(&expires_in), "{v}");
        let at =
            humantime::parse_rfc3339(v["expires_at"].as_str().expect("expires_at is a string"))
                .expect("expires_at is RFC 3339");
        let at = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let now = now_unix() as i64;
        assert!(
            (at - now - expires_in).abs() <= 2,
            "expires_at {at} vs now {now} + {expires_in}"
        );
    }
}

#[test]
fn header_and_json_conflict() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().args(["token", "--json", "--header"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

#[test]
fn cache_hit_makes_no_request_even_when_wix_would_fail() {
    let env = TestEnv::new();
    env.login_basic();
    assert_eq!(env.token_requests(), 1);
    for _ in 0..3 {
        env.emu.push_fault("/oauth2/token", Fault::Status(500));
    }
    let first = env.token_ok(&[]);
    let second = env.token_ok(&["--header"]);
    assert_eq!(second, format!("Authorization: {first}"));
    assert_eq!(env.token_requests(), 1, "cache hits must not ask Wix");
    // A token is only handed out for the API base that minted it, and the stored secret only
    // goes there: another base is refused (exit 2), never the emulator's token.
    let out = env.run(
        env.cmd()
            .arg("token")
            .env("WIXAUTH_API_BASE", closed_base()),
    );
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("was logged in at") && line.contains("WIXAUTH_API_BASE"),
        "{line}"
    );
    // With environment credentials (the user's own choice for this run) it is a miss there.
    let mut cmd = env.cmd();
    env.ci(&mut cmd);
    assert_fails(
        &env.run(cmd.arg("token").env("WIXAUTH_API_BASE", closed_base())),
        4,
    );
}

#[test]
fn no_cache_always_requests() {
    let env = TestEnv::new();
    env.login_basic();
    let a = env.token_ok(&["--no-cache"]);
    let b = env.token_ok(&["--no-cache"]);
    assert_ne!(a, b, "each --no-cache call gets a new token");
    assert_eq!(env.token_requests(), 3);
    // The new token replaces the cached one.
    assert_eq!(env.token_ok(&[]), b);
    assert_eq!(env.token_requests(), 3);
}

#[test]
fn min_ttl_above_the_remaining_lifetime_forces_a_refresh() {
    let env = TestEnv::new();
    env.login_basic();
    let cached = env.cached_token();
    env.set_cached_expiry(now_unix() + 300);

    // 300 s left: enough for the default 60 s and for --min-ttl 200.
    assert_eq!(env.token_ok(&[]), cached);
    assert_eq!(env.token_ok(&["--min-ttl", "200"]), cached);
    assert_eq!(env.token_requests(), 1);

    // --min-ttl 1000 > 300 s left: a new token, cached for the next call.
    let fresh = env.token_ok(&["--min-ttl", "1000"]);
    assert_ne!(fresh, cached);
    assert_eq!(env.token_requests(), 2);
    assert_eq!(env.cached_token(), fresh);
    assert_eq!(env.token_ok(&["--min-ttl", "1000"]), fresh);
    assert_eq!(env.token_requests(), 2);
}

#[test]
fn near_expiry_and_expired_tokens_are_replaced() {
    let env = TestEnv::new();
    env.login_basic();
    let cached = env.cached_token();
    // 30 s left is below the default --min-ttl of 60.
    env.set_cached_expiry(now_unix() + 30);
    let fresh = env.token_ok(&[]);
    assert_ne!(fresh, cached);
    assert_eq!(env.token_requests(), 2);
    // Already expired.
    env.set_cached_expiry(now_unix() - 10);
    let fresher = env.token_ok(&[]);
    assert!(fresher != fresh && fresher != cached);
    assert_eq!(env.token_requests(), 3);
}

#[test]
fn min_ttl_longer_than_wix_tokens_warns_but_works() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().args(["token", "--min-ttl", "20000"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("14400"),
        "warns that Wix tokens are shorter: {}",
        stderr(&out)
    );
    assert_eq!(env.token_requests(), 2);
}

#[test]
fn corrupt_cache_file_is_a_miss() {
    let env = TestEnv::new();
    env.login_basic();
    std::fs::write(env.cache_file(), "{not json").unwrap();
    let token = env.token_ok(&[]);
    assert!(env.emu.token_info(&token).is_some());
    assert_eq!(env.token_requests(), 2);
    assert_eq!(env.cached_token(), token, "the corrupt entry is replaced");
}

#[test]
fn cache_hit_does_not_touch_the_secret_store() {
    let env = TestEnv::new();
    env.login_basic();
    std::fs::remove_file(env.secrets_file()).unwrap();
    // The file store is gone: only the cache can answer.
    let token = env.token_ok(&[]);
    assert_eq!(token, env.cached_token());
    // A keyring that cannot answer is not consulted either.
    let out = env.run(
        env.cmd()
            .arg("token")
            .env("WIXAUTH_SECRET_STORE", "keyring")
            .env("DBUS_SESSION_BUS_ADDRESS", NO_DBUS),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), token);
    // A miss does need the secret, and says how to provide it.
    let out = env.run(env.cmd().args(["token", "--no-cache"]));
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("WIX_APP_SECRET") && line.contains("wixauth login"),
        "{line}"
    );
}

#[test]
fn env_only_mode_needs_no_config_and_no_keyring() {
    let env = TestEnv::new();
    let ci = |cmd: &mut assert_cmd::Command| {
        cmd.env("WIX_APP_ID", APP_ID)
            .env("WIX_APP_SECRET", &env.secret)
            .env("WIX_INSTANCE_ID", INSTANCE)
            .env("WIXAUTH_SECRET_STORE", "keyring")
            .env("DBUS_SESSION_BUS_ADDRESS", NO_DBUS);
    };
    let mut cmd = env.cmd();
    cmd.args(["token", "--json"]);
    ci(&mut cmd);
    let out = env.run(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_out(&out);
    assert_eq!(
        (
            v["app_id"].as_str(),
            v["instance_id"].as_str(),
            v["flow"].as_str()
        ),
        (Some(APP_ID), Some(INSTANCE), Some("basic"))
    );
    let token = v["access_token"].as_str().unwrap().to_string();
    assert!(env.emu.token_info(&token).is_some());
    assert!(
        !env.config_file().exists(),
        "env-only mode writes no config.toml"
    );
    assert!(
        !env.secrets_file().exists(),
        "env-only mode stores no secret"
    );

    // The next call is a cache hit.
    let mut cmd = env.cmd();
    cmd.arg("token");
    ci(&mut cmd);
    let out = env.run(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{token}\n"));
    assert_eq!(env.token_requests(), 1);
}

#[test]
fn env_app_id_wins_over_a_stored_profile_for_another_app() {
    let env = TestEnv::new();
    let app2 = "app-99999999";
    let secret2 = format!("second-{}", env.secret);
    env.add_secret(&secret2);
    env.emu.register_app(app2, &secret2, &[]);
    env.emu.install(app2, INSTANCE);
    env.login_basic();
    let out = env.run(
        env.cmd()
            .args(["token", "--no-cache"])
            .env("WIX_APP_ID", app2)
            .env("WIX_APP_SECRET", &secret2)
            .env("WIX_INSTANCE_ID", INSTANCE),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        env.emu.token_info(stdout(&out).trim()).unwrap().app_id,
        app2
    );
}

#[test]
fn no_cache_variable_writes_no_cache_file() {
    let env = TestEnv::new();
    let run = || {
        env.run(
            env.cmd()
                .arg("token")
                .env("WIX_APP_ID", APP_ID)
                .env("WIX_APP_SECRET", &env.secret)
                .env("WIX_INSTANCE_ID", INSTANCE)
                .env("WIXAUTH_NO_CACHE", "1"),
        )
    };
    for _ in 0..2 {
        let out = run();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert!(
        env.cache_files().is_empty(),
        "WIXAUTH_NO_CACHE=1 must never write the cache: {:?}",
        env.cache_files()
    );
    assert_eq!(
        env.token_requests(),
        2,
        "without a cache each call asks Wix"
    );
}

#[test]
fn no_cache_variable_is_honoured_by_login_too() {
    let env = TestEnv::new();
    let out = env.run(env.login_basic_cmd().env("WIXAUTH_NO_CACHE", "1"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        env.cache_files().is_empty(),
        "WIXAUTH_NO_CACHE=1 must never write the cache: {:?}",
        env.cache_files()
    );
}

#[test]
fn missing_expires_in_means_four_hours() {
    let env = TestEnv::new();
    env.emu.omit_expires_in(true);
    env.login_basic();
    for args in [
        &["token", "--json"][..],
        &["token", "--json", "--no-cache"][..],
    ] {
        let out = env.run(env.cmd().args(args));
        assert!(out.status.success(), "{}", stderr(&out));
        let v = json_out(&out);
        let expires_in = v["expires_in"].as_i64().unwrap();
        assert!((14_390..=14_400).contains(&expires_in), "{v}");
    }
    // And the cached token is reused, not refreshed on every call.
    let before = env.token_requests();
    env.token_ok(&[]);
    assert_eq!(env.token_requests(), before);
}

fn parallel_tokens(env: &TestEnv, ci: bool) -> Vec<String> {
    let outputs: Vec<std::process::Output> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    let mut cmd = env.cmd();
                    cmd.arg("token");
                    if ci {
                        cmd.env("WIX_APP_ID", APP_ID)
                            .env("WIX_APP_SECRET", &env.secret)
                            .env("WIX_INSTANCE_ID", INSTANCE);
                    }
                    env.run(&mut cmd)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    outputs
        .iter()
        .map(|out| {
            assert!(out.status.success(), "{}", stderr(out));
            stdout(out)
        })
        .collect()
}

#[test]
fn sixteen_parallel_calls_on_an_empty_cache_make_one_request() {
    let env = TestEnv::new();
    let tokens = parallel_tokens(&env, true);
    assert_eq!(
        env.token_requests(),
        1,
        "parallel calls must share one request to Wix"
    );
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "all print the same token: {tokens:?}"
    );
    assert!(env.emu.token_info(tokens[0].trim()).is_some());
}

#[test]
fn sixteen_parallel_calls_after_login_with_the_cache_wiped() {
    let env = TestEnv::new();
    env.login_basic();
    // A few rounds: the race this guards against is a matter of scheduling.
    for round in 1..=3 {
        std::fs::remove_file(env.cache_file()).unwrap();
        let tokens = parallel_tokens(&env, false);
        assert_eq!(
            env.token_requests(),
            1 + round,
            "round {round}: exactly one refresh"
        );
        assert!(
            tokens.iter().all(|t| *t == tokens[0]),
            "all print the same token: {tokens:?}"
        );
        assert_eq!(tokens[0].trim(), env.cached_token());
    }
}

#[test]
fn token_after_logout_is_exit_2() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().arg("logout"));
    assert!(out.status.success(), "{}", stderr(&out));
    let before = env.token_requests();
    let out = env.run(env.cmd().arg("token"));
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("no logged-in instance") && line.contains("wixauth login"),
        "{line}"
    );
    assert_eq!(env.token_requests(), before);
    // Naming the logged-out instance explicitly is the same usage error.
    let out = env.run(env.cmd().args(["token", "--instance", INSTANCE]));
    let line = assert_fails(&out, 2);
    assert!(
        line.contains(INSTANCE) && line.contains("wixauth login"),
        "{line}"
    );
    assert_eq!(env.token_requests(), before);
}

#[test]
fn token_with_nothing_logged_in_is_exit_2() {
    let env = TestEnv::new();
    let out = env.run(env.cmd().arg("token"));
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("wixauth login") && line.contains("WIX_APP_ID"),
        "{line}"
    );
    assert_eq!(env.token_requests(), 0);
}
