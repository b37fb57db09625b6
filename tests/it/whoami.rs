//! `wixauth whoami` (issue 4, item 4) and `wixauth install-url` (item 5).

use crate::support::*;

use serde_json::Value;

fn rfc3339(unix: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix))
        .to_string()
}

fn whoami(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.run(env.cmd().arg("whoami").args(args))
}

#[test]
fn human_output_shows_app_instance_site_and_expiry() {
    let env = TestEnv::new();
    env.login_basic();
    let token = env.token_ok(&[]);
    let issued = env.emu.token_info(&token).unwrap();
    let out = whoami(&env, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        APP_ID,
        INSTANCE,
        "Emulated App",
        "Emulated Site",
        "https://example.wixsite.com/emulated",
        "WIX_DEVELOPERS.MANAGE_APP_INSTANCE",
        &format!("site-of-{INSTANCE}"),
        &rfc3339(issued.exp),
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
    let expiry = text
        .lines()
        .find(|l| l.contains("expires"))
        .unwrap_or_else(|| panic!("no expiry line:\n{text}"));
    assert!(expiry.contains(&rfc3339(issued.exp)), "{expiry}");
    assert!(
        !text.contains(&token),
        "whoami never prints the token:\n{text}"
    );
    assert!(!stderr(&out).contains(&token));
    assert!(out.stderr.is_empty(), "no warning: {}", stderr(&out));
}

#[test]
fn json_has_the_documented_shape() {
    let env = TestEnv::new();
    env.login_basic();
    let token = env.token_ok(&[]);
    let issued = env.emu.token_info(&token).unwrap();
    let out = whoami(&env, &["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_out(&out);
    assert_eq!(v["profile"], "default");
    assert_eq!(v["flow"], "basic");
    let t = &v["token"];
    assert_eq!(t["active"], true, "{v}");
    assert_eq!(t["app_id"], APP_ID);
    assert_eq!(t["instance_id"], INSTANCE);
    assert_eq!(t["site_id"], format!("site-of-{INSTANCE}"));
    assert_eq!(t["subject_type"], "APP");
    // The emulator sends exp as a string and iat as a number, as Wix's example does.
    assert_eq!(t["expires_at"], rfc3339(issued.exp));
    assert_eq!(t["issued_at"], rfc3339(issued.iat));
    humantime::parse_rfc3339(t["expires_at"].as_str().unwrap()).expect("RFC 3339");
    let i = &v["instance"];
    assert_eq!(i["app_name"], "Emulated App");
    assert_eq!(i["instance_id"], INSTANCE);
    assert_eq!(i["site_name"], "Emulated Site");
    assert_eq!(i["site_url"], "https://example.wixsite.com/emulated");
    assert_eq!(
        i["permissions"],
        serde_json::json!(["WIX_DEVELOPERS.MANAGE_APP_INSTANCE"])
    );
    assert_eq!(v["warnings"], serde_json::json!([]));
    assert!(
        !stdout(&out).contains(&token),
        "whoami --json never prints the token"
    );
}

#[test]
fn it_asks_wix_with_the_instance_token() {
    let env = TestEnv::new();
    env.login_basic();
    let token = env.token_ok(&[]);
    let out = whoami(&env, &["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let info = env.seen_at("/oauth2/token-info");
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].method, "POST");
    let body: Value = serde_json::from_str(&info[0].body).unwrap();
    assert_eq!(body, serde_json::json!({"token": token}));
    // The login asked once (which site?), whoami once more, with the token it hands out.
    let instance = env.seen_at("/apps/v1/instance");
    assert_eq!(instance.len(), 2);
    assert_eq!(instance[1].method, "GET");
    assert_eq!(instance[1].header("authorization"), Some(token.as_str()));
}

#[test]
fn missing_permission_still_shows_the_token_with_a_hint() {
    let env = TestEnv::new();
    env.login_basic();
    env.emu.deny_instance_read(true);

    let out = whoami(&env, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json_out(&out);
    assert_eq!(v["token"]["active"], true);
    assert_eq!(v["token"]["instance_id"], INSTANCE);
    assert!(v["token"]["expires_at"].is_string());
    assert!(v["instance"].is_null(), "{v}");
    let warnings = v["warnings"].as_array().expect("warnings is an array");
    assert_eq!(warnings.len(), 1, "{v}");
    let w = warnings[0].as_str().unwrap();
    assert!(w.contains("Manage Your App") && w.contains("403"), "{w}");

    let err = stderr(&out);
    assert_eq!(
        err.lines().count(),
        1,
        "the warning, as a note on stderr: {err}"
    );
    assert!(err.contains("Manage Your App"), "{err}");

    let out = whoami(&env, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (text, err) = (stdout(&out), stderr(&out));
    assert!(text.contains(APP_ID) && text.contains(INSTANCE), "{text}");
    let expiry = text
        .lines()
        .find(|l| l.contains("expires"))
        .unwrap_or_default();
    // Relative for a person, the exact time beside it: `in 3h 59m (2026-…Z)`.
    assert!(expiry.contains("expires in 3h 59m ("), "{expiry}");
    let shown = expiry
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .trim_matches(|c| c == '(' || c == ')');
    humantime::parse_rfc3339(shown)
        .unwrap_or_else(|e| panic!("the token's expiry is still shown ({e}):\n{text}"));
    assert!(!text.contains("Emulated Site"), "{text}");
    assert!(
        !text.contains("Manage Your App"),
        "stdout holds only the report:\n{text}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("wixauth: warning:") && err.contains("Manage Your App"),
        "{err}"
    );
    assert!(!err.contains("wixauth: error"), "{err}");
}

#[test]
fn a_token_wix_no_longer_takes_is_replaced() {
    let env = TestEnv::new();
    env.login_basic();
    env.token_ok(&[]);
    env.set_cached_token("OauthNG.JWS.revoked");
    let out = whoami(&env, &["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_out(&out);
    assert_eq!(v["token"]["active"], true, "{v}");
    assert_eq!(v["instance"]["site_name"], "Emulated Site", "{v}");
    let fresh = env.cached_token();
    assert_ne!(fresh, "OauthNG.JWS.revoked");
    let info = env.seen_at("/oauth2/token-info");
    let asked: Value = serde_json::from_str(&info.last().unwrap().body).unwrap();
    assert_eq!(
        asked["token"], fresh,
        "token info is about the token in use"
    );
}

#[test]
fn wix_failing_is_exit_4() {
    let env = TestEnv::new();
    env.login_basic();
    env.token_ok(&[]);
    for _ in 0..3 {
        env.emu.push_fault("/oauth2/token-info", Fault::Status(500));
    }
    let out = whoami(&env, &[]);
    assert_fails(&out, 4);
    assert_eq!(env.emu.count("/oauth2/token-info"), 3);
}

#[test]
fn nothing_logged_in_is_exit_2() {
    let env = TestEnv::new();
    let out = whoami(&env, &["--json"]);
    let line = assert_fails(&out, 2);
    assert!(line.contains("wixauth login"), "{line}");
    assert!(env.emu.seen().is_empty());
}

// ---------------------------------------------------------------------------- install-url

fn install_url(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.run(env.cmd().arg("install-url").args(args))
}

/// The path and the decoded query pairs of a URL printed on stdout.
fn parse_printed(out: &std::process::Output) -> url::Url {
    assert!(out.status.success(), "{}", stderr(out));
    let text = stdout(out);
    assert!(
        text.ends_with('\n') && text.lines().count() == 1,
        "{text:?}"
    );
    url::Url::parse(text.trim_end()).expect("a URL")
}

fn pairs(url: &url::Url) -> Vec<(String, String)> {
    url.query_pairs().into_owned().collect()
}

#[test]
fn basic_profile_prints_the_app_installer_url() {
    let env = TestEnv::new();
    env.login_basic();
    let out = install_url(&env, &[]);
    assert_eq!(
        stdout(&out),
        format!("{}/app-installer?appId={APP_ID}\n", env.emu.base())
    );
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let url = parse_printed(&out);
    assert_eq!(pairs(&url), [("appId".to_string(), APP_ID.to_string())]);
    assert!(
        env.emu.seen().iter().all(|s| s.path != "/app-installer"),
        "printed, not opened"
    );
}

#[test]
fn advanced_flow_prints_the_installer_url_with_the_redirect() {
    let env = TestEnv::new();
    env.login_basic();
    let out = install_url(&env, &["--flow", "advanced"]);
    let url = parse_printed(&out);
    assert_eq!(
        format!("{}://{}", url.scheme(), url.host_str().unwrap()),
        format!("http://{}", env.emu.addr.ip())
    );
    assert_eq!(url.port(), Some(env.emu.addr.port()));
    assert_eq!(url.path(), "/installer/install");
    assert_eq!(
        pairs(&url),
        [
            ("appId".to_string(), APP_ID.to_string()),
            (
                "redirectUrl".to_string(),
                "http://localhost:8338/callback".to_string()
            ),
        ]
    );
}

#[test]
fn json_has_url_flow_and_app_id() {
    let env = TestEnv::new();
    env.login_basic();
    for (args, flow, path) in [
        (&["--json"][..], "basic", "/app-installer"),
        (
            &["--json", "--flow", "advanced"][..],
            "advanced",
            "/installer/install",
        ),
    ] {
        let out = install_url(&env, args);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out).lines().count(), 1);
        let v = json_out(&out);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, ["app_id", "flow", "url"], "{v}");
        assert_eq!(v["flow"], flow);
        assert_eq!(v["app_id"], APP_ID);
        let url = url::Url::parse(v["url"].as_str().unwrap()).unwrap();
        assert_eq!(url.path(), path);
        assert!(
            pairs(&url).contains(&("appId".to_string(), APP_ID.to_string())),
            "{v}"
        );
    }
}

#[test]
fn an_installer_base_with_a_path_keeps_it() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().arg("install-url").env(
        "WIXAUTH_INSTALLER_BASE",
        format!("{}/prefix/", env.emu.base()),
    ));
    assert_eq!(
        stdout(&out),
        format!("{}/prefix/app-installer?appId={APP_ID}\n", env.emu.base()),
        "{}",
        stderr(&out)
    );
}

#[test]
fn app_id_from_the_environment_alone() {
    let env = TestEnv::new();
    let out = env.run(
        env.cmd()
            .args(["install-url", "--flow", "basic"])
            .env("WIX_APP_ID", "app-from-env"),
    );
    assert_eq!(
        stdout(&out),
        format!("{}/app-installer?appId=app-from-env\n", env.emu.base()),
        "{}",
        stderr(&out)
    );
}

#[test]
fn nothing_logged_in_and_no_app_id_is_exit_2() {
    let env = TestEnv::new();
    let out = install_url(&env, &[]);
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("WIX_APP_ID") && line.contains("wixauth login"),
        "{line}"
    );
    let out = install_url(&env, &["--json", "--flow", "advanced"]);
    assert_fails(&out, 2);
}

#[test]
fn a_remote_plain_http_installer_base_is_refused() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(
        env.cmd()
            .arg("install-url")
            .env("WIXAUTH_INSTALLER_BASE", "http://example.com"),
    );
    let line = assert_fails(&out, 2);
    assert!(line.contains("WIXAUTH_INSTALLER_BASE"), "{line}");
}

/// A profile as an advanced-flow login leaves it (written by hand: no browser needed).
fn advanced_profile(env: &TestEnv, redirect: &str) {
    std::fs::write(
        env.config_file(),
        format!(
            "[profiles.default]\napp_id = \"{APP_ID}\"\nflow = \"advanced\"\nredirect_url = \"{redirect}\"\n"
        ),
    )
    .unwrap();
}

#[test]
fn advanced_profile_uses_its_flow_and_redirect_url() {
    let env = TestEnv::new();
    advanced_profile(&env, "http://127.0.0.1:9555/cb");
    let url = parse_printed(&install_url(&env, &[]));
    assert_eq!(url.path(), "/installer/install");
    assert_eq!(
        pairs(&url),
        [
            ("appId".to_string(), APP_ID.to_string()),
            (
                "redirectUrl".to_string(),
                "http://127.0.0.1:9555/cb".to_string()
            ),
        ]
    );
    // --flow overrides the profile's.
    let url = parse_printed(&install_url(&env, &["--flow", "basic"]));
    assert_eq!(url.path(), "/app-installer");
}

#[test]
fn wix_app_id_for_another_app_ignores_the_profile() {
    let env = TestEnv::new();
    advanced_profile(&env, "http://127.0.0.1:9555/cb");
    let out = env.run(
        env.cmd()
            .args(["install-url", "--flow", "advanced"])
            .env("WIX_APP_ID", "app-other"),
    );
    let url = parse_printed(&out);
    assert_eq!(
        pairs(&url),
        [
            ("appId".to_string(), "app-other".to_string()),
            (
                "redirectUrl".to_string(),
                "http://localhost:8338/callback".to_string()
            ),
        ],
        "another app's redirect URL would be refused by Wix"
    );
}
