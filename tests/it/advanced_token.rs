//! `wixauth token` for advanced-flow instances (issue 3, item 5): the refresh-token grant,
//! 5-minute tokens, the stored refresh token kept on rejection and replaced only after its
//! successor arrived, CI from environment variables alone, and one request for parallel calls.

use crate::support::loopback::*;
use crate::support::*;

use std::time::Duration;

const INST: &str = "inst-adv-token";

/// An advanced login through the browser; returns the refresh token it stored.
fn logged_in(env: &TestEnv) -> String {
    env.login_advanced_via_browser(INST);
    let refresh = env
        .stored_refresh_token(INST)
        .expect("a refresh token in secrets.toml");
    // Kept secret even after the emulator forgets it (uninstall, rotation).
    env.add_secret(&refresh);
    refresh
}

fn last_access_request(env: &TestEnv) -> serde_json::Value {
    let seen = env
        .emu
        .seen()
        .into_iter()
        .rfind(|s| s.path == "/oauth/access")
        .expect("an /oauth/access request");
    serde_json::from_str(&seen.body).expect("a JSON body")
}

#[test]
fn token_uses_the_refresh_grant_and_five_minute_tokens() {
    let env = TestEnv::new();
    let refresh = logged_in(&env);
    let before = env.emu.count("/oauth/access");

    let out = env.run(env.cmd().args(["token", "--no-cache", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let json = json_out(&out);
    assert_eq!(env.emu.count("/oauth/access"), before + 1);
    let body = last_access_request(&env);
    assert_eq!(body["grant_type"], "refresh_token");
    assert_eq!(body["refresh_token"], refresh.as_str());
    assert_eq!(body["client_id"], APP_ID);

    let expires_in = json["expires_in"].as_i64().expect("expires_in");
    assert!(
        (290..=300).contains(&expires_in),
        "5-minute tokens: {expires_in}"
    );
    assert_eq!(json["flow"], "advanced");
    assert_eq!(json["instance_id"], INST);
    assert_eq!(json["app_id"], APP_ID);
    let token = json["access_token"].as_str().unwrap().to_string();
    let issued = env.emu.token_info(&token).expect("issued by the emulator");
    assert_eq!(issued.exp - issued.iat, 300);
    assert_eq!(issued.instance_id, INST);

    // The next call is served from the cache.
    assert_eq!(env.token_ok(&[]), token);
    assert_eq!(env.emu.count("/oauth/access"), before + 1);
    // The refresh token did not change (Wix does not rotate them).
    assert_eq!(env.stored_refresh_token(INST), Some(refresh));
}

#[test]
fn a_refresh_token_wix_rejects_is_kept_and_the_error_says_to_log_in() {
    let env = TestEnv::new();
    let refresh = logged_in(&env);
    let secrets_before = read(&env.secrets_file());
    let config_before = read(&env.config_file());
    env.emu.uninstall(APP_ID, INST);

    let out = env.run(env.cmd().args(["token", "--no-cache"]));
    let line = assert_fails(&out, 3);
    assert!(line.contains("wixauth login --flow advanced"), "{line}");
    assert_eq!(
        line.matches("wixauth login").count(),
        1,
        "one next step: {line}"
    );
    assert_eq!(
        read(&env.secrets_file()),
        secrets_before,
        "secrets.toml untouched"
    );
    assert_eq!(read(&env.config_file()), config_before);
    assert_eq!(env.stored_refresh_token(INST), Some(refresh));
}

#[test]
fn a_rotated_refresh_token_is_stored_only_after_it_arrived() {
    let env = TestEnv::new();
    let old = logged_in(&env);
    env.emu.rotate_refresh_tokens(true);

    // A broken answer: nothing arrived, so nothing is replaced.
    env.emu.push_fault("/oauth/access", Fault::Malformed);
    let out = env.run(env.cmd().args(["token", "--no-cache"]));
    assert_fails(&out, 4);
    assert_eq!(
        env.stored_refresh_token(INST).as_deref(),
        Some(old.as_str())
    );
    // Wix's 5xx, retried and still failing: the same.
    for _ in 0..3 {
        env.emu.push_fault("/oauth/access", Fault::Status(503));
    }
    let out = env.run(env.cmd().args(["token", "--no-cache"]));
    assert_fails(&out, 4);
    assert_eq!(
        env.stored_refresh_token(INST).as_deref(),
        Some(old.as_str())
    );

    // A real answer with a new refresh token: it replaces the old one, which Wix dropped.
    let token = env.token_ok(&["--no-cache"]);
    assert!(env.emu.token_info(&token).is_some());
    let new = env.stored_refresh_token(INST).expect("a refresh token");
    env.add_secret(&new);
    assert_ne!(new, old);
    let live = env.emu.refresh_tokens();
    assert!(live.contains(&new) && !live.contains(&old), "{live:?}");
    let secrets = read(&env.secrets_file());
    assert!(!secrets.contains(&old), "the old refresh token is gone");

    // And the successor works in turn.
    env.token_ok(&["--no-cache"]);
    let newer = env.stored_refresh_token(INST).unwrap();
    env.add_secret(&newer);
    assert!(env.emu.refresh_tokens().contains(&newer));
}

/// A refresh token for `instance` obtained the way login does, without wixauth.
fn refresh_token_for(env: &TestEnv, instance: &str) -> String {
    let code = env.emu.issue_code(APP_ID, instance);
    let answer = post_json(
        &format!("{}/oauth/access", env.emu.base()),
        &serde_json::json!({
            "grant_type": "authorization_code",
            "client_id": APP_ID,
            "client_secret": env.secret,
            "code": code,
        }),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    json["refresh_token"].as_str().unwrap().to_string()
}

/// The CI environment: app id, secret and refresh token from variables; no keyring reachable.
fn ci_env(env: &TestEnv, refresh: &str, cmd: &mut std::process::Command) {
    cmd.env("WIX_APP_ID", APP_ID)
        .env("WIX_APP_SECRET", &env.secret)
        .env("WIX_REFRESH_TOKEN", refresh)
        // If anything asked the keyring, it would fail: there is none at this address.
        .env("WIXAUTH_SECRET_STORE", "keyring")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/wixauth-test-bus",
        );
}

#[test]
fn ci_mode_needs_only_environment_variables() {
    let env = TestEnv::new();
    let refresh = refresh_token_for(&env, "inst-ci");
    let before = env.emu.count("/oauth/access");

    let mut cmd = env.std_cmd();
    cmd.args(["token", "--json"]);
    ci_env(&env, &refresh, &mut cmd);
    let out = Running::spawn(cmd, None).wait();
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    let json = json_out(&out);
    assert_eq!(env.emu.count("/oauth/access"), before + 1);
    assert_eq!(last_access_request(&env)["grant_type"], "refresh_token");
    assert_eq!(json["flow"], "advanced");
    assert_eq!(json["app_id"], APP_ID);
    assert!(json["expires_in"].as_i64().unwrap() <= 300);
    let token = json["access_token"].as_str().unwrap();
    assert_eq!(env.emu.token_info(token).unwrap().instance_id, "inst-ci");
    assert!(!env.config_file().exists(), "no config.toml is needed");
    assert!(!env.secrets_file().exists(), "nothing is stored");
}

/// Runs 16 `token` processes at once and returns their tokens (all must succeed).
fn sixteen_in_parallel(env: &TestEnv, setup: impl Fn(&mut std::process::Command)) -> Vec<String> {
    let running: Vec<Running> = (0..16)
        .map(|_| {
            let mut cmd = env.std_cmd();
            cmd.arg("token");
            setup(&mut cmd);
            Running::spawn(cmd, None)
        })
        .collect();
    running
        .into_iter()
        .map(|mut r| {
            let out = r.wait_for(Duration::from_secs(30));
            env.assert_no_leak(&out);
            assert!(out.status.success(), "{}", stderr(&out));
            stdout(&out).trim_end().to_string()
        })
        .collect()
}

#[test]
fn sixteen_parallel_calls_after_expiry_make_one_refresh() {
    let env = TestEnv::new();
    let old = logged_in(&env);
    // Rotation on: the one refresh must keep the successor, and no caller may use a dropped one.
    env.emu.rotate_refresh_tokens(true);
    env.set_cached_expiry(now_unix() - 1);
    let before = env.emu.count("/oauth/access");

    let tokens = sixteen_in_parallel(&env, |_| {});
    assert_eq!(
        env.emu.count("/oauth/access"),
        before + 1,
        "exactly one refresh between 16 processes"
    );
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "all got the same token: {tokens:?}"
    );
    assert!(env.emu.token_info(&tokens[0]).is_some());
    let new = env.stored_refresh_token(INST).unwrap();
    env.add_secret(&new);
    assert_ne!(new, old);
    assert!(env.emu.refresh_tokens().contains(&new));
    env.assert_credentials_work();
}

#[test]
fn sixteen_parallel_calls_in_ci_mode_with_an_empty_cache_make_one_refresh() {
    let env = TestEnv::new();
    let refresh = refresh_token_for(&env, "inst-ci-par");
    let before = env.emu.count("/oauth/access");
    let tokens = sixteen_in_parallel(&env, |cmd| ci_env(&env, &refresh, cmd));
    assert_eq!(env.emu.count("/oauth/access"), before + 1);
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "all got the same token: {tokens:?}"
    );
    assert_eq!(
        env.emu.token_info(&tokens[0]).unwrap().instance_id,
        "inst-ci-par"
    );
}
