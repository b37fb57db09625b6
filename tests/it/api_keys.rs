//! Wix API keys (issue 18, item 2): `login --flow api-key` with `--site-id` and/or
//! `--account-id`, the key as a secret; `token` prints it and its headers; `api` and `exec`
//! carry them; no cache file; CI from `WIX_API_KEY`. Against the emulator's key rules.

use crate::support::*;

pub const SITE: &str = "site-66666666";
pub const ACCOUNT: &str = "account-77777777";

/// An emulator with a key of ACCOUNT for SITE (returned; a secret of the test).
pub fn key_env(permissions: &[&str]) -> (TestEnv, String) {
    let env = TestEnv::new();
    let key = env.unique("IST.");
    env.emu
        .register_api_key(&key, ACCOUNT, &[SITE], permissions);
    (env, key)
}

pub fn login_key(env: &TestEnv, key: &str, extra: &[&str]) -> std::process::Output {
    env.run(
        env.cmd()
            .args(["login", "--flow", "api-key", "--secret-stdin"])
            .args(extra)
            .write_stdin(format!("{key}\n")),
    )
}

#[test]
fn a_key_is_stored_without_a_call_and_token_prints_it_with_its_headers() {
    let (env, key) = key_env(&[]);
    let out = login_key(
        &env,
        &key,
        &["--site-id", SITE, "--account-id", ACCOUNT, "--json", "-v"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        env.emu.seen().is_empty(),
        "no call proves a key: {:?}",
        env.emu.seen()
    );
    let summary = json_out(&out);
    assert_eq!(
        (
            &summary["kind"],
            &summary["site_id"],
            &summary["account_id"]
        ),
        (&"api-key".into(), &SITE.into(), &ACCOUNT.into())
    );
    assert!(
        stderr(&out).contains("not checked with Wix"),
        "{}",
        stderr(&out)
    );
    let profile = env.default_profile();
    assert_eq!(profile["flow"].as_str(), Some("api-key"));
    assert_eq!(profile["site_id"].as_str(), Some(SITE));
    assert_eq!(
        env.stored_secret("default/api-key").as_deref(),
        Some(key.as_str())
    );

    let raw = env.run_showing(env.cmd().arg("token"), &key);
    assert_eq!(stdout(&raw), format!("{key}\n"));
    let header = env.run_showing(env.cmd().args(["token", "--header"]), &key);
    assert_eq!(
        stdout(&header),
        format!("Authorization: {key}\nwix-site-id: {SITE}\nwix-account-id: {ACCOUNT}\n")
    );
    let json = json_out(&env.run_showing(env.cmd().args(["token", "--json"]), &key));
    assert_eq!(
        json,
        serde_json::json!({"access_token": key, "token_type": "ApiKey", "expires_at": null,
            "expires_in": null, "app_id": null, "instance_id": null, "flow": "api-key",
            "site_id": SITE, "account_id": ACCOUNT})
    );
    assert!(env.cache_files().is_empty(), "no cache file for a key");
    assert!(env.emu.seen().is_empty(), "and still no call");
}

#[test]
fn a_key_needs_a_site_or_an_account_that_look_like_wix_ids() {
    let (env, key) = key_env(&[]);
    let line = assert_fails(&login_key(&env, &key, &[]), 2);
    assert!(
        line.contains("--site-id") && line.contains("--account-id"),
        "{line}"
    );
    for bad in ["../../etc", "site 1", "x\u{1b}[2J"] {
        let line = assert_fails(&login_key(&env, &key, &["--site-id", bad]), 2);
        assert!(line.contains("does not look like a Wix site id"), "{line}");
        assert!(!line.contains('\u{1b}'), "escaped: {line:?}");
    }
    assert!(!env.config_file().exists() && !env.secrets_file().exists());
    // From the environment too, before any header is sent.
    let out = env.run(
        env.cmd()
            .env("WIX_API_KEY", &key)
            .env("WIX_SITE_ID", "bad/site")
            .args(["api", "/site-properties/v4/properties"]),
    );
    let line = assert_fails(&out, 2);
    assert!(line.contains("WIX_SITE_ID"), "{line}");
    assert!(env.emu.seen().is_empty());
}

#[test]
fn check_makes_one_get_and_a_refused_key_stores_nothing() {
    let (env, key) = key_env(&[]);
    let path = "/site-properties/v4/properties";
    env.emu.revoke_api_key(&key);
    let out = login_key(&env, &key, &["--site-id", SITE, "--check", path]);
    let line = assert_fails(&out, 3);
    assert!(
        line.contains("HTTP 401") && line.contains("nothing was stored"),
        "{line}"
    );
    assert!(!env.config_file().exists() && !env.secrets_file().exists());

    let (env, key) = key_env(&[]);
    let out = login_key(&env, &key, &["--site-id", SITE, "--check", path]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sent = env.seen_at(path);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "GET");
    assert_eq!(
        sent[0].header("authorization"),
        Some(key.as_str()),
        "raw, no Bearer"
    );
    assert_eq!(sent[0].header("wix-site-id"), Some(SITE));
    assert!(env.stored_secret("default/api-key").is_some());
    // A path off the API base is refused before anything is sent.
    let out = login_key(
        &env,
        &key,
        &["--site-id", SITE, "--check", "https://evil.example/x"],
    );
    assert_fails(&out, 2);
    assert_eq!(env.emu.seen().len(), 1);
}

#[test]
fn api_sends_both_headers_and_exec_exports_them_but_never_wix_api_key() {
    let (env, key) = key_env(&[]);
    assert!(
        login_key(&env, &key, &["--site-id", SITE, "--account-id", ACCOUNT])
            .status
            .success()
    );
    let out = env.run(env.cmd().args([
        "-v",
        "api",
        "-X",
        "POST",
        "/site-list/v2/sites/query",
        "-d",
        "{}",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(SITE), "{}", stdout(&out));
    let sent = env.seen_at("/site-list/v2/sites/query").pop().unwrap();
    assert_eq!(sent.header("authorization"), Some(key.as_str()));
    assert_eq!(sent.header("wix-account-id"), Some(ACCOUNT));
    assert_eq!(sent.header("wix-site-id"), Some(SITE));

    let out = env.run_showing(
        env.cmd()
            .env("WIX_CLIENT_SECRET", "parent-secret")
            // The key from the environment (CI) is the token, never WIX_API_KEY in the child.
            .env("WIX_API_KEY", &key)
            .args(["exec", "--", "sh", "-c"])
            .arg(r#"printf '%s|%s|%s|%s|%s\n' "$WIX_ACCESS_TOKEN" "$WIX_SITE_ID" "$WIX_ACCOUNT_ID" "${WIX_API_KEY-unset}" "${WIX_CLIENT_SECRET-unset}""#),
        &key,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("{key}|{SITE}|{ACCOUNT}|unset|unset\n")
    );
    assert!(env.cache_files().is_empty());
}

#[test]
fn ci_wix_api_key_with_a_site_or_an_account_needs_no_config() {
    let (env, key) = key_env(&[]);
    let ci = || {
        let mut cmd = env.cmd();
        cmd.env("WIX_API_KEY", &key).env("WIX_SITE_ID", SITE);
        cmd
    };
    let out = env.run_showing(ci().args(["token", "--header"]), &key);
    assert_eq!(
        stdout(&out),
        format!("Authorization: {key}\nwix-site-id: {SITE}\n")
    );
    let out = env.run(ci().args(["api", "/site-properties/v4/properties"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(
        env.cmd()
            .env("WIX_API_KEY", &key)
            .env("WIX_ACCOUNT_ID", ACCOUNT)
            .args(["api", "-X", "POST", "/site-list/v2/sites/query", "-d", "{}"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!env.config_file().exists() && env.cache_files().is_empty());
}

#[test]
fn a_revoked_key_says_it_was_rejected_and_how_to_replace_it_after_one_request() {
    let (env, key) = key_env(&[]);
    assert!(login_key(&env, &key, &["--site-id", SITE]).status.success());
    env.emu.revoke_api_key(&key);
    let out = env.run(env.cmd().args(["api", "/site-properties/v4/properties"]));
    let line = assert_fails(&out, 1);
    assert!(line.contains("Wix rejected the stored API key"), "{line}");
    assert!(
        line.contains(
            "pipe the current API key into `wixauth login --flow api-key --secret-stdin`"
        ),
        "{line}"
    );
    assert_eq!(
        env.emu.count("/site-properties/v4/properties"),
        1,
        "a key is not retried"
    );
    let err = stderr(&out);
    assert!(err.contains("\ncause: Wix rejected the API key"), "{err}");

    // From WIX_API_KEY: check it there.
    let out = env.run(
        env.cmd()
            .env("WIX_API_KEY", &key)
            .env("WIX_SITE_ID", SITE)
            .args(["api", "/site-properties/v4/properties"]),
    );
    let line = assert_fails(&out, 1);
    assert!(line.contains("check WIX_API_KEY"), "{line}");
}

#[test]
fn status_and_whoami_show_the_headers_never_the_key_and_logout_removes_it() {
    let (env, key) = key_env(&[]);
    assert!(
        login_key(&env, &key, &["--site-id", SITE, "--account-id", ACCOUNT])
            .status
            .success()
    );
    let out = env.run(env.cmd().arg("status"));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("API key: calls send Authorization (the key), wix-site-id: {SITE}, wix-account-id: {ACCOUNT}")),
        "{text}"
    );
    assert!(text.contains("API key held in PLAIN TEXT"), "{text}");
    let json = json_out(&env.run(env.cmd().args(["status", "--json", "--check"])));
    assert_eq!(json["profiles"][0]["kind"], "api-key");
    assert_eq!(
        json["profiles"][0]["api_key"]["headers"],
        serde_json::json!(["Authorization", "wix-site-id", "wix-account-id"])
    );
    assert!(json["profiles"][0]["api_key"]["check"]
        .as_str()
        .unwrap()
        .contains("not checked"));
    let who = json_out(&env.run(env.cmd().args(["whoami", "--json"])));
    assert_eq!(who["flow"], "api-key");
    assert_eq!(who["api_key"]["site_id"], SITE);
    assert!(
        env.emu.seen().is_empty(),
        "status, whoami: no Wix call for a key"
    );

    let out = env.run(env.cmd().arg("logout"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("API Keys Manager"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.stored_secret("default/api-key"), None);
    assert_fails(&env.run(env.cmd().arg("token")), 2);
}

#[test]
fn switching_a_key_profile_to_another_kind_asks_and_leaves_no_key_behind() {
    let (env, key) = key_env(&[]);
    assert!(login_key(&env, &key, &["--site-id", SITE]).status.success());
    let line = assert_fails(
        &env.login_with(
            &["--app-id", APP_ID, "--instance-id", INSTANCE],
            &env.secret,
        ),
        2,
    );
    assert!(line.contains("holds a Wix API key"), "{line}");
    assert!(env.stored_secret("default/api-key").is_some(), "kept");
    let out = env.login_with(
        &["--app-id", APP_ID, "--instance-id", INSTANCE, "--force"],
        &env.secret,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.stored_secret("default/api-key"), None);
    let profile = env.default_profile();
    assert!(
        profile.get("site_id").is_none()
            && profile.get("flow").and_then(|f| f.as_str()) == Some("basic")
    );
}

#[test]
fn a_stored_key_goes_only_to_the_api_base_it_was_stored_for() {
    let (env, key) = key_env(&[]);
    assert!(login_key(&env, &key, &["--site-id", SITE]).status.success());
    let other = Emulator::start();
    let out = env.run(
        env.cmd()
            .env("WIXAUTH_API_BASE", other.base())
            .args(["api", "/site-properties/v4/properties"]),
    );
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("its stored secrets are sent only there"),
        "{line}"
    );
    assert!(
        other.seen().is_empty(),
        "the key never reached another base"
    );
    // The key is not printed for another base either.
    assert_fails(
        &env.run(env.cmd().env("WIXAUTH_API_BASE", other.base()).arg("token")),
        2,
    );
}

#[test]
fn login_help_says_api_keys_are_not_for_third_party_apps() {
    let env = TestEnv::new();
    let out = env.run(env.cmd().args(["login", "--help"]));
    let help = stdout(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        help.contains("third-party Wix apps cannot use them"),
        "{help}"
    );
    assert!(help.contains("api-key"), "{help}");
}
