//! The webhook lab (issue 19), part two: `trigger` into `webhook listen --dev-key` (and
//! `--save-deliveries` → `trigger --replay`), and the `webhook test` battery against
//! wixauth's own receiver and handlers played by the test (support::fake_handler).

use crate::support::fake_handler::{FakeHandler, Recorded, Reply};
use crate::support::loopback::Running;
use crate::support::*;
use crate::webhook_lab::{claims, envelope, lab, verified, wixauth};

use std::time::{Duration, Instant};

use serde_json::Value;

// ---------------------------------------------------------------- trigger → listen, replay

fn listen(env: &TestEnv, extra: &[&str]) -> (Running, String) {
    let port = free_port();
    let mut cmd = env.std_cmd();
    cmd.env_remove("WIX_WEBHOOK_PUBLIC_KEY")
        .args([
            "webhook",
            "listen",
            "--dev-key",
            "--port",
            &port.to_string(),
        ])
        .args(extra);
    let mut run = Running::spawn(cmd, None);
    run.wait_line("the listening line", |l| l.starts_with("Listening on"));
    (run, format!("http://127.0.0.1:{port}/webhook"))
}

#[test]
fn trigger_into_listen_verifies_end_to_end_and_replay_resends_in_order() {
    let (env, pem) = lab();
    let saved = env.config_dir().join("deliveries");
    let (mut run, url) = listen(&env, &["--save-deliveries", saved.to_str().unwrap()]);
    let mut sent = Vec::new();
    for name in ["AppInstalled", "PaidPlanPurchased", "AppRemoved"] {
        let out = wixauth(&env, &["trigger", name, "--to", &url, "--json"]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        sent.push(json_out(&out));
    }
    run.signal("INT");
    let listened = run.wait();
    let events: Vec<Value> = stdout(&listened)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        events, sent,
        "listen --dev-key verified and decoded each as trigger built it"
    );
    assert_eq!(mode(&saved) & 0o777, 0o700);
    let mut files: Vec<_> = std::fs::read_dir(&saved)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 3);
    assert_eq!(mode(&files[0]) & 0o777, 0o600);
    let first: Value = serde_json::from_str(&read(&files[0])).unwrap();
    assert!(humantime::parse_rfc3339(first["received_at"].as_str().unwrap()).is_ok());
    let original = claims(first["body"].as_str().unwrap());
    let body = env.config_dir().join("delivery.jwt");
    std::fs::write(&body, first["body"].as_str().unwrap()).unwrap();
    let verified_by_dev_key = wixauth(&env, &["verify", "--dev-key", body.to_str().unwrap()]);
    assert!(
        verified_by_dev_key.status.success(),
        "{}",
        stderr(&verified_by_dev_key)
    );
    assert_eq!(json_out(&verified_by_dev_key), sent[0]);
    // Replayed: in order, re-signed, iat/exp fresh, every other claim kept.
    std::thread::sleep(Duration::from_millis(1100));
    let handler = FakeHandler::ok();
    let out = wixauth(
        &env,
        &[
            "trigger",
            "--replay",
            saved.to_str().unwrap(),
            "--to",
            &handler.url,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let replayed: Vec<Value> = handler
        .seen()
        .iter()
        .map(|r| verified(&r.text(), &pem))
        .collect();
    let types: Vec<Value> = replayed
        .iter()
        .map(|c| envelope(c)["eventType"].clone())
        .collect();
    assert_eq!(types, ["AppInstalled", "PaidPlanPurchased", "AppRemoved"]);
    assert_eq!(replayed[0]["data"], original["data"]);
    assert!(
        replayed[0]["iat"].as_u64() > original["iat"].as_u64(),
        "fresh iat"
    );
    let one = wixauth(
        &env,
        &[
            "trigger",
            "--replay",
            files[1].to_str().unwrap(),
            "--to",
            &handler.url,
        ],
    );
    assert!(one.status.success(), "{}", stderr(&one));
    assert_eq!(handler.seen().len(), 4);
}

// ---------------------------------------------------------------- test (the battery)

const ALL_CHECKS: [&str; 12] = [
    "valid",
    "all-events",
    "wrong-key",
    "alg-none",
    "hs256-public-key",
    "tampered",
    "parsed-body",
    "expired",
    "duplicate",
    "out-of-order",
    "burst",
    "oversized",
];

fn card(out: &std::process::Output) -> Value {
    let report: Value = serde_json::from_slice(&out.stdout).expect("the report as JSON");
    for check in report["checks"].as_array().unwrap() {
        let mut keys: Vec<&String> = check.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["advisory", "detail", "fix", "ms", "name", "ok", "status"]
        );
    }
    report
}

pub(crate) fn verdicts(report: &Value) -> Vec<(String, bool)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["ok"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_battery_passes_wixauth_s_own_receiver_within_3_seconds() {
    let (env, _) = lab();
    let (_run, url) = listen(&env, &[]);
    let started = Instant::now();
    let out = wixauth(&env, &["test", &url, "--json"]);
    let took = started.elapsed();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let report = card(&out);
    assert_eq!(report["ok"], true);
    let names: Vec<String> = verdicts(&report).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ALL_CHECKS);
    let expired = &report["checks"][7];
    assert_eq!(
        (expired["advisory"].as_bool(), expired["status"].as_u64()),
        (Some(true), Some(401))
    );
    assert!(took < Duration::from_secs(3), "the battery took {took:?}");
    let human = wixauth(
        &env,
        &["test", &url, "--skip", "burst", "--skip", "oversized"],
    );
    assert!(human.status.success(), "{}", stderr(&human));
    let text = stdout(&human);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .starts_with("PASS valid: AppInstalled signed with the dev key → HTTP 200 in "),
        "{text}"
    );
    assert!(text.contains("\nWARN expired: "), "{text}");
    assert!(!text.contains("burst") && !text.contains("FAIL"), "{text}");
}

#[test]
fn the_battery_fails_a_handler_that_accepts_everything() {
    let (env, _) = lab();
    let yes = FakeHandler::ok();
    let out = wixauth(&env, &["test", &yes.url, "--json", "--skip", "burst"]);
    assert_fails_quietly(&out);
    let report = card(&out);
    assert_eq!(report["ok"], false);
    for (name, ok) in verdicts(&report) {
        let forgery = [
            "wrong-key",
            "alg-none",
            "hs256-public-key",
            "tampered",
            "parsed-body",
        ];
        assert_eq!(ok, !forgery.contains(&name.as_str()), "{name}");
    }
    let wrong_key = &report["checks"][2];
    assert_eq!(wrong_key["status"], 200);
    assert!(
        wrong_key["fix"].as_str().unwrap().contains("signature"),
        "{wrong_key}"
    );
    let human = wixauth(&env, &["test", &yes.url, "--only", "tampered"]);
    let text = stdout(&human);
    assert!(
        text.starts_with("FAIL tampered: ") && text.contains("\n  fix: "),
        "{text}"
    );
    assert_eq!(human.status.code(), Some(1));
}

/// Exit 1 with the report on stdout and one error line on stderr.
fn assert_fails_quietly(out: &std::process::Output) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    assert_eq!(
        stderr(out)
            .lines()
            .filter(|l| l.starts_with("wixauth: error:"))
            .count(),
        1
    );
}

#[test]
fn oversized_fails_only_on_a_hang() {
    let (env, _) = lab();
    let hang = FakeHandler::start(|r: &Recorded| match r.body.len() > 1024 * 1024 {
        true => Reply::Hang,
        false => Reply::Status(401, "no".into()),
    });
    let started = Instant::now();
    let out = wixauth(&env, &["test", &hang.url, "--json", "--only", "oversized"]);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_fails_quietly(&out);
    assert_eq!(verdicts(&card(&out)), [("oversized".to_string(), false)]);
    let close = FakeHandler::start(|_| Reply::Close);
    let out = wixauth(&env, &["test", &close.url, "--json", "--only", "oversized"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(card(&out)["checks"][0]["status"], Value::Null);
}
