//! Wix Headless visitor and member logins (issue 9), against the emulator's headless endpoints:
//! camelCase grants on `/oauth2/token` with a real PKCE S256 check, the redirect session, the
//! member login page, Get My Member and Token Info for visitor/member tokens.

use crate::support::loopback::*;
use crate::support::*;

use std::time::Duration;

const CLIENT: &str = "client-44444444";

fn headless_env() -> TestEnv {
    let env = TestEnv::new();
    env.emu
        .register_headless(CLIENT, &["http://localhost:8338/callback"]);
    env
}

/// The grant types the emulator saw on `/oauth2/token`, in order.
fn grants(env: &TestEnv) -> Vec<String> {
    env.seen_at("/oauth2/token")
        .iter()
        .filter_map(|s| {
            let v: serde_json::Value = serde_json::from_str(&s.body).ok()?;
            v.get("grantType")?.as_str().map(str::to_string)
        })
        .collect()
}

fn count(env: &TestEnv, grant: &str) -> usize {
    grants(env).iter().filter(|g| *g == grant).count()
}

fn login_visitor(env: &TestEnv, extra: &[&str]) -> std::process::Output {
    env.run(
        env.cmd()
            .args(["login", "--flow", "visitor", "--client-id", CLIENT])
            .args(extra),
    )
}

fn stored_headless_refresh(env: &TestEnv) -> Option<String> {
    env.stored_secret("default/headless-client/refresh-token")
}

// ---------------------------------------------------------------- visitor

#[test]
fn visitor_login_stores_the_refresh_token_and_token_never_mints_a_new_visitor() {
    let env = headless_env();
    let out = login_visitor(&env, &["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = json_out(&out);
    assert_eq!(summary["kind"], "headless");
    assert_eq!(summary["flow"], "visitor");
    assert_eq!(summary["client_id"], CLIENT);
    assert_eq!(grants(&env), ["anonymous"]);
    let refresh = stored_headless_refresh(&env).expect("refresh token stored");
    let profile = env.default_profile();
    assert_eq!(profile["client_id"].as_str(), Some(CLIENT));
    assert_eq!(profile["flow"].as_str(), Some("visitor"));
    assert!(profile.get("app_id").is_none());

    // The login's token is cached: no request.
    let first = env.token_ok(&[]);
    assert_eq!(grants(&env).len(), 1);
    let info = env.emu.token_info(&first).expect("issued by the emulator");
    assert_eq!(info.app_id, CLIENT);

    // A new token comes from the refresh grant with the stored token, for the same visitor.
    let fresh = env.token_ok(&["--no-cache"]);
    assert_ne!(fresh, first);
    assert_eq!(grants(&env), ["anonymous", "refresh_token"]);
    let sent = env.seen_at("/oauth2/token").pop().unwrap();
    let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"clientId": CLIENT, "grantType": "refresh_token", "refreshToken": refresh})
    );
    assert_eq!(env.emu.headless_subjects().len(), 1, "one visitor only");

    let out = env.run(env.cmd().args(["token", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let json = json_out(&out);
    assert_eq!(json["flow"], "visitor");
    assert_eq!(json["access_token"], fresh.as_str());
    assert_eq!(json["instance_id"], serde_json::Value::Null);

    let out = env.run(env.cmd().args(["token", "--header"]));
    assert_eq!(stdout(&out), format!("Authorization: {fresh}\n"));
}

#[test]
fn two_profiles_of_one_client_never_get_each_others_token() {
    let env = headless_env();
    let mut tokens = Vec::new();
    for profile in ["alice", "bob"] {
        let out = login_visitor(&env, &["--profile", profile]);
        assert!(out.status.success(), "{}", stderr(&out));
        tokens.push(env.token_ok(&["--profile", profile]));
    }
    assert_eq!(count(&env, "anonymous"), 2);
    assert_eq!(env.emu.headless_subjects().len(), 2, "two visitors");
    assert_ne!(tokens[0], tokens[1]);
    // Each profile's cached token is still its own visitor's, and logging one out keeps
    // the other's.
    assert_eq!(env.token_ok(&["--profile", "alice"]), tokens[0]);
    let out = env.run(env.cmd().args(["logout", "--profile", "bob"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.token_ok(&["--profile", "alice"]), tokens[0]);
    assert_eq!(
        count(&env, "refresh_token"),
        0,
        "alice's token came from the cache"
    );
}

/// A login that cannot store its secrets leaves the previous login as it was: here an app
/// login over a visitor profile, with a keyring required and none answering.
#[cfg(target_os = "linux")]
#[test]
fn a_login_that_cannot_store_its_secret_keeps_the_previous_login() {
    let env = headless_env();
    assert!(login_visitor(&env, &[]).status.success());
    let refresh = stored_headless_refresh(&env).expect("stored");
    let home = tempfile::tempdir().expect("tempdir");
    let out = env.run(
        env.login_basic_cmd()
            .arg("--force")
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .env("HOME", home.path())
            .env("XDG_RUNTIME_DIR", home.path())
            .env("WIXAUTH_SECRET_STORE", "keyring"),
    );
    assert_fails(&out, 2);
    assert_eq!(stored_headless_refresh(&env), Some(refresh));
    assert_eq!(env.default_profile()["client_id"].as_str(), Some(CLIENT));
    env.token_ok(&["--no-cache"]);

    // And the other way: a visitor login over an app profile keeps the app's secret.
    let env = headless_env();
    env.login_basic();
    let home = tempfile::tempdir().expect("tempdir");
    let out = env.run(
        env.cmd()
            .args([
                "login",
                "--flow",
                "visitor",
                "--client-id",
                CLIENT,
                "--force",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .env("HOME", home.path())
            .env("XDG_RUNTIME_DIR", home.path())
            .env("WIXAUTH_SECRET_STORE", "keyring"),
    );
    assert_fails(&out, 2);
    assert_eq!(
        env.stored_secret(APP_SECRET_ENTRY).as_deref(),
        Some(env.secret.as_str())
    );
    assert_eq!(env.default_profile()["app_id"].as_str(), Some(APP_ID));
    env.token_ok(&["--no-cache"]);
}

#[test]
fn logging_out_of_the_active_headless_profile_makes_default_active_again() {
    let env = headless_env();
    env.login_basic();
    assert!(login_visitor(&env, &["--profile", "shop"]).status.success());
    let out = env.run(env.cmd().args(["switch", "--profile", "shop"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(env.cmd().arg("logout"));
    assert!(out.status.success(), "{}", stderr(&out));
    // The app profile `default` answers again, not "nothing is logged in for profile shop".
    let token = env.token_ok(&[]);
    assert_eq!(env.emu.token_info(&token).expect("issued").app_id, APP_ID);
}

#[test]
fn a_second_visitor_login_keeps_the_stored_visitor() {
    let env = headless_env();
    assert!(login_visitor(&env, &[]).status.success());
    let out = login_visitor(&env, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Kept the stored visitor"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count(&env, "anonymous"), 1);
    assert_eq!(env.emu.headless_subjects().len(), 1);

    // A refresh grant without a refresh token: the stored one is kept and still works.
    let refresh = stored_headless_refresh(&env).unwrap();
    env.emu.headless_refresh_without_refresh_token(true);
    let out = login_visitor(&env, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    env.token_ok(&["--no-cache"]);
    assert_eq!(stored_headless_refresh(&env), Some(refresh));
}

#[test]
fn without_a_client_id_login_is_a_usage_error() {
    let env = headless_env();
    let out = env.run(env.cmd().args([
        "login",
        "--flow",
        "visitor",
        "--client-id",
        CLIENT,
        "--prompt",
        "login",
    ]));
    assert!(assert_fails(&out, 2).contains("--flow member"));
    let out = env.run(env.cmd().args([
        "login",
        "--flow",
        "basic",
        "--client-id",
        CLIENT,
        "--instance-id",
        INSTANCE,
    ]));
    assert!(assert_fails(&out, 2).contains("--client-id"));
    let out = env.run(env.cmd().args(["login", "--flow", "visitor"]));
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("--client-id") && line.contains("WIX_CLIENT_ID"),
        "{line}"
    );
    assert!(grants(&env).is_empty());
    let out = env.run(
        env.cmd()
            .args(["login", "--flow", "visitor", "--client-id", "a/../b"]),
    );
    assert_fails(&out, 2);
}

#[test]
fn a_client_id_wix_rejects_is_exit_3_and_stores_nothing() {
    let env = headless_env();
    let out = env.run(env.cmd().args([
        "login",
        "--flow",
        "visitor",
        "--client-id",
        "client-unknown",
    ]));
    let line = assert_fails(&out, 3);
    assert!(
        line.contains("HTTP 400") && line.contains("client id"),
        "{line}"
    );
    assert!(!env.config_file().exists());
}

#[test]
fn after_logout_token_exits_2_and_no_visitor_is_minted() {
    let env = headless_env();
    assert!(login_visitor(&env, &[]).status.success());
    let out = env.run(env.cmd().arg("logout"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stored_headless_refresh(&env).is_none());
    assert!(env.cache_files().is_empty(), "{:?}", env.cache_files());
    for args in [&["token"][..], &["token", "--no-cache"], &["whoami"]] {
        let out = env.run(env.cmd().args(args));
        assert_fails(&out, 2);
    }
    assert_eq!(
        count(&env, "anonymous"),
        1,
        "never a new visitor behind the user's back"
    );

    // The profile is there but its refresh token is gone (a wiped keyring): still exit 2.
    let env = headless_env();
    assert!(login_visitor(&env, &[]).status.success());
    std::fs::remove_file(env.secrets_file()).unwrap();
    let out = env.run(env.cmd().args(["token", "--no-cache"]));
    let line = assert_fails(&out, 2);
    assert!(line.contains("wixauth login --flow visitor"), "{line}");
    assert_eq!(count(&env, "anonymous"), 1);
}

#[test]
fn a_rotated_refresh_token_replaces_the_stored_one_and_a_revoked_one_is_kept_with_exit_3() {
    let env = headless_env();
    assert!(login_visitor(&env, &[]).status.success());
    let old = stored_headless_refresh(&env).unwrap();
    env.emu.rotate_refresh_tokens(true);
    env.token_ok(&["--no-cache"]);
    let new = stored_headless_refresh(&env).unwrap();
    assert_ne!(new, old);
    env.token_ok(&["--no-cache"]);

    env.emu
        .revoke_headless_refresh(&stored_headless_refresh(&env).unwrap());
    let kept = stored_headless_refresh(&env).unwrap();
    let out = env.run(env.cmd().args(["token", "--no-cache"]));
    let line = assert_fails(&out, 3);
    assert!(line.contains("wixauth login --flow visitor"), "{line}");
    assert_eq!(
        line.matches("wixauth login").count(),
        1,
        "one next step: {line}"
    );
    assert_eq!(
        stored_headless_refresh(&env).as_deref(),
        Some(kept.as_str())
    );
    assert_eq!(count(&env, "anonymous"), 1);
}

#[test]
fn ci_client_id_and_refresh_token_16_parallel_tokens_make_one_refresh() {
    let env = headless_env();
    assert!(login_visitor(&env, &[]).status.success());
    let refresh = stored_headless_refresh(&env).unwrap();
    let ci_dir = tempfile::tempdir().unwrap();
    let before = count(&env, "refresh_token");
    let children: Vec<_> = (0..16)
        .map(|_| {
            let mut cmd = env.std_cmd();
            cmd.env("WIXAUTH_CONFIG_DIR", ci_dir.path())
                .env("WIXAUTH_SECRET_STORE", "keyring")
                .env("WIX_CLIENT_ID", CLIENT)
                .env("WIX_REFRESH_TOKEN", &refresh)
                .arg("token")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("spawn")
        })
        .collect();
    let mut tokens = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        env.assert_no_leak(&out);
        assert!(out.status.success(), "{}", stderr(&out));
        tokens.push(stdout(&out));
    }
    assert_eq!(
        count(&env, "refresh_token") - before,
        1,
        "one refresh for 16 callers"
    );
    assert!(tokens.windows(2).all(|w| w[0] == w[1]));
    assert!(!ci_dir.path().join("config.toml").exists());
    assert!(
        !ci_dir.path().join("secrets.toml").exists(),
        "nothing stored from the environment"
    );
    let out = env.run(
        env.cmd()
            .env("WIXAUTH_CONFIG_DIR", ci_dir.path())
            .env("WIX_CLIENT_ID", CLIENT)
            .env("WIX_REFRESH_TOKEN", "hl-refresh-bogus")
            .args(["token", "--no-cache"]),
    );
    assert_fails(&out, 3);
}

#[test]
fn status_json_shows_the_profile_kind() {
    let env = headless_env();
    assert!(login_visitor(&env, &[]).status.success());
    let out = env.run(env.cmd().args(["status", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let json = json_out(&out);
    let p = &json["profiles"][0];
    assert_eq!(p["kind"], "headless");
    assert_eq!(p["headless"]["client_id"], CLIENT);
    assert_eq!(p["headless"]["flow"], "visitor");
    assert_eq!(p["headless"]["refresh_token"], true);
    assert!(p["headless"]["cached_token_expires_in"].as_i64().unwrap() > 14_000);
    assert_eq!(json["ready"], true);
    let out = env.run(env.cmd().arg("status"));
    assert!(
        stdout(&out).contains(CLIENT) && stdout(&out).contains("flow visitor"),
        "{}",
        stdout(&out)
    );

    let env = TestEnv::new();
    env.login_basic();
    let json = json_out(&env.run(env.cmd().args(["status", "--json"])));
    assert_eq!(json["profiles"][0]["kind"], "app");
}

#[test]
fn switching_kinds_needs_force_without_a_tty_and_leaves_nothing_behind() {
    let env = headless_env();
    env.login_basic();
    let app_secret_entry = APP_SECRET_ENTRY;
    assert!(env.stored_secret(app_secret_entry).is_some());
    let out = login_visitor(&env, &[]);
    let line = assert_fails(&out, 2);
    assert!(line.contains("--force"), "{line}");
    assert!(
        grants(&env).is_empty(),
        "nothing asked of Wix before the switch is agreed"
    );

    let out = login_visitor(&env, &["--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        env.stored_secret(app_secret_entry).is_none(),
        "the app secret is gone"
    );
    let files = env.cache_files();
    assert_eq!(
        files.len(),
        1,
        "only the visitor's token is cached: {files:?}"
    );
    assert!(!files[0].to_string_lossy().contains(APP_ID));
    let profile = env.default_profile();
    assert!(profile.get("app_id").is_none() && profile["instances"].as_table().unwrap().is_empty());

    // And back: the headless refresh token goes.
    let out = env.login_with(
        &["--app-id", APP_ID, "--instance-id", INSTANCE],
        &env.secret,
    );
    assert_fails(&out, 2);
    let out = env.login_with(
        &["--app-id", APP_ID, "--instance-id", INSTANCE, "--force"],
        &env.secret,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stored_headless_refresh(&env).is_none());
    assert!(env.default_profile().get("client_id").is_none());
    env.assert_credentials_work();
}

#[test]
fn install_url_and_bi_event_say_they_are_for_app_profiles() {
    let env = headless_env();
    assert!(login_visitor(&env, &[]).status.success());
    for args in [&["install-url"][..], &["bi-event", "finished"]] {
        let out = env.run(env.cmd().args(args));
        let line = assert_fails(&out, 2);
        assert!(line.contains("for app profiles"), "{line}");
    }
}

#[test]
fn whoami_api_and_exec_work_for_a_visitor() {
    let env = headless_env();
    assert!(login_visitor(&env, &[]).status.success());
    let out = env.run(env.cmd().args(["whoami", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let json = json_out(&out);
    assert_eq!(json["token"]["subject_type"], "VISITOR");
    assert_eq!(json["token"]["app_id"], CLIENT);
    assert!(json.get("member").is_none());
    let out = env.run(env.cmd().arg("whoami"));
    let text = stdout(&out);
    assert!(
        text.contains("client id") && text.contains(CLIENT),
        "{text}"
    );
    assert!(text.contains("subject       VISITOR visitor-"), "{text}");
    let out = env.run(env.cmd().args(["api", "/echo"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(
        env.cmd()
            .args(["exec", "--", "sh", "-c", "test -n \"$WIX_ACCESS_TOKEN\" && test \"$WIX_CLIENT_ID\" = client-44444444 && test -z \"$WIX_INSTANCE_ID\""]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

// ---------------------------------------------------------------- member

struct MemberLogin {
    login: Login,
    url: String,
}

/// `wixauth login --flow member --no-browser` on a fresh port whose redirect URI is `listed`
/// (or not) for the client; waits for the printed Wix login URL.
fn start_member(env: &TestEnv, listed: bool, extra: &[&str]) -> MemberLogin {
    let port = free_port();
    let redirect = format!("http://localhost:{port}/callback");
    let mut allowed = vec!["http://localhost:8338/callback".to_string()];
    if listed {
        allowed.push(redirect.clone());
    }
    let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
    env.emu.register_headless(CLIENT, &allowed);
    let mut cmd = env.std_cmd();
    cmd.args([
        "login",
        "--flow",
        "member",
        "--client-id",
        CLIENT,
        "--redirect-url",
        &redirect,
        "--no-browser",
    ])
    .args(extra)
    .envs(blocked_proxy_env());
    let mut proc = Running::spawn(cmd, None);
    let url = proc
        .wait_line("the member login URL", |l| {
            l.trim().contains("/headless-login?")
        })
        .trim()
        .to_string();
    MemberLogin {
        login: Login {
            port,
            redirect,
            proc,
        },
        url,
    }
}

#[test]
fn member_login_end_to_end() {
    let env = headless_env();
    let mut m = start_member(&env, true, &["--prompt", "login"]);
    // The redirect session got the visitor token and the PKCE S256 challenge.
    let session = env
        .seen_at("/_api/redirects-api/v1/redirect-session")
        .pop()
        .unwrap();
    let auth = session.header("authorization").unwrap().to_string();
    assert_eq!(env.emu.token_info(&auth).unwrap().app_id, CLIENT);
    let body: serde_json::Value = serde_json::from_str(&session.body).unwrap();
    assert_eq!(body["auth"]["prompt"], "login");
    assert_eq!(
        body["auth"]["authRequest"]["redirectUri"],
        m.login.redirect.as_str()
    );
    let challenge = body["auth"]["authRequest"]["codeChallenge"]
        .as_str()
        .unwrap()
        .to_string();
    let state = body["auth"]["authRequest"]["state"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(state.len() >= 32);

    let page = get(&m.url);
    assert_eq!(page.status, 302);
    let callback = resolve(&m.url, &page.location());
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        Some(state.as_str())
    );
    let browsed = env.send_callback(&callback);
    assert_eq!(browsed.answer.status, 200);
    let out = m.login.wait();
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));

    // The exchange sent the verifier whose S256 is the challenge, and the exact redirect URI.
    let exchange = env
        .seen_at("/oauth2/token")
        .into_iter()
        .find(|s| s.body.contains("authorization_code"))
        .unwrap();
    let sent: serde_json::Value = serde_json::from_str(&exchange.body).unwrap();
    let verifier = sent["codeVerifier"].as_str().unwrap();
    assert!((43..=128).contains(&verifier.len()));
    use base64::Engine;
    use sha2::Digest;
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier)),
        challenge
    );
    assert_eq!(sent["redirectUri"], m.login.redirect.as_str());

    let profile = env.default_profile();
    assert_eq!(profile["flow"].as_str(), Some("member"));
    assert!(stored_headless_refresh(&env).is_some());
    let token = env.token_ok(&[]);
    assert_eq!(env.emu.token_info(&token).unwrap().app_id, CLIENT);
    let out = env.run(env.cmd().args(["whoami", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let json = json_out(&out);
    assert_eq!(json["token"]["subject_type"], "MEMBER");
    assert_eq!(json["member"]["login_email"], "member@example.com");
    assert_eq!(json["member"]["nickname"], "Emulated Member");
    let my = env.seen_at("/members/v1/members/my").pop().unwrap();
    assert_eq!(my.query, "fieldsets=FULL");
    let json = json_out(&env.run(env.cmd().args(["token", "--json", "--no-cache"])));
    assert_eq!(json["flow"], "member");
}

#[test]
fn member_login_ignores_a_wrong_state_and_keeps_waiting() {
    let env = headless_env();
    let mut m = start_member(&env, true, &[]);
    let callback = resolve(&m.url, &get(&m.url).location());
    let forged = get(&m.login.url("/callback?code=x&state=forged"));
    assert_eq!(forged.status, 400);
    assert!(forged.text().contains("still waiting"));
    assert_listener_response("a forged member callback", &forged);
    m.login.assert_running("a forged member callback");
    // DNS rebinding: the real callback under another Host is refused and changes nothing.
    let target = callback
        .split_once(&format!(":{}", m.login.port))
        .unwrap()
        .1;
    let raw = format!(
        "GET {target} HTTP/1.1\r\nHost: evil.example:{}\r\nConnection: close\r\n\r\n",
        m.login.port
    );
    let status = raw_status(&raw_exchange(m.login.addr(), raw.as_bytes()));
    assert!(matches!(status, Some(400 | 421)), "{status:?}");
    m.login.assert_running("a callback with a foreign Host");
    env.send_callback(&callback);
    let out = m.login.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(count(&env, "authorization_code"), 1);
}

fn member_failure(env: &TestEnv, code: i32, before: impl FnOnce(&TestEnv)) -> String {
    let mut m = start_member(env, true, &[]);
    let callback = resolve(&m.url, &get(&m.url).location());
    before(env);
    let answer = get(&callback);
    assert!(answer.status >= 400);
    assert!(answer.text().contains("wixauth login --flow member"));
    let out = m.login.wait();
    env.assert_no_leak(&out);
    assert!(stored_headless_refresh(env).is_none());
    assert_fails(&out, code)
}

#[test]
fn a_denied_member_login_is_exit_5() {
    let env = headless_env();
    env.emu.deny_member_login(true);
    let line = member_failure(&env, 5, |_| {});
    assert!(line.contains("cancelled"), "{line}");
}

#[test]
fn a_wrong_verifier_is_exit_3() {
    let env = headless_env();
    env.emu.corrupt_challenges(true);
    let line = member_failure(&env, 3, |_| {});
    assert!(line.contains("code_verifier"), "{line}");
}

#[test]
fn an_expired_code_is_exit_3() {
    let env = headless_env();
    let line = member_failure(&env, 3, |env| env.emu.advance_clock(601));
    assert!(line.contains("expired"), "{line}");
}

#[test]
fn an_unlisted_redirect_uri_names_the_exact_string_to_add() {
    let env = headless_env();
    let mut m = start_member(&env, false, &["--timeout", "3"]);
    let page = get(&m.url);
    assert_eq!(page.status, 400);
    assert!(page.text().contains("Invalid redirect URI"));
    let out = m.login.wait();
    env.assert_no_leak(&out);
    let line = assert_fails(&out, 5);
    assert!(
        line.contains(&format!(
            "add exactly {} to the client's allowed authorization redirect URIs",
            m.login.redirect
        )),
        "{line}"
    );
    assert!(stderr(&out).contains(&format!("{:?} must be listed exactly", m.login.redirect)));
    assert_port_free(m.login.port);
}

#[test]
fn a_malformed_redirect_session_answer_is_exit_4() {
    let env = headless_env();
    env.emu.malformed_redirect_session(true);
    let port = free_port();
    let out = env.run(env.cmd().args([
        "login",
        "--flow",
        "member",
        "--client-id",
        CLIENT,
        "--no-browser",
        "--redirect-url",
        &format!("http://localhost:{port}/callback"),
    ]));
    let line = assert_fails(&out, 4);
    assert!(line.contains("fullUrl"), "{line}");
    assert_port_free(port);
}

#[test]
fn login_help_names_the_allowed_redirect_uris() {
    let env = headless_env();
    let out = env.run(env.cmd().args(["login", "--help"]));
    // Help is wrapped at 80 columns into a pipe: compare the words.
    let text = stdout(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("Allowed authorization redirect URIs"),
        "{text}"
    );
    assert!(text.contains("visitor") && text.contains("member"));
}

#[test]
fn an_instance_for_a_headless_profile_is_a_usage_error() {
    let env = headless_env();
    assert!(login_visitor(&env, &[]).status.success());
    let out = env.run(env.cmd().args(["token", "--instance", INSTANCE]));
    let line = assert_fails(&out, 2);
    assert!(line.contains("no app instances"), "{line}");
}

// ---------------------------------------------------------------- a real browser

/// A `$BROWSER` script: headless Chromium on its argument with a fresh profile, bounded, its
/// final DOM left in `dir/dom.html`; anything not on loopback goes to a closed proxy port.
fn chromium_browser(dir: &std::path::Path) -> std::path::PathBuf {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
        .expect("Chromium is not installed: run scripts/test.sh, or apt-get install chromium");
    let script = dir.join("browser.sh");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
profile=$(mktemp -d '{dir}/profile.XXXXXX')
timeout 60 '{chromium}' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --proxy-server='{proxy}' --user-data-dir="$profile" --dump-dom "$1" >'{dir}/dom.html' 2>'{dir}/chromium.log'
echo "exit $?" >>'{dir}/chromium.log'
rm -rf "$profile"
"#,
            dir = dir.display(),
            proxy = closed_base(),
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
#[ignore = "needs Chromium: run scripts/test.sh"]
fn chromium_completes_the_member_login() {
    let env = headless_env();
    let dir = tempfile::tempdir().unwrap();
    let browser = chromium_browser(dir.path());
    let port = free_port();
    let redirect = format!("http://localhost:{port}/callback");
    env.emu.register_headless(CLIENT, &[&redirect]);
    let started = std::time::Instant::now();
    let mut cmd = env.std_cmd();
    cmd.args([
        "login",
        "--flow",
        "member",
        "--client-id",
        CLIENT,
        "--redirect-url",
        &redirect,
        "--timeout",
        "75",
    ])
    .env("BROWSER", &browser)
    .env("NO_PROXY", "127.0.0.1,localhost,::1");
    let mut proc = Running::spawn(cmd, None);
    // Chromium can take tens of seconds to start on a loaded 2-core machine.
    let out = proc.wait_for(Duration::from_secs(80));
    let log = std::fs::read_to_string(dir.path().join("chromium.log")).unwrap_or_default();
    env.assert_no_leak(&out);
    assert!(
        out.status.success(),
        "member login with Chromium failed: {}\nChromium: {log}",
        stderr(&out)
    );
    eprintln!(
        "TIMING Chromium member login: start to exit = {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    assert_eq!(count(&env, "anonymous"), 1);
    assert_eq!(count(&env, "authorization_code"), 1);
    let token = env.token_ok(&[]);
    assert_eq!(env.emu.token_info(&token).unwrap().app_id, CLIENT);
    // Chromium's last page is the listener's success page (it exits after the dump).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let dom = std::fs::read_to_string(dir.path().join("dom.html")).unwrap_or_default();
        if dom.contains("You are logged in as") && dom.contains(CLIENT) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Chromium's page: {dom}\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
