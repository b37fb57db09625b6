//! Wix Headless admin (issue 18, item 1): `login --flow admin` with the client's id and client
//! secret, against the emulator's admin grant (`POST /oauth2/token` with snake_case keys and
//! no `instance_id`), and every command after it. API keys are in `api_keys.rs`, dotenv files
//! in `env_file.rs`, "why was I refused?" in `explain.rs`.

use crate::support::*;

pub const CLIENT: &str = "client-55555555";

/// An emulator with a Headless client that has a client secret (returned, registered as a
/// secret of the test).
pub fn admin_env() -> (TestEnv, String) {
    let env = TestEnv::new();
    let secret = env.unique("cs-");
    env.emu.register_headless(CLIENT, &[]);
    env.emu.register_client_secret(CLIENT, &secret);
    (env, secret)
}

pub fn login_admin(env: &TestEnv, secret: &str, extra: &[&str]) -> std::process::Output {
    env.run(
        env.cmd()
            .args([
                "login",
                "--flow",
                "admin",
                "--client-id",
                CLIENT,
                "--secret-stdin",
            ])
            .args(extra)
            .write_stdin(format!("{secret}\n")),
    )
}

/// The bodies of the admin grants the emulator saw (client credentials without an instance).
fn admin_grants(env: &TestEnv) -> Vec<serde_json::Value> {
    env.seen_at("/oauth2/token")
        .iter()
        .filter_map(|s| serde_json::from_str::<serde_json::Value>(&s.body).ok())
        .filter(|v| v.get("grant_type").is_some() && v.get("instance_id").is_none())
        .collect()
}

#[test]
fn admin_login_mints_first_stores_the_secret_and_every_token_after_uses_the_cache() {
    let (env, secret) = admin_env();
    let out = login_admin(&env, &secret, &["--json", "-v"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = json_out(&out);
    assert_eq!(
        (&summary["kind"], &summary["flow"], &summary["client_id"]),
        (&"headless".into(), &"admin".into(), &CLIENT.into())
    );
    // Exactly the documented body: snake_case, no instance_id.
    assert_eq!(
        admin_grants(&env),
        [
            serde_json::json!({"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": secret})
        ]
    );
    let profile = env.default_profile();
    assert_eq!(profile["flow"].as_str(), Some("admin"));
    assert_eq!(profile["client_id"].as_str(), Some(CLIENT));
    let fingerprint = profile["secret_fingerprint"]
        .as_str()
        .expect("a fingerprint");
    assert!(!fingerprint.contains(&secret) && !secret.contains(fingerprint));
    assert_eq!(
        env.stored_secret(&format!("default/client-secret#{CLIENT}"))
            .as_deref(),
        Some(secret.as_str())
    );

    // The login's token is cached: no request, and it is the emulator's admin token.
    let first = env.token_ok(&[]);
    assert_eq!(admin_grants(&env).len(), 1);
    assert_eq!(env.emu.token_info(&first).unwrap().app_id, CLIENT);
    let out = env.run(env.cmd().args(["token", "--json"]));
    let json = json_out(&out);
    assert_eq!(json["flow"], "admin");
    assert_eq!(json["client_id"], CLIENT);
    assert_eq!(json["instance_id"], serde_json::Value::Null);
    let left = json["expires_in"].as_u64().unwrap();
    assert!(left <= 3600 && left > 3500, "from expires_in: {left}");
    let out = env.run(env.cmd().args(["token", "--header"]));
    assert_eq!(stdout(&out), format!("Authorization: {first}\n"));

    let fresh = env.token_ok(&["--no-cache"]);
    assert_ne!(fresh, first);
    assert_eq!(admin_grants(&env).len(), 2);
}

#[test]
fn parallel_tokens_past_the_cached_expiry_make_one_admin_grant_between_them() {
    let (env, secret) = admin_env();
    assert!(login_admin(&env, &secret, &[]).status.success());
    env.set_cached_expiry(now_unix());
    let commands = (0..8)
        .map(|_| {
            let mut cmd = env.std_cmd();
            cmd.arg("token");
            cmd
        })
        .collect();
    let mut tokens = Vec::new();
    for out in env.run_all_at_once(commands) {
        assert!(out.status.success(), "{}", stderr(&out));
        tokens.push(stdout(&out));
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "one new token for all: {tokens:?}");
    assert_eq!(
        admin_grants(&env).len(),
        2,
        "the login's, then one under the lock"
    );
}

#[test]
fn a_rejected_client_secret_is_exit_3_and_stores_nothing() {
    let (env, _) = admin_env();
    env.add_secret("not-the-secret");
    let out = login_admin(&env, "not-the-secret", &[]);
    let line = assert_fails(&out, 3);
    assert!(line.contains("HTTP 401"), "{line}");
    assert!(line.contains("--secret-stdin"), "{line}");
    assert!(!env.config_file().exists(), "nothing stored");
    assert!(!env.secrets_file().exists(), "nothing stored");
    assert!(env.cache_files().is_empty());
}

#[test]
fn the_lifetime_is_wixs_expires_in_and_short_without_one() {
    let (env, secret) = admin_env();
    env.emu.set_admin_expires_in(Some(120));
    assert!(login_admin(&env, &secret, &[]).status.success());
    let json = json_out(&env.run(env.cmd().args(["token", "--json", "--min-ttl", "10"])));
    assert!(json["expires_in"].as_u64().unwrap() <= 120, "{json}");
    env.emu.set_admin_expires_in(None);
    let json = json_out(&env.run(env.cmd().args(["token", "--json", "--no-cache"])));
    let left = json["expires_in"].as_u64().unwrap();
    assert!(
        left <= 300 && left > 200,
        "unsaid: short-lived (300 s): {left}"
    );
}

#[test]
fn ci_client_id_and_secret_select_the_admin_flow_and_the_cache_is_theirs_alone() {
    let (env, secret) = admin_env();
    let ci = |s: &str| {
        let mut cmd = env.cmd();
        cmd.env("WIX_CLIENT_ID", CLIENT).env("WIX_CLIENT_SECRET", s);
        cmd
    };
    let out = env.run(ci(&secret).args(["token", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_out(&out)["flow"], "admin");
    assert_eq!(admin_grants(&env).len(), 1);
    assert!(!env.config_file().exists(), "CI needs no config");
    // The cached token is only for that secret: another one is asked of Wix (and refused).
    assert!(env.run(ci(&secret).arg("token")).status.success());
    assert_eq!(admin_grants(&env).len(), 1, "a cache hit");
    env.add_secret("wrong-secret");
    let out = env.run(ci("wrong-secret").arg("token"));
    let line = assert_fails(&out, 3);
    assert!(line.contains("WIX_CLIENT_SECRET"), "{line}");
    // With WIX_REFRESH_TOKEN the refresh grant is used, as for visitors.
    let out = env.run(
        ci(&secret)
            .env("WIX_REFRESH_TOKEN", "hl-refresh-unknown")
            .args(["token"]),
    );
    assert_fails(&out, 3);
    let last = env.seen_at("/oauth2/token").pop().unwrap();
    assert!(
        last.body.contains("\"grantType\":\"refresh_token\""),
        "{}",
        last.body
    );
}

#[test]
fn the_stored_cache_key_carries_the_secrets_fingerprint() {
    let (env, secret) = admin_env();
    assert!(login_admin(&env, &secret, &[]).status.success());
    let cached = env.token_ok(&[]);
    // Another fingerprint: the cached token is not the one for the stored secret any more.
    let config = read(&env.config_file());
    let fingerprint = env.default_profile()["secret_fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(
        env.config_file(),
        config.replace(&fingerprint, "00000000000000000000000000000000"),
    )
    .unwrap();
    let minted = env.token_ok(&[]);
    assert_ne!(minted, cached);
    assert_eq!(admin_grants(&env).len(), 2);
}

#[test]
fn a_stored_client_secret_goes_only_to_the_api_base_it_was_stored_for() {
    let (env, secret) = admin_env();
    assert!(login_admin(&env, &secret, &[]).status.success());
    let other = Emulator::start();
    let out = env.run(
        env.cmd()
            .env("WIXAUTH_API_BASE", other.base())
            .args(["token", "--no-cache"]),
    );
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("its stored secrets are sent only there"),
        "{line}"
    );
    assert_eq!(other.count("/oauth2/token"), 0);
}

#[test]
fn status_whoami_exec_and_logout_work_for_an_admin_profile() {
    let (env, secret) = admin_env();
    assert!(login_admin(&env, &secret, &[]).status.success());
    let token = env.token_ok(&[]);

    let status = env.run(env.cmd().arg("status"));
    assert!(status.status.success(), "{}", stderr(&status));
    let text = stdout(&status);
    assert!(
        text.contains(&format!("Wix Headless client: {CLIENT}, flow admin")),
        "{text}"
    );
    assert!(text.contains("client secret held in PLAIN TEXT"), "{text}");
    let json = json_out(&env.run(env.cmd().args(["status", "--json"])));
    let headless = &json["profiles"][0]["headless"];
    assert_eq!(
        (&headless["client_secret"], &headless["refresh_token"]),
        (&true.into(), &false.into())
    );

    let who = json_out(&env.run(env.cmd().args(["whoami", "--json"])));
    assert_eq!(who["flow"], "admin");
    assert_eq!(who["token"]["subject_type"], "APP");
    assert_eq!(who["token"]["app_id"], CLIENT);

    let out = env.run(
        env.cmd()
            .env("WIX_CLIENT_SECRET", &secret)
            .args(["exec", "--", "sh", "-c"])
            .arg(r#"printf '%s|%s|%s\n' "$WIX_ACCESS_TOKEN" "$WIX_CLIENT_ID" "${WIX_CLIENT_SECRET-unset}""#),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{token}|{CLIENT}|unset\n"));

    let out = env.run(env.cmd().arg("logout"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("client secret"), "{}", stderr(&out));
    assert_eq!(
        env.stored_secret(&format!("default/client-secret#{CLIENT}")),
        None
    );
    assert!(env.cache_files().is_empty(), "{:?}", env.cache_files());
    assert_fails(&env.run(env.cmd().arg("token")), 2);
}

#[test]
fn a_stored_secret_wix_rejects_names_secret_stdin_without_a_terminal() {
    let (env, secret) = admin_env();
    assert!(login_admin(&env, &secret, &[]).status.success());
    // Generated again in Headless Settings: the stored one is refused.
    let rotated = format!("rotated-{secret}");
    env.emu.register_client_secret(CLIENT, &rotated);
    let out = env.run(
        env.cmd()
            .args(["login", "--flow", "admin", "--client-id", CLIENT]),
    );
    let line = assert_fails(&out, 3);
    assert!(
        line.contains("the stored client secret no longer works"),
        "{line}"
    );
    assert!(
        line.contains("wixauth login --flow admin --secret-stdin"),
        "{line}"
    );
    // The stored login is kept as it was until a new secret is proven.
    assert_eq!(
        env.stored_secret(&format!("default/client-secret#{CLIENT}"))
            .as_deref(),
        Some(secret.as_str())
    );
    let out = login_admin(&env, &rotated, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        env.stored_secret(&format!("default/client-secret#{CLIENT}"))
            .as_deref(),
        Some(rotated.as_str())
    );
}

#[test]
fn switching_an_app_profile_to_admin_asks_first_and_leaves_no_app_secret() {
    let (env, secret) = admin_env();
    env.login_basic();
    let out = login_admin(&env, &secret, &[]);
    let line = assert_fails(&out, 2);
    assert!(line.contains("holds an app"), "{line}");
    assert!(env.stored_secret(APP_SECRET_ENTRY).is_some(), "kept");
    let out = login_admin(&env, &secret, &["--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.stored_secret(APP_SECRET_ENTRY), None);
    assert!(env.default_profile().get("app_id").is_none());
    assert_eq!(env.token_ok(&[]), env.cached_token());
}
