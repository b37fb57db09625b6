//! "Why was I refused?" (issue 18, item 4): after a 401/403/404/428 from `wixauth api` (and for
//! any answer with `--explain`) one more block on stderr: what the credential is, Wix's error
//! code and message, the request id, and one `cause:` and one `fix:` line from the table in
//! `src/credentials/explain.rs`, or Wix's answer when no row fits. `whoami --token -` describes
//! a pasted token the same way.

use crate::api_keys::{key_env, login_key, ACCOUNT, SITE};
use crate::support::emulator::PRODUCTS_SCOPE;
use crate::support::*;

const VISITOR_CLIENT: &str = "client-88888888";

fn token_infos(env: &TestEnv) -> usize {
    env.emu.count("/oauth2/token-info")
}

/// The block's lines after the error line.
fn block(out: &std::process::Output) -> Vec<String> {
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("wixauth: error:"))
        .expect("an error line");
    lines[at + 1..].iter().map(|l| l.to_string()).collect()
}

fn line<'a>(block: &'a [String], start: &str) -> &'a str {
    block
        .iter()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no {start:?} line in {block:#?}"))
}

#[test]
fn a_2xx_makes_no_extra_call_and_explain_adds_exactly_one_token_info() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().args(["api", "/apps/v1/instance"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(token_infos(&env), 0, "no extra call on a 2xx");
    assert!(out.stderr.is_empty(), "{}", stderr(&out));

    let out = env.run(env.cmd().args(["api", "--explain", "/apps/v1/instance"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(token_infos(&env), 1, "--explain: one Token Info call");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("credential: an app's token (Token Info: subjectType APP, client {APP_ID}, instance {INSTANCE}")),
        "{err}"
    );
    assert!(err.contains("request id: emulator"), "{err}");
    assert!(err.contains("Wix accepted the call (HTTP 200)."), "{err}");
}

#[test]
fn a_visitor_token_on_an_admin_method_names_a_profile_that_can_call_it() {
    let env = TestEnv::new();
    env.login_basic(); // profile "default": an app
    env.emu.register_headless(VISITOR_CLIENT, &[]);
    let out = env.run(env.cmd().args([
        "--profile",
        "shop",
        "login",
        "--flow",
        "visitor",
        "--client-id",
        VISITOR_CLIENT,
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let path = "/members/v1/members/query";
    let out = env.run(
        env.cmd()
            .args(["--profile", "shop", "api", "-X", "POST", path, "-d", "{}"]),
    );
    assert_fails(&out, 1);
    let b = block(&out);
    assert!(
        line(&b, "credential: ")
            .starts_with("credential: a site visitor's token (Token Info: subjectType VISITOR"),
        "{b:#?}"
    );
    assert_eq!(
        line(&b, "Wix's error: "),
        "Wix's error: PERMISSION_DENIED: Forbidden: this identity may not call this method"
    );
    assert_eq!(line(&b, "request id: "), "request id: emulator");
    assert_eq!(
        line(&b, "cause: "),
        "cause: a site visitor's token cannot call this method: it needs an app or admin identity"
    );
    assert_eq!(
        line(&b, "fix: "),
        format!("fix: run `wixauth --profile default api {path}`")
    );
    assert_eq!(token_infos(&env), 1, "at most one Token Info call");
}

#[test]
fn an_api_key_without_the_site_header_gets_the_flag_that_adds_it() {
    let (env, key) = key_env(&[]);
    assert!(login_key(&env, &key, &["--account-id", ACCOUNT])
        .status
        .success());
    let out = env.run(env.cmd().args(["api", "/site-properties/v4/properties"]));
    assert_fails(&out, 1);
    let b = block(&out);
    assert_eq!(
        line(&b, "credential: "),
        format!("credential: an API key for account {ACCOUNT} (wix-account-id) (the stored key)")
    );
    assert!(
        line(&b, "Wix's error: ").starts_with("Wix's error: MISSING_METASITE_ID: "),
        "{b:#?}"
    );
    assert_eq!(
        line(&b, "cause: "),
        "cause: this is a site-level API, and the call had no wix-site-id header"
    );
    assert!(
        line(&b, "fix: ").starts_with(&format!(
            "fix: run `wixauth login --flow api-key --site-id SITE_ID --account-id {ACCOUNT}`"
        )),
        "{b:#?}"
    );
    assert_eq!(token_infos(&env), 0, "a key is not sent to Token Info");
    // With the site, the same call works.
    let ok = env.run(
        env.cmd()
            .env("WIX_API_KEY", &key)
            .env("WIX_SITE_ID", SITE)
            .args(["api", "/site-properties/v4/properties"]),
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
}

#[test]
fn an_app_token_for_an_uninstalled_instance_points_at_logout_instance() {
    let env = TestEnv::new();
    env.login_basic();
    env.emu.uninstall(APP_ID, INSTANCE);
    let out = env.run(env.cmd().args(["api", "/site-properties/v4/properties"]));
    assert_fails(&out, 1);
    let b = block(&out);
    assert_eq!(
        line(&b, "Wix's error: "),
        "Wix's error: APP_NOT_INSTALLED: App is not installed on this site"
    );
    assert_eq!(
        line(&b, "cause: "),
        format!("cause: the app is no longer installed on the site of instance {INSTANCE}")
    );
    assert!(
        line(&b, "fix: ").starts_with(&format!(
            "fix: run `wixauth logout --instance {INSTANCE}`, or install the app"
        )),
        "{b:#?}"
    );
}

#[test]
fn a_missing_permission_is_named_with_who_grants_it() {
    let env = TestEnv::new();
    env.login_basic();
    env.emu.withhold_products_scope(APP_ID);
    let path = "/stores/v1/products/query";
    let out = env.run(env.cmd().args(["api", "-X", "POST", path, "-d", "{}"]));
    assert_fails(&out, 1);
    let b = block(&out);
    assert_eq!(
        line(&b, "cause: "),
        format!("cause: the app does not have the permission {PRODUCTS_SCOPE} this call needs")
    );
    let fix = line(&b, "fix: ");
    assert!(
        fix.contains(&format!("request {PRODUCTS_SCOPE} in the app dashboard")),
        "{fix}"
    );
    assert!(fix.contains("site owner approve"), "{fix}");

    // An API key's permissions are the key's own.
    let (env, key) = key_env(&[]);
    assert!(login_key(&env, &key, &["--site-id", SITE]).status.success());
    let out = env.run(env.cmd().args(["api", "-X", "POST", path, "-d", "{}"]));
    let b = block(&out);
    assert!(
        line(&b, "fix: ").contains("to the key in the account's API Keys Manager"),
        "{b:#?}"
    );
}

#[test]
fn a_token_wix_no_longer_takes_says_log_in_again() {
    let env = TestEnv::new();
    env.login_basic();
    let path = "/site-properties/v4/properties";
    // Refused before and after a new token, and Token Info knows neither.
    for _ in 0..2 {
        env.emu
            .push_fault(path, Fault::Message(401, "token revoked".into()));
    }
    env.emu.push_fault(
        "/oauth2/token-info",
        Fault::Message(400, "invalid token".into()),
    );
    let out = env.run(env.cmd().args(["api", path]));
    assert_fails(&out, 1);
    let b = block(&out);
    assert!(
        line(&b, "credential: ").contains("that Token Info did not describe: reading token info"),
        "{b:#?}"
    );
    assert_eq!(
        line(&b, "cause: "),
        "cause: Wix no longer takes this token: it has expired or was revoked"
    );
    assert_eq!(line(&b, "fix: "), "fix: run `wixauth login`");
    assert_eq!(token_infos(&env), 1);
}

#[test]
fn an_unknown_refusal_shows_wixs_answer_and_no_guess() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().args(["api", "/status/404"]));
    assert_fails(&out, 1);
    let b = block(&out);
    assert_eq!(
        line(&b, "Wix's answer: "),
        r#"Wix's answer: {"message":"no such thing"}"#
    );
    assert!(
        !b.iter()
            .any(|l| l.starts_with("cause:") || l.starts_with("fix:")),
        "{b:#?}"
    );
}

#[test]
fn whoami_token_stdin_describes_a_pasted_token_and_never_takes_one_as_an_argument() {
    let env = TestEnv::new();
    env.emu.register_headless(VISITOR_CLIENT, &[]);
    let out =
        env.run(
            env.cmd()
                .args(["login", "--flow", "visitor", "--client-id", VISITOR_CLIENT]),
        );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = env.token_ok(&[]);
    env.add_secret(&token);
    let out = env.run(
        env.cmd()
            .args(["whoami", "--token", "-"])
            .write_stdin(format!("{token}\n")),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("what it is    a site visitor's token (Token Info: subjectType VISITOR"),
        "{text}"
    );
    let json = json_out(
        &env.run(
            env.cmd()
                .args(["whoami", "--token", "-", "--json"])
                .write_stdin(format!("{token}\n")),
        ),
    );
    assert_eq!(json["token"]["subject_type"], "VISITOR");
    assert_eq!(json["token"]["app_id"], VISITOR_CLIENT);
    assert_eq!(
        (&json["profile"], &json["flow"], &json["instance"]),
        (
            &serde_json::Value::Null,
            &serde_json::Value::Null,
            &serde_json::Value::Null
        )
    );
    // Given as an argument (and on stdin too): refused, not read.
    let out = env.run(
        env.cmd()
            .args(["whoami", "--token", &token])
            .write_stdin(format!("{token}\n")),
    );
    let line = assert_fails(&out, 2);
    assert!(line.contains("--token takes only `-`"), "{line}");
    assert!(line.contains("wixauth whoami --token -"), "{line}");
}
