//! The webhook lab (issue 19): `webhook dev-key` and `webhook trigger`, against handlers played
//! by the test (support::fake_handler). `trigger` → `listen`, replay and `webhook test` are in
//! webhook_battery.rs; Node and Wix's SDK in webhook_node.rs.

use crate::support::fake_handler::{FakeHandler, Recorded, Reply};
use crate::support::*;

use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

/// A test env with a dev key made; returns it and the public key (PEM).
pub(crate) fn lab() -> (TestEnv, String) {
    let env = TestEnv::new();
    let out = env.run(env.cmd().args(["webhook", "dev-key"]));
    assert!(out.status.success(), "dev-key: {}", stderr(&out));
    (env, stdout(&out))
}

pub(crate) fn wixauth(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.run(env.cmd().arg("webhook").args(args))
}

/// The claims of a JWT (not verified).
pub(crate) fn claims(jwt: &str) -> Value {
    let middle = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(middle).expect("base64url")).expect("JSON")
}

/// Verifies an RS256 JWT with `pem` independently of wixauth (jsonwebtoken), returning claims.
pub(crate) fn verified(jwt: &str, pem: &str) -> Value {
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    let public = rsa::PublicKey::from_public_key_pem(pem.trim()).expect("public PEM");
    let der = public.to_pkcs1_der().expect("DER");
    let key = jsonwebtoken::DecodingKey::from_rsa_der(der.as_bytes());
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .unwrap_or_else(|e| panic!("{e}: {jwt}"))
        .claims
}

/// The envelope (middle layer) of a JWT's claims.
pub(crate) fn envelope(claims: &Value) -> Value {
    serde_json::from_str(claims["data"].as_str().expect("claims data is a string")).unwrap()
}

pub(crate) fn layer(envelope: &Value, name: &str) -> Value {
    serde_json::from_str(envelope[name].as_str().expect("a JSON string layer")).unwrap()
}

/// The one-line-per-delivery format of the contract.
pub(crate) fn assert_delivery_line(line: &str, status: u16) {
    let rest = line
        .strip_prefix(&format!("HTTP {status} in "))
        .unwrap_or_else(|| panic!("{line}"));
    let (ms, _) = rest.split_once(" ms: ").unwrap_or_else(|| panic!("{line}"));
    assert!(ms.parse::<f64>().is_ok(), "{line}");
}

// ---------------------------------------------------------------- dev-key

#[test]
fn dev_key_is_made_once_kept_in_the_secret_store_and_rotated() {
    let (env, pem) = lab();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    let again = wixauth(&env, &["dev-key"]);
    assert_eq!(stdout(&again), pem, "made once per profile");
    assert!(
        stderr(&again).contains("for development only"),
        "{}",
        stderr(&again)
    );
    let b64 = stdout(&wixauth(&env, &["dev-key", "--format", "base64"]));
    assert_eq!(b64.lines().count(), 1);
    assert_eq!(
        String::from_utf8(STANDARD.decode(b64.trim()).unwrap())
            .unwrap()
            .trim(),
        pem.trim()
    );
    let config = read(&env.config_file());
    let secrets = read(&env.secrets_file());
    assert!(
        !config.contains("PRIVATE"),
        "the private key is never in config.toml"
    );
    assert!(config.contains(pem.lines().nth(1).unwrap()), "{config}");
    assert_eq!(
        secrets.matches("default/webhook-dev-key#").count(),
        1,
        "{secrets}"
    );
    assert!(secrets.contains("BEGIN PRIVATE KEY"));
    let rotated = wixauth(&env, &["dev-key", "--rotate"]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    assert_ne!(stdout(&rotated), pem);
    let secrets = read(&env.secrets_file());
    assert_eq!(
        secrets.matches("default/webhook-dev-key#").count(),
        1,
        "the old entry is gone"
    );
    for out in [&again, &rotated] {
        assert!(!format!("{}{}", stdout(out), stderr(out)).contains("PRIVATE"));
    }
}

#[test]
fn logout_all_removes_the_dev_key() {
    let (env, _) = lab();
    env.login_basic();
    let out = env.run(env.cmd().args(["logout", "--all", "--yes"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let left = std::fs::read_to_string(env.secrets_file()).unwrap_or_default();
    assert!(!left.contains("webhook-dev-key"), "{left}");
}

#[test]
fn no_dev_key_or_an_unreadable_one_is_exit_2_with_the_fix() {
    let env = TestEnv::new();
    let handler = FakeHandler::ok();
    let out = wixauth(&env, &["trigger", "AppInstalled", "--to", &handler.url]);
    let line = assert_fails(&out, 2);
    assert!(line.contains("run `wixauth webhook dev-key`"), "{line}");
    let (env, _) = lab();
    std::fs::remove_file(env.secrets_file()).unwrap();
    for args in [
        vec!["trigger", "AppInstalled", "--to", &handler.url],
        vec!["test", &handler.url],
    ] {
        let line = assert_fails(&wixauth(&env, &args), 2);
        assert!(
            line.contains("run `wixauth webhook dev-key --rotate`"),
            "{line}"
        );
    }
    assert!(handler.seen().is_empty(), "nothing was sent");
}

// ---------------------------------------------------------------- trigger

#[test]
fn trigger_sends_wix_s_exact_envelope_for_every_built_in_event() {
    let (env, pem) = lab();
    let handler = FakeHandler::ok();
    let list = stdout(&wixauth(&env, &["trigger", "--list"]));
    let names: Vec<&str> = list
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let want = [
        "AppInstalled",
        "AppRemoved",
        "PaidPlanPurchased",
        "PaidPlanChanged",
        "PaidPlanAutoRenewalCancelled",
        "PlanConvertedToPaid",
        "PlanReactivated",
        "PlanTransferred",
    ];
    assert_eq!(names, want);
    for name in want {
        let out = wixauth(&env, &["trigger", name, "--to", &handler.url, "--json"]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert_delivery_line(stderr(&out).lines().next().unwrap(), 200);
        assert_eq!(json_out(&out)["event_type"], name);
    }
    let seen = handler.seen();
    assert_eq!(seen.len(), want.len(), "one POST per delivery");
    for (request, name) in seen.iter().zip(want) {
        check_envelope(request, name, &pem);
    }
}

/// What Wix's SDK parses: the whole body a JWT (RS256, kid), claims `{data, iat, exp}` with
/// `exp` = `iat` + 1 h, `data` a JSON string of the envelope whose `data` and `identity` are
/// JSON strings again; the payload's fields and enums as the SDK types them.
fn check_envelope(request: &Recorded, name: &str, pem: &str) {
    assert!(
        request.request_line.starts_with("POST /webhooks "),
        "{}",
        request.request_line
    );
    assert_eq!(
        request.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let jwt = request.text();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "RS256");
    assert!(header["kid"].is_string());
    let claims = verified(&jwt, pem);
    let mut keys: Vec<&String> = claims.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["data", "exp", "iat"]);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
    assert!(claims["iat"].as_u64().unwrap().abs_diff(now_unix()) < 60);
    let envelope = envelope(&claims);
    assert_eq!(envelope["eventType"], name);
    let instance = envelope["instanceId"].as_str().unwrap();
    assert!(
        instance.len() == 36 && instance.chars().nth(14) == Some('4'),
        "{instance}"
    );
    let identity = layer(&envelope, "identity");
    assert_eq!(identity["identityType"], "APP");
    let data = layer(&envelope, "data");
    let cycles = [
        "NO_CYCLE",
        "MONTHLY",
        "YEARLY",
        "ONE_TIME",
        "TWO_YEARS",
        "THREE_YEARS",
        "FOUR_YEARS",
        "FIVE_YEARS",
    ];
    match name {
        "AppInstalled" | "AppRemoved" => assert!(data["appId"].is_string(), "{data}"),
        _ => {
            assert!(cycles.contains(&data["cycle"].as_str().unwrap()), "{data}");
            assert!(data["vendorProductId"].is_string(), "{data}");
            let at = data["operationTimeStamp"].as_str().unwrap();
            assert!(humantime::parse_rfc3339(at).is_ok(), "{at}");
        }
    }
    match name {
        "PaidPlanChanged" => assert!(cycles.contains(&data["previousCycle"].as_str().unwrap())),
        "PlanReactivated" => assert_eq!(data["reason"], "AUTO_RENEW_TURNED_ON"),
        "PaidPlanAutoRenewalCancelled" => {
            assert_eq!(data["cancelledDuringFreeTrial"], "NOT_DURING_FREE_TRIAL")
        }
        _ => {}
    }
}

#[test]
fn trigger_options_shape_the_event() {
    let (env, pem) = lab();
    let handler = FakeHandler::ok();
    let file = env.config_dir().join("extra.json");
    std::fs::write(&file, r#"{"couponName": "WINTER", "extra": {"a": 1}}"#).unwrap();
    let data = format!("@{}", file.display());
    let site = "3bbcabc7-8a9e-4b8e-9c1f-0123456789ab";
    let out = env.run(env.cmd().args([
        "--instance",
        site,
        "webhook",
        "trigger",
        "PaidPlanPurchased",
        "--to",
        &handler.url,
        "--data",
        &data,
        "--set",
        "cycle=YEARLY",
        "--set",
        "extra.b=true",
        "--identity",
        "member",
        "--header",
        "X-Test: yes",
        "--expired",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let request = &handler.seen()[0];
    assert_eq!(request.header("x-test"), Some("yes"));
    let c = claims(&request.text());
    assert!(c["exp"].as_u64().unwrap() < now_unix(), "--expired: {c}");
    let e = envelope(&c);
    assert_eq!(e["instanceId"], site);
    let identity = layer(&e, "identity");
    assert_eq!(identity["identityType"], "MEMBER");
    assert!(identity["memberId"].is_string());
    let d = layer(&e, "data");
    assert_eq!(
        d["couponName"], "WINTER",
        "--data wins over the built-in payload"
    );
    assert_eq!(d["cycle"], "YEARLY");
    assert_eq!(d["extra"], json!({"a": 1, "b": true}));
    assert!(
        d["invoiceId"].is_string(),
        "the rest of the payload is kept"
    );
    // Any other event: --event-type with its payload.
    let out = wixauth(
        &env,
        &[
            "trigger",
            "--event-type",
            "wix.ecom.v1.order_created",
            "--data",
            r#"{"entityFqdn": "wix.ecom.v1.order", "slug": "created"}"#,
            "--to",
            &handler.url,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let e = envelope(&verified(&handler.seen()[1].text(), &pem));
    assert_eq!(e["eventType"], "wix.ecom.v1.order_created");
    assert_eq!(layer(&e, "data")["slug"], "created");
}

#[test]
fn a_burst_sends_each_delivery_once_or_twice_and_never_retries() {
    let (env, _) = lab();
    let handler = FakeHandler::ok();
    let out = wixauth(
        &env,
        &[
            "trigger",
            "PaidPlanPurchased",
            "--to",
            &handler.url,
            "--count",
            "6",
            "--concurrency",
            "3",
            "--duplicate",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<String> = stderr(&out).lines().map(str::to_string).collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("HTTP 200 in "))
            .count(),
        12
    );
    assert!(
        lines.last().unwrap().starts_with("12 deliveries in "),
        "{lines:?}"
    );
    let bodies: Vec<String> = handler.seen().iter().map(Recorded::text).collect();
    let mut distinct = bodies.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        (bodies.len(), distinct.len()),
        (12, 6),
        "six fresh events, each twice"
    );
    // A failing handler gets one POST: trigger never retries.
    let failing = FakeHandler::start(|_| Reply::Status(500, "boom".into()));
    let out = wixauth(&env, &["trigger", "AppInstalled", "--to", &failing.url]);
    let line = assert_fails(&out, 1);
    assert!(line.contains("HTTP 500"), "{line}");
    assert_delivery_line(stderr(&out).lines().next().unwrap(), 500);
    assert_eq!(failing.seen().len(), 1);
}

#[test]
fn exit_codes_budget_redirects_and_refused_urls() {
    let (env, _) = lab();
    let slow = FakeHandler::start(|_| Reply::Late(Duration::from_millis(400), 200));
    let out = wixauth(
        &env,
        &[
            "trigger",
            "AppInstalled",
            "--to",
            &slow.url,
            "--budget-ms",
            "100",
        ],
    );
    let line = assert_fails(&out, 1);
    assert!(line.contains("no 2xx within 100 ms"), "{line}");
    let elsewhere = FakeHandler::ok();
    let redirect = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        elsewhere.url
    );
    let redirecting = FakeHandler::start(move |_| Reply::Raw(redirect.clone().into_bytes()));
    let out = wixauth(&env, &["trigger", "AppInstalled", "--to", &redirecting.url]);
    assert_fails(&out, 1);
    assert_delivery_line(stderr(&out).lines().next().unwrap(), 307);
    assert!(elsewhere.seen().is_empty(), "redirects are not followed");
    let down = format!("http://127.0.0.1:{}/webhooks", free_port());
    assert_fails(
        &wixauth(&env, &["trigger", "AppInstalled", "--to", &down]),
        4,
    );
    for refused in [
        "http://example.com/webhooks",
        "http://10.1.2.3/x",
        "ftp://localhost/",
    ] {
        let line = assert_fails(
            &wixauth(&env, &["trigger", "AppInstalled", "--to", refused]),
            2,
        );
        assert!(line.contains("refused"), "{line}");
    }
}

#[test]
fn bad_input_is_a_usage_error_that_says_what_is_wrong() {
    let (env, _) = lab();
    let handler = FakeHandler::ok();
    let line = assert_fails(
        &wixauth(&env, &["trigger", "AppInstaled", "--to", &handler.url]),
        2,
    );
    for name in [
        "AppInstalled",
        "AppRemoved",
        "PaidPlanPurchased",
        "PlanTransferred",
    ] {
        assert!(line.contains(name), "{line}");
    }
    let file = env.config_dir().join("bad.json");
    std::fs::write(&file, "{\n  \"cycle\": YEARLY\n}").unwrap();
    let data = format!("@{}", file.display());
    let line = assert_fails(
        &wixauth(
            &env,
            &[
                "trigger",
                "PaidPlanPurchased",
                "--data",
                &data,
                "--to",
                &handler.url,
            ],
        ),
        2,
    );
    assert!(
        line.contains(&file.display().to_string()) && line.contains("at byte 13"),
        "{line}"
    );
    let line = assert_fails(&wixauth(&env, &["trigger", "--to", &handler.url]), 2);
    assert!(line.contains("--list"), "{line}");
    let line = assert_fails(&wixauth(&env, &["test", &handler.url, "--only", "nope"]), 2);
    assert!(line.contains("wrong-key"), "{line}");
    assert!(handler.seen().is_empty());
}

#[test]
fn nothing_a_handler_answers_reaches_the_terminal_raw_or_holds_the_command() {
    let (env, _) = lab();
    let hostile = format!(
        "\x1b]0;owned\x07\x1b[31mred\u{202e}{}\nsecond line",
        "x".repeat(5_000_000)
    );
    let loud = FakeHandler::start(move |_| Reply::Status(200, hostile.clone()));
    let out = wixauth(&env, &["trigger", "AppInstalled", "--to", &loud.url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        !err.contains('\x1b') && !err.contains('\x07') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    assert!(
        err.len() < 400 && !err.contains("second line"),
        "{} bytes",
        err.len()
    );
    for reply in ["endless", "hang"] {
        let handler = FakeHandler::start(move |_| match reply {
            "endless" => Reply::Endless,
            _ => Reply::Hang,
        });
        // An endless answer is read only up to its first KiB, so it ends at once, long before
        // its 3 s limit; a hang ends at --budget-ms plus the HTTP timeout (1.3 s).
        let budget = if reply == "endless" { "2000" } else { "300" };
        let started = Instant::now();
        let out = env.run(env.cmd().env("WIXAUTH_HTTP_TIMEOUT", "1").args([
            "webhook",
            "trigger",
            "AppInstalled",
            "--to",
            &handler.url,
            "--budget-ms",
            budget,
        ]));
        let took = started.elapsed();
        let most = if reply == "endless" {
            1500
        } else {
            1300 + 1500
        };
        assert!(took < Duration::from_millis(most), "{reply}: {took:?}");
        match reply {
            "endless" => {
                assert!(out.status.success(), "{}", stderr(&out));
                assert!(stderr(&out).len() < 400, "{}", stderr(&out).len());
            }
            _ => {
                let line = assert_fails(&out, 1);
                assert!(
                    stderr(&out).starts_with("no answer in "),
                    "{}",
                    stderr(&out)
                );
                assert!(line.contains("got no answer"), "{line}");
            }
        }
    }
}
