//! `wixauth bi-event EVENT`: Send BI Event for the instance (issue 4, item 1).

use crate::support::*;

const BI_EVENT: &str = "/apps/v1/bi-event";

/// Runs `wixauth bi-event` with `args`.
fn bi_event(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.run(env.cmd().arg("bi-event").args(args))
}

#[test]
fn finished_sends_app_finished_configuration_with_the_instance_token() {
    let env = TestEnv::new();
    env.login_basic();
    let token = env.token_ok(&[]);
    let out = bi_event(&env, &["finished"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let seen = env.seen_at(BI_EVENT);
    assert_eq!(seen.len(), 1, "one request: {seen:?}");
    let request = &seen[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.body,
        r#"{"eventName":"APP_FINISHED_CONFIGURATION"}"#
    );
    assert_eq!(request.header("authorization"), Some(token.as_str()));
    assert!(
        request
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("application/json")),
        "{request:?}"
    );
    let events = env.emu.bi_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["eventName"], "APP_FINISHED_CONFIGURATION");
    assert_eq!(events[0]["instanceId"], INSTANCE);

    assert!(out.stdout.is_empty(), "stdout: {}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one confirmation line: {err:?}");
    assert!(
        err.contains("APP_FINISHED_CONFIGURATION") && err.contains(INSTANCE),
        "{err}"
    );
    assert!(!err.contains(&token), "the token is never printed: {err}");
}

#[test]
fn json_prints_the_result_on_stdout() {
    let env = TestEnv::new();
    env.login_basic();
    let out = bi_event(&env, &["finished", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_out(&out);
    assert_eq!(
        v,
        serde_json::json!({
            "event": "APP_FINISHED_CONFIGURATION",
            "app_id": APP_ID,
            "instance_id": INSTANCE,
            "sent": true,
        })
    );
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    assert_eq!(env.emu.bi_events().len(), 1);
}

#[test]
fn upper_case_names_are_passed_as_they_are() {
    let env = TestEnv::new();
    env.login_basic();
    for name in [
        "APP_UPGRADED",
        "APP_DASHBOARD_LOADED",
        "APP_FINISHED_CONFIGURATION",
    ] {
        let out = bi_event(&env, &[name]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(name), "{}", stderr(&out));
    }
    let bodies: Vec<String> = env.seen_at(BI_EVENT).into_iter().map(|s| s.body).collect();
    assert_eq!(
        bodies,
        [
            r#"{"eventName":"APP_UPGRADED"}"#,
            r#"{"eventName":"APP_DASHBOARD_LOADED"}"#,
            r#"{"eventName":"APP_FINISHED_CONFIGURATION"}"#,
        ]
    );
}

#[test]
fn custom_event_with_name_and_data() {
    let env = TestEnv::new();
    env.login_basic();
    let out = bi_event(
        &env,
        &[
            "CUSTOM",
            "--custom-name",
            "synced_products",
            "--data",
            "count=12",
            "--data",
            "note=a=b c",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let seen = env.seen_at(BI_EVENT);
    assert_eq!(seen.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&seen[0].body).expect("JSON body");
    assert_eq!(
        body,
        serde_json::json!({
            "eventName": "CUSTOM",
            "customEventName": "synced_products",
            "eventData": {"count": "12", "note": "a=b c"},
        })
    );
    assert_eq!(env.emu.bi_events().len(), 1, "the emulator accepted it");
}

#[test]
fn charge_carries_its_event_data() {
    let env = TestEnv::new();
    env.login_basic();
    let out = bi_event(
        &env,
        &["CHARGE", "--data", "sum=9.99", "--data", "currency=USD"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let body: serde_json::Value =
        serde_json::from_str(&env.seen_at(BI_EVENT)[0].body).expect("JSON body");
    assert_eq!(
        body,
        serde_json::json!({"eventName": "CHARGE", "eventData": {"sum": "9.99", "currency": "USD"}})
    );
}

#[test]
fn bad_input_is_exit_2_and_sends_nothing() {
    let env = TestEnv::new();
    env.login_basic();
    let before = env.emu.seen().len();
    let cases: &[(&[&str], &str)] = &[
        (&["NOT_AN_EVENT"], "NOT_AN_EVENT"),
        (&["app_upgraded"], "app_upgraded"),
        (&["Finished"], "Finished"),
        (&["CUSTOM"], "--custom-name"),
        (&["CUSTOM", "--custom-name", "x"], "--custom-name"),
        (&["APP_UPGRADED", "--data", "novalue"], "novalue"),
        (&["APP_UPGRADED", "--data", "=value"], "=value"),
        (&["APP_UPGRADED", "--custom-name", "mine"], "--custom-name"),
        (&["CHARGE", "--data", "currency=USD"], "sum"),
        (&[], "EVENT"),
    ];
    for (args, named) in cases {
        let out = bi_event(&env, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
        assert!(
            err.contains(named),
            "{args:?}: the message names {named:?}: {err}"
        );
        if !args.is_empty() {
            assert_fails(&out, 2);
        }
    }
    assert_eq!(
        env.emu.seen().len(),
        before,
        "bad input must not reach Wix (no token request either)"
    );
    assert!(env.emu.bi_events().is_empty());
}

#[test]
fn wix_rejecting_the_event_is_one_error_line_with_wix_message() {
    let env = TestEnv::new();
    env.login_basic();
    // Deprecated in Wix's enum; the emulator (like Wix after the removal) refuses it.
    let out = bi_event(&env, &["APP_FINISH_BUSINESS_SETUP"]);
    let line = assert_fails(&out, 1);
    assert!(line.contains("invalid eventName"), "Wix's message: {line}");
    assert!(line.contains("APP_FINISH_BUSINESS_SETUP"), "{line}");
    assert_eq!(env.emu.count(BI_EVENT), 1, "a 400 is not retried");
}

#[test]
fn instance_option_picks_another_logged_in_instance() {
    let env = TestEnv::new();
    env.login_two_instances();

    // The default is now the last instance logged in.
    let out = bi_event(&env, &["finished"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = bi_event(&env, &["--instance", INSTANCE, "finished"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(INSTANCE), "{}", stderr(&out));
    let out = env.run(
        env.cmd()
            .args(["bi-event", "APP_UPGRADED"])
            .env("WIX_INSTANCE_ID", INSTANCE),
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let instances: Vec<(String, String)> = env
        .emu
        .bi_events()
        .iter()
        .map(|e| {
            (
                e["eventName"].as_str().unwrap().to_string(),
                e["instanceId"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        instances,
        [
            ("APP_FINISHED_CONFIGURATION".into(), INSTANCE_2.into()),
            ("APP_FINISHED_CONFIGURATION".into(), INSTANCE.into()),
            ("APP_UPGRADED".into(), INSTANCE.into()),
        ]
    );
}

#[test]
fn an_instance_that_is_not_logged_in_is_exit_2() {
    let env = TestEnv::new();
    env.login_basic();
    let before = env.emu.seen().len();
    let out = bi_event(&env, &["--instance", "inst-not-logged-in", "finished"]);
    let line = assert_fails(&out, 2);
    assert!(line.contains("inst-not-logged-in"), "{line}");
    assert_eq!(env.emu.seen().len(), before);
}

#[test]
fn server_errors_three_times_is_exit_4_after_three_attempts() {
    let env = TestEnv::new();
    env.login_basic();
    for _ in 0..3 {
        env.emu.push_fault(BI_EVENT, Fault::Status(500));
    }
    let out = bi_event(&env, &["finished"]);
    let line = assert_fails(&out, 4);
    assert!(line.contains("500"), "{line}");
    assert_eq!(env.emu.count(BI_EVENT), 3);
    assert!(env.emu.bi_events().is_empty());
}

#[test]
fn a_server_error_once_is_retried() {
    let env = TestEnv::new();
    env.login_basic();
    env.emu.push_fault(BI_EVENT, Fault::Status(503));
    let out = bi_event(&env, &["finished"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.emu.count(BI_EVENT), 2);
    assert_eq!(env.emu.bi_events().len(), 1);
}

#[test]
fn a_token_wix_no_longer_takes_is_replaced_once() {
    let env = TestEnv::new();
    env.login_basic();
    env.token_ok(&[]);
    // As if Wix had revoked the cached token: it still looks valid for hours locally.
    env.set_cached_token("OauthNG.JWS.revoked");
    let tokens_before = env.token_requests();

    let out = bi_event(&env, &["finished"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let seen = env.seen_at(BI_EVENT);
    assert_eq!(seen.len(), 2, "one 401, one retry");
    assert_eq!(seen[0].header("authorization"), Some("OauthNG.JWS.revoked"));
    let new_token = seen[1].header("authorization").unwrap().to_string();
    assert_ne!(new_token, "OauthNG.JWS.revoked");
    assert!(env.emu.token_info(&new_token).is_some());
    assert_eq!(
        env.token_requests(),
        tokens_before + 1,
        "exactly one new token"
    );
    assert_eq!(
        env.cached_token(),
        new_token,
        "the cache holds the new token"
    );
    assert_eq!(env.emu.bi_events().len(), 1);
    assert!(!stderr(&out).contains(&new_token));
}

#[test]
fn a_401_on_the_retry_too_is_exit_3() {
    let env = TestEnv::new();
    env.login_basic();
    // The token endpoint hands out tokens, but Wix refuses every one of them.
    env.emu.push_fault(BI_EVENT, Fault::Status(401));
    env.emu.push_fault(BI_EVENT, Fault::Status(401));
    let out = bi_event(&env, &["finished"]);
    let line = assert_fails(&out, 3);
    assert!(line.contains("wixauth login"), "{line}");
    assert_eq!(env.emu.count(BI_EVENT), 2, "one retry only");
}

#[test]
fn nothing_logged_in_is_exit_2() {
    let env = TestEnv::new();
    let out = bi_event(&env, &["finished"]);
    let line = assert_fails(&out, 2);
    assert!(line.contains("wixauth login"), "{line}");
    assert!(env.emu.seen().is_empty());
}

#[test]
fn works_from_environment_credentials_alone() {
    let env = TestEnv::new();
    let out = env.run(
        env.cmd()
            .args(["bi-event", "finished"])
            .env("WIX_APP_ID", APP_ID)
            .env("WIX_APP_SECRET", &env.secret)
            .env("WIX_INSTANCE_ID", INSTANCE),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.emu.bi_events().len(), 1);
    assert_eq!(env.emu.bi_events()[0]["instanceId"], INSTANCE);
}
