//! Fleet mode (issue 21): `--each-instance` and `--instances-from` on `token`, `api` and
//! `bi-event`, against the emulator with many installs, its per-instance limit and bursts of
//! 429. `wixauth instances` is in `fleet_instances.rs`; `exec` across a fleet, Ctrl-C and the
//! progress line in `fleet_exec.rs`.

use crate::support::*;

use serde_json::Value;
use std::time::{Duration, Instant};

/// The contract's keys of a `token --json` / `api` fleet line, in its order.
const LINE_KEYS: [&str; 6] = [
    "instance_id",
    "site_name",
    "ok",
    "exit",
    "status",
    "request_id",
];

/// A login for INSTANCE, and `n` more installs imported with `instances add`; returns every id
/// of the profile, sorted.
pub fn fleet_env(n: usize) -> (TestEnv, Vec<String>) {
    let env = TestEnv::new();
    env.login_basic();
    let more = env.emu.install_many(APP_ID, "site", n);
    if !more.is_empty() {
        let out = env.run(env.cmd().args(["instances", "add"]).args(&more));
        assert!(out.status.success(), "{}", stderr(&out));
    }
    (env, sorted(more.into_iter().chain([INSTANCE.to_string()])))
}

/// [`fleet_env`] with every instance's token cached.
pub fn warm_fleet(n: usize) -> (TestEnv, Vec<String>) {
    let (env, ids) = fleet_env(n);
    let out = env.run(env.cmd().args(["token", "--each-instance"]));
    assert!(out.status.success(), "{}", stderr(&out));
    (env, ids)
}

/// [`fleet_env`] with no token cached (the login's removed too).
pub fn cold_fleet(n: usize) -> (TestEnv, Vec<String>) {
    let (env, ids) = fleet_env(n);
    for f in env.cache_files() {
        std::fs::remove_file(f).unwrap();
    }
    (env, ids)
}

/// The strings, sorted.
pub fn sorted(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut all: Vec<String> = items.into_iter().collect();
    all.sort();
    all
}

/// Each line of stdout as JSON.
pub fn json_lines(out: &std::process::Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

pub fn keys(line: &Value) -> Vec<String> {
    line.as_object().unwrap().keys().cloned().collect()
}

/// The keys appear in `text` (one JSON line) in this order.
fn assert_in_order(text: &str, keys: &[&str]) {
    let at: Vec<usize> = keys
        .iter()
        .map(|k| {
            text.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("no {k}: {text}"))
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "keys out of order: {text}"
    );
}

#[test]
fn token_json_lines_have_the_contract_keys_and_a_cache_hit_has_no_status() {
    let (env, ids) = fleet_env(2);
    let out = env.run(env.cmd().args(["token", "--each-instance", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    for (line, text) in lines.iter().zip(stdout(&out).lines()) {
        let mut want: Vec<&str> = LINE_KEYS.to_vec();
        want.push("access_token");
        assert_in_order(text, &want);
        want.sort_unstable();
        assert_eq!(keys(line), want, "exactly the contract's keys: {line}");
        let id = line["instance_id"].as_str().unwrap();
        let issued = env.emu.token_info(line["access_token"].as_str().unwrap());
        assert_eq!(issued.map(|t| t.instance_id), Some(id.to_string()));
        assert_eq!(
            (&line["ok"], &line["exit"]),
            (&Value::Bool(true), &Value::from(0))
        );
        match id == INSTANCE {
            // The login cached its token.
            true => assert!(
                line["status"].is_null() && line["request_id"].is_null(),
                "{line}"
            ),
            false => assert_eq!(
                (&line["status"], &line["request_id"]),
                (&Value::from(200), &Value::from("emulator"))
            ),
        }
    }
    let requests = env.token_requests();
    let again = env.run(env.cmd().args(["token", "--each-instance", "--json"]));
    assert_eq!(env.token_requests(), requests, "all from the cache");
    assert!(json_lines(&again).iter().all(|l| l["status"].is_null()));
    // Without --json: `<instance_id> <token>` lines.
    let plain = env.run(env.cmd().args(["token", "--each-instance"]));
    let got = sorted(
        stdout(&plain)
            .lines()
            .map(|l| l.split_once(' ').unwrap().0.to_string()),
    );
    assert_eq!(got, ids);
}

#[test]
fn one_bad_instance_never_stops_or_corrupts_the_others() {
    let (env, ids) = cold_fleet(4);
    env.emu.uninstall(APP_ID, &ids[2]);
    // The first token request (concurrency 1: the first id) meets a Wix that fails every try.
    for _ in 0..3 {
        env.emu.push_fault("/oauth2/token", Fault::Status(500));
    }
    let retry = env.dir.path().join("retry.txt");
    let out = env.run(
        env.cmd()
            .args([
                "token",
                "--each-instance",
                "--json",
                "--concurrency",
                "1",
                "--retry-file",
            ])
            .arg(&retry),
    );
    let line = assert_fails_with_stdout(&out, 4);
    assert!(line.contains("2 failed (highest exit 4)"), "{line}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 5, "every instance has its line");
    let exit_of = |id: &str| lines.iter().find(|l| l["instance_id"] == id).unwrap()["exit"].clone();
    assert_eq!(exit_of(&ids[0]), 4);
    assert_eq!(exit_of(&ids[2]), 3, "uninstalled: Wix rejected it");
    let gone = lines
        .iter()
        .find(|l| l["instance_id"] == ids[2].as_str())
        .unwrap();
    assert!(
        gone["error"]
            .as_str()
            .unwrap()
            .contains("instances refresh"),
        "{gone}"
    );
    assert_eq!(read(&retry), format!("{}\n{}\n", ids[0], ids[2]));
    let summary = stderr(&out);
    assert!(
        summary.contains("exit 3: creating an access token"),
        "{summary}"
    );

    // The others' tokens are intact; retrying exactly the failed ones asks Wix only for them.
    env.emu.install(APP_ID, &ids[2]);
    let before = env.token_requests();
    let out = env.run(
        env.cmd()
            .arg("token")
            .arg("--instances-from")
            .arg(&retry)
            .arg("--json"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_lines(&out).len(), 2);
    assert_eq!(env.token_requests(), before + 2);
    let all = env.run(env.cmd().args(["token", "--each-instance"]));
    assert!(all.status.success());
    assert_eq!(
        env.token_requests(),
        before + 2,
        "the rest were never touched"
    );
}

/// Like [`assert_fails`], for a fleet run whose successes wrote stdout.
fn assert_fails_with_stdout(out: &std::process::Output, code: i32) -> String {
    assert_eq!(out.status.code(), Some(code), "stderr: {}", stderr(out));
    let err = stderr(out);
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("wixauth: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line: {err}");
    errors[0].to_string()
}

#[test]
fn a_list_is_checked_whole_before_anything_runs() {
    let (env, _) = fleet_env(1);
    let file = env.dir.path().join("ids.txt");
    std::fs::write(&file, "site-00000001\nnot an id\n").unwrap();
    let seen = env.emu.seen().len();
    let line = assert_fails(
        &env.run(env.cmd().arg("token").arg("--instances-from").arg(&file)),
        2,
    );
    assert!(line.contains("line 2"), "{line}");
    // An id the profile does not have (and no WIX_APP_SECRET): say how to add it.
    std::fs::write(&file, "site-00000001\nsite-77777777\n").unwrap();
    let line = assert_fails(
        &env.run(env.cmd().arg("token").arg("--instances-from").arg(&file)),
        2,
    );
    assert!(
        line.contains("site-77777777") && line.contains("instances add"),
        "{line}"
    );
    assert_eq!(env.emu.seen().len(), seen, "nothing was asked of Wix");
    // --skip-invalid leaves the bad line out and says so.
    std::fs::write(&file, "site-00000001\nnot an id\n").unwrap();
    let out = env.run(
        env.cmd()
            .args(["token", "--skip-invalid", "--instances-from"])
            .arg(&file),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("line 2 left out"));
    assert_eq!(stdout(&out).lines().count(), 1);
    // CI: with WIX_APP_SECRET any instance of the app can be named.
    env.emu.install(APP_ID, "site-77777777");
    std::fs::write(&file, "site-77777777\n").unwrap();
    let mut cmd = env.cmd();
    cmd.env("WIX_APP_ID", APP_ID)
        .env("WIX_APP_SECRET", &env.secret)
        .arg("token")
        .arg("--instances-from")
        .arg(&file);
    assert!(env.run(&mut cmd).status.success());
}

#[test]
fn an_empty_list_is_exit_2_with_how_to_add_some() {
    let env = TestEnv::new();
    let mut cmd = env.cmd();
    env.ci(&mut cmd).args(["token", "--each-instance"]);
    let line = assert_fails(&env.run(&mut cmd), 2);
    assert!(
        line.contains("no instances to run for") && line.contains("instances add"),
        "{line}"
    );
    let empty = env.dir.path().join("empty.txt");
    std::fs::write(&empty, "# nothing yet\n").unwrap();
    let mut cmd = env.cmd();
    env.ci(&mut cmd)
        .arg("api")
        .arg("/x")
        .arg("--instances-from")
        .arg(&empty);
    let line = assert_fails(&env.run(&mut cmd), 2);
    assert!(line.contains("holds no instance ids"), "{line}");
}

#[test]
fn fleet_flags_that_do_not_fit_are_usage_errors() {
    let (env, _) = fleet_env(1);
    for args in [
        &["token", "--concurrency", "8"][..],
        &["token", "--rate", "5"],
        &["token", "--each-instance", "--header"],
        &["token", "--each-instance", "--instance", INSTANCE],
        &["api", "--each-instance", "-i", "/apps/v1/instance"],
        &["api", "--each-instance", "--explain", "/apps/v1/instance"],
        &["api", "--instances-from", "-", "-d", "@-", "/echo"],
        &["exec", "--raw", "--", "true"],
        &["token", "--each-instance", "--rate", "0"],
        &["token", "--each-instance", "--concurrency", "0"],
    ] {
        let out = env.run(env.cmd().args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(env.token_requests(), 1, "only the login's");
}

#[test]
fn two_fleets_at_once_make_one_token_request_per_instance() {
    let (env, ids) = cold_fleet(19);
    env.emu.set_answer_delay(Duration::from_millis(100));
    let before = env.token_requests();
    let start = || {
        env.std_cmd()
            .args(["token", "--each-instance", "--json", "--concurrency", "8"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    env.assert_no_leak(&a);
    env.assert_no_leak(&b);
    assert!(
        a.status.success() && b.status.success(),
        "{}{}",
        stderr(&a),
        stderr(&b)
    );
    assert_eq!(env.token_requests() - before, ids.len(), "one per instance");
    let tokens = |out: &std::process::Output| {
        let mut t: Vec<(String, String)> = json_lines(out)
            .iter()
            .map(|l| {
                (
                    l["instance_id"].as_str().unwrap().into(),
                    l["access_token"].as_str().unwrap().into(),
                )
            })
            .collect();
        t.sort();
        t
    };
    assert_eq!(tokens(&a), tokens(&b), "the same token for each instance");
}

#[test]
fn a_429_slows_the_whole_fleet_and_fails_no_instance() {
    let (env, ids) = warm_fleet(5);
    env.emu.burst_429(1, 2);
    let earlier = env.emu.arrivals("/apps/v1/instance").len();
    // Three workers, their requests 250 ms apart: the first is answered 429 before the next
    // one's turn, which must then wait for the pause like every other.
    let started = Instant::now();
    let out = env.run(env.cmd().args([
        "api",
        "--each-instance",
        "--concurrency",
        "3",
        "--rate",
        "4",
        "/apps/v1/instance",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(started.elapsed() >= Duration::from_secs(2));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), ids.len());
    assert!(lines
        .iter()
        .all(|l| l["ok"] == true && l["body"]["site"].is_object()));
    assert!(
        stderr(&out).contains("Wix asked 1 time to slow down"),
        "{}",
        stderr(&out)
    );
    // Nothing was sent before Retry-After passed, by any worker.
    let arrivals = env.emu.arrivals("/apps/v1/instance").split_off(earlier);
    assert_eq!(
        arrivals.len(),
        ids.len() + 1,
        "the throttled one again, nothing else"
    );
    for later in &arrivals[1..] {
        let after = later.duration_since(arrivals[0]);
        assert!(
            after >= Duration::from_millis(1900),
            "a request {after:?} into the pause"
        );
    }

    // A POST is tried again after a 429 too (Wix did not take it): still no failure.
    env.emu.burst_429(2, 1);
    let out =
        env.run(
            env.cmd()
                .args(["api", "--each-instance", "-X", "POST", "-d", "{}", "/echo"]),
        );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(json_lines(&out)
        .iter()
        .all(|l| l["body"]["method"] == "POST"));
}

#[test]
fn wix_s_per_instance_limit_is_waited_out_not_failed() {
    let (env, ids) = cold_fleet(2);
    // One request per instance a second: each token request uses it up, so each API call
    // meets a 429 and waits.
    env.emu.limit_per_instance(1, Duration::from_secs(1));
    let out = env.run(
        env.cmd()
            .args(["api", "--each-instance", "/apps/v1/instance"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_lines(&out).len(), ids.len());
    let (peak, limited) = env.emu.limit_seen();
    assert_eq!(peak, 1);
    assert!(limited >= 1, "the limit was met");
}

#[test]
fn rate_caps_requests_across_the_fleet() {
    let (env, ids) = warm_fleet(7);
    let earlier = env.emu.arrivals("/apps/v1/instance").len();
    let out = env.run(env.cmd().args([
        "api",
        "--each-instance",
        "--concurrency",
        "8",
        "--rate",
        "5",
        "/apps/v1/instance",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let arrivals = env.emu.arrivals("/apps/v1/instance").split_off(earlier);
    assert_eq!(arrivals.len(), ids.len());
    // 8 requests at 5 a second: one every 200 ms (less the jitter of a busy machine).
    for pair in arrivals.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(
            gap >= Duration::from_millis(100),
            "{gap:?} between two requests"
        );
    }
    let span = arrivals[arrivals.len() - 1].duration_since(arrivals[0]);
    assert!(span >= Duration::from_millis(1300), "{span:?}");
}

#[test]
fn bi_event_goes_to_every_instance() {
    let (env, ids) = fleet_env(3);
    let out = env.run(
        env.cmd()
            .args(["bi-event", "finished", "--each-instance", "--json"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&out);
    assert!(lines
        .iter()
        .all(|l| l["event"] == "APP_FINISHED_CONFIGURATION"));
    let events = env.emu.bi_events();
    let sent = sorted(
        events
            .iter()
            .map(|e| e["instanceId"].as_str().unwrap().to_string()),
    );
    assert_eq!(sent, ids);
}

#[test]
fn fail_fast_starts_nothing_after_a_failure_and_the_retry_file_has_the_rest() {
    let (env, ids) = fleet_env(4);
    env.emu.deny_instance_read(true);
    let retry = env.dir.path().join("retry.txt");
    let out = env.run(
        env.cmd()
            .args([
                "api",
                "--each-instance",
                "--fail-fast",
                "--concurrency",
                "1",
                "--retry-file",
            ])
            .arg(&retry)
            .arg("/apps/v1/instance"),
    );
    let line = assert_fails_with_stdout(&out, 1);
    assert!(
        line.contains("1 failed") && line.contains("4 not run"),
        "{line}"
    );
    assert_eq!(json_lines(&out).len(), 1);
    let kept = sorted(read(&retry).lines().map(str::to_string));
    assert_eq!(kept, ids, "the failed one and the four never run");
    assert!(stderr(&out).contains("not run"), "{}", stderr(&out));
}
