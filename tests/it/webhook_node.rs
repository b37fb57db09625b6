//! The webhook lab against Wix's own JS SDK: examples/webhooks/handler.mjs (`createClient` +
//! `AppStrategy({appId, publicKey})` + `webhooks.process(rawBody)`, Node's `http`), given the
//! dev key as WIX_PUBLIC_KEY. Every built-in event must reach the SDK's typed handler with the
//! fields the SDK expects, and the report card must be all PASS; deliberately broken handlers
//! must FAIL the matching checks. `#[ignore]`d: Node.js and the example's `npm ci` are needed
//! (scripts/test.sh).
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::loopback::Running;
use crate::support::{stderr, stdout, TestEnv};

fn example() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/webhooks");
    assert!(
        dir.join("node_modules/@wix/sdk").exists(),
        "{} has no node_modules: run `npm ci` there (scripts/test.sh does)",
        dir.display()
    );
    dir
}

/// A test env with a dev key; returns it and the key as base64 of the PEM.
fn lab() -> (TestEnv, String) {
    let env = TestEnv::new();
    let out = env.run(env.cmd().args(["webhook", "dev-key", "--format", "base64"]));
    assert!(out.status.success(), "{}", stderr(&out));
    (env, stdout(&out).trim().to_string())
}

/// A Node handler (`script` in `dir`) on a free port; returns it and its URL.
fn node(dir: &Path, script: &str, key: &str, vars: &[(&str, &str)]) -> (Running, String) {
    let mut cmd = Command::new("node");
    cmd.arg(script)
        .current_dir(dir)
        .env("WIX_PUBLIC_KEY", key)
        .env("WIX_APP_ID", crate::support::APP_ID)
        .env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .envs(vars.iter().copied());
    let mut run = Running::spawn(cmd, None);
    let line = run.wait_line("the handler's listening line", |l| {
        l.starts_with("listening on ")
    });
    let url = line.trim_start_matches("listening on ").to_string();
    (run, url)
}

fn wixauth(env: &TestEnv, args: &[&str]) -> Output {
    env.run(env.cmd().arg("webhook").args(args))
}

fn verdicts(out: &Output) -> Vec<(String, bool)> {
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)));
    crate::webhook_battery::verdicts(&report)
}

/// (event, the SDK's typed handler, the fields it turns into Dates)
const EVENTS: [(&str, &str, &[&str]); 8] = [
    ("AppInstalled", "onAppInstanceInstalled", &[]),
    ("AppRemoved", "onAppInstanceRemoved", &[]),
    (
        "PaidPlanPurchased",
        "onAppInstancePaidPlanPurchased",
        &["expiresOn", "operationTimeStamp"],
    ),
    (
        "PaidPlanChanged",
        "onAppInstancePaidPlanChanged",
        &["operationTimeStamp"],
    ),
    (
        "PaidPlanAutoRenewalCancelled",
        "onAppInstancePaidPlanAutoRenewalCancelled",
        &["operationTimeStamp"],
    ),
    (
        "PlanConvertedToPaid",
        "onAppInstancePlanConvertedToPaid",
        &["expiresOn", "operationTimeStamp"],
    ),
    (
        "PlanReactivated",
        "onAppInstancePlanReactivated",
        &["expiresOn", "operationTimeStamp"],
    ),
    (
        "PlanTransferred",
        "onAppInstancePlanTransferred",
        &["operationTimeStamp"],
    ),
];

#[test]
#[ignore = "needs Node.js and examples/webhooks' npm ci (scripts/test.sh)"]
fn every_event_reaches_wix_s_sdk_typed_handler_and_the_card_is_all_pass() {
    let dir = example();
    let (env, key) = lab();
    let (mut handler, url) = node(&dir, "handler.mjs", &key, &[]);
    let mut sent = Vec::new();
    for (event, _, _) in EVENTS {
        let out = wixauth(&env, &["trigger", event, "--to", &url, "--json"]);
        assert!(out.status.success(), "{event}: {}", stderr(&out));
        assert!(stderr(&out).starts_with("HTTP 200 in "), "{}", stderr(&out));
        sent.push(serde_json::from_slice::<Value>(&out.stdout).unwrap());
    }
    let out = wixauth(&env, &["test", &url, "--json"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    for (name, ok) in verdicts(&out) {
        assert!(ok, "{name} failed against Wix's SDK: {}", stdout(&out));
    }
    handler.signal("TERM");
    let logged = handler.wait();
    let lines: Vec<Value> = stdout(&logged)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for ((event, typed, dates), sent) in EVENTS.iter().zip(&sent) {
        let got = lines
            .iter()
            .find(|l| l["metadata"]["instanceId"] == sent["instance_id"] && l["handler"] == *typed)
            .unwrap_or_else(|| panic!("{event} never reached {typed}: {}", stdout(&logged)));
        assert_eq!(
            got["data"], sent["data"],
            "{event}: the payload as the SDK gives it"
        );
        assert_eq!(got["metadata"]["identity"], sent["identity"], "{event}");
        let mut want: Vec<&str> = dates.to_vec();
        want.sort();
        let mut is: Vec<&str> = got["dates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        is.sort();
        assert_eq!(is, want, "{event}: the SDK's Date fields");
    }
}

/// Broken handlers the developer might write. `FLAW`: `accept-all` (a verifier stub),
/// `parse-json` (falls back to plain JSON when the JWT does not verify), `slow` (2 s).
const FLAWED: &str = r#"
import http from 'node:http';
import { AppStrategy, createClient } from '@wix/sdk';
const client = createClient({ auth: AppStrategy({ appId: 'x', publicKey: process.env.WIX_PUBLIC_KEY }) });
const flaw = process.env.FLAW;
const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks).toString('utf8');
  let ok = flaw === 'accept-all';
  if (!ok) {
    try { await client.webhooks.process(body); ok = true; } catch {
      if (flaw === 'parse-json') { try { JSON.parse(body); ok = true; } catch {} }
    }
  }
  if (flaw === 'slow') await new Promise((r) => setTimeout(r, 2000));
  res.writeHead(ok ? 200 : 401, { connection: 'close' }).end(ok ? 'ok\n' : 'no\n');
});
server.listen(0, '127.0.0.1', () => console.error(`listening on http://127.0.0.1:${server.address().port}/webhooks`));
"#;

#[test]
#[ignore = "needs Node.js and examples/webhooks' npm ci (scripts/test.sh)"]
fn broken_handlers_fail_the_matching_checks() {
    let dir = example();
    // Inside the example, so that `@wix/sdk` resolves from its node_modules.
    let scratch = tempfile::Builder::new()
        .prefix(".scratch-")
        .tempdir_in(&dir)
        .unwrap();
    std::fs::write(scratch.path().join("flawed.mjs"), FLAWED).unwrap();
    let (env, key) = lab();
    let cases: [(&str, &[&str], &[&str]); 3] = [
        (
            "accept-all",
            &["--skip", "burst"],
            &[
                "wrong-key",
                "alg-none",
                "hs256-public-key",
                "tampered",
                "parsed-body",
            ],
        ),
        ("parse-json", &["--skip", "burst"], &["parsed-body"]),
        (
            "slow",
            &[
                "--only",
                "valid",
                "--only",
                "all-events",
                "--only",
                "wrong-key",
                "--only",
                "burst",
                "--burst",
                "4",
            ],
            &["valid", "all-events", "burst"],
        ),
    ];
    for (flaw, args, failing) in cases {
        let (_handler, url) = node(scratch.path(), "flawed.mjs", &key, &[("FLAW", flaw)]);
        let mut test = vec!["test", url.as_str(), "--json"];
        test.extend_from_slice(args);
        let out = wixauth(&env, &test);
        assert_eq!(out.status.code(), Some(1), "{flaw}: {}", stdout(&out));
        for (name, ok) in verdicts(&out) {
            assert_eq!(
                ok,
                !failing.contains(&name.as_str()),
                "{flaw}: {name}: {}",
                stdout(&out)
            );
        }
    }
}
