//! Fleet mode (issue 21): `wixauth instances` and `--each-instance` on `token`, `api` and
//! `bi-event`, against the emulator with many installs, its per-instance limit and bursts of
//! 429. `exec` across a fleet, Ctrl-C and the progress line are in `fleet_exec.rs`.

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
    let mut all = more;
    all.push(INSTANCE.to_string());
    all.sort();
    (env, all)
}

/// Each line of stdout as JSON.
pub fn json_lines(out: &std::process::Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn keys(line: &Value) -> Vec<String> {
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

fn listed(env: &TestEnv) -> Vec<Value> {
    let out = env.run(env.cmd().args(["instances", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    json_out(&out).as_array().unwrap().clone()
}

#[test]
fn instances_lists_each_one_with_where_it_came_from() {
    let (env, ids) = fleet_env(2);
    let list = listed(&env);
    assert_eq!(list.len(), 3);
    for item in &list {
        let mut k = keys(item);
        k.sort();
        assert_eq!(
            k,
            [
                "instance_id",
                "last_seen",
                "removed",
                "site_name",
                "site_url",
                "source"
            ]
        );
    }
    let by_id = |id: &str| {
        list.iter()
            .find(|i| i["instance_id"] == id)
            .unwrap()
            .clone()
    };
    let login = by_id(INSTANCE);
    assert_eq!(login["source"], "login");
    assert_eq!(login["site_name"], "Emulated Site");
    assert!(login["last_seen"].as_str().unwrap().ends_with('Z'));
    let imported = by_id(&ids[1]);
    assert_eq!(imported["source"], "import");
    // Never seen with Wix yet: unknown values are null.
    for key in ["site_name", "site_url", "last_seen"] {
        assert!(imported[key].is_null(), "{key}: {imported}");
    }
    assert_eq!(imported["removed"], false);
    // For people: the default marked, the site named.
    let out = env.run(env.cmd().arg("instances"));
    let text = stdout(&out);
    assert!(text.contains(&format!("* {INSTANCE}")), "{text}");
    assert!(
        text.contains("Emulated Site") && text.contains("import"),
        "{text}"
    );
}

#[test]
fn an_import_file_with_a_bad_line_names_it_and_stores_nothing() {
    let (env, _) = fleet_env(0);
    let file = env.dir.path().join("ids.txt");
    std::fs::write(&file, "site-1\n# a comment\n\nsite_two\nsite-3\n").unwrap();
    let before = read(&env.config_file());
    let out = env.run(env.cmd().args(["instances", "add", "--from"]).arg(&file));
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("line 4") && line.contains("site_two"),
        "{line}"
    );
    assert_eq!(read(&env.config_file()), before, "nothing stored");

    let out = env.run(
        env.cmd()
            .args(["instances", "add", "--skip-invalid", "--from"])
            .arg(&file),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("line 4 left out"), "{}", stderr(&out));
    let ids: Vec<Value> = listed(&env)
        .iter()
        .map(|i| i["instance_id"].clone())
        .collect();
    assert_eq!(ids, [INSTANCE, "site-1", "site-3"]);

    // A JSON array on stdin; repeats and known ids change nothing.
    let out = env.run(
        env.cmd()
            .args(["instances", "add", "--from", "-"])
            .write_stdin("[\"site-3\", \"site-4\",\n \"site-4\"]"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Added 1 instance"),
        "{}",
        stderr(&out)
    );
    let out = env.run(env.cmd().args(["instances", "add", "../etc/passwd"]));
    assert_fails(&out, 2);
}

#[test]
fn refresh_learns_sites_and_marks_the_ones_the_app_left_then_prune_forgets_them() {
    let (env, ids) = fleet_env(3);
    env.emu.set_site_name("Shop \x1b[2J");
    // A cached token for the site that will leave: prune must remove it too.
    assert!(env
        .run(env.cmd().args(["token", "--instance", &ids[1]]))
        .status
        .success());
    env.emu.uninstall(APP_ID, &ids[1]);
    let out = env.run(env.cmd().args(["instances", "refresh"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let cached = env.cache_files().len();
    let err = stderr(&out);
    assert!(
        err.contains("1 marked removed") && err.contains("instances prune"),
        "{err}"
    );
    assert!(!err.contains('\x1b'), "site names escaped: {err:?}");
    let list = listed(&env);
    assert_eq!(list.len(), 4, "marked, never deleted");
    for item in &list {
        let gone = item["instance_id"] == ids[1].as_str();
        assert_eq!(item["removed"], gone, "{item}");
        if !gone {
            assert_eq!(item["site_name"], "Shop \x1b[2J");
            assert!(!item["last_seen"].is_null());
        }
    }
    // A marked instance is left out of a fleet run.
    let out = env.run(env.cmd().args(["token", "--each-instance"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 3);
    assert!(!stdout(&out).contains(&ids[1]));

    let out = env.run(env.cmd().args(["instances", "prune", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_out(&out)[0]["instance_id"], ids[1].as_str());
    assert_eq!(listed(&env).len(), 3);
    assert_eq!(
        env.cache_files().len(),
        cached - 1,
        "its cached token went too"
    );
    // Reinstalled (the id stays the same), a refresh would find it again; nothing left to prune.
    let out = env.run(env.cmd().args(["instances", "prune"]));
    assert!(
        stderr(&out).contains("No instance is marked removed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn remove_forgets_instances_with_their_tokens() {
    let (env, ids) = fleet_env(2);
    assert!(env
        .run(env.cmd().args(["token", "--each-instance"]))
        .status
        .success());
    assert_eq!(env.cache_files().len(), 3);
    let out = env.run(
        env.cmd()
            .args(["instances", "remove", &ids[1], INSTANCE, "site-99999999"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("not stored: site-99999999"), "{err}");
    assert!(err.contains("was the default instance"), "{err}");
    assert_eq!(listed(&env).len(), 1);
    assert_eq!(env.cache_files().len(), 1);
}

#[test]
fn headless_profiles_have_no_fleet() {
    let env = TestEnv::new();
    std::fs::write(
        env.config_file(),
        "[profiles.default]\nclient_id = \"client-1\"\nflow = \"visitor\"\n",
    )
    .unwrap();
    for args in [
        &["instances"][..],
        &["instances", "add", "inst-1"],
        &["instances", "refresh"],
        &["token", "--each-instance"],
        &["api", "--each-instance", "/apps/v1/instance"],
        &["exec", "--each-instance", "--", "true"],
    ] {
        let line = assert_fails(&env.run(env.cmd().args(args)), 2);
        assert!(line.contains("for app profiles"), "{args:?}: {line}");
    }
    assert_eq!(env.emu.seen().len(), 0);
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
    let mut got: Vec<String> = stdout(&plain)
        .lines()
        .map(|l| l.split_once(' ').unwrap().0.to_string())
        .collect();
    got.sort();
    assert_eq!(got, ids);
}

#[test]
fn one_bad_instance_never_stops_or_corrupts_the_others() {
    let (env, ids) = fleet_env(4);
    for f in env.cache_files() {
        std::fs::remove_file(f).unwrap();
    }
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
    let (env, ids) = fleet_env(19);
    for f in env.cache_files() {
        std::fs::remove_file(f).unwrap();
    }
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
    let (env, ids) = fleet_env(5);
    assert!(env
        .run(env.cmd().args(["token", "--each-instance"]))
        .status
        .success());
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
    let (env, ids) = fleet_env(2);
    for f in env.cache_files() {
        std::fs::remove_file(f).unwrap();
    }
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
    let (env, ids) = fleet_env(7);
    assert!(env
        .run(env.cmd().args(["token", "--each-instance"]))
        .status
        .success());
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
    let mut sent: Vec<String> = env
        .emu
        .bi_events()
        .iter()
        .map(|e| e["instanceId"].as_str().unwrap().to_string())
        .collect();
    sent.sort();
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
    let mut kept: Vec<String> = read(&retry).lines().map(str::to_string).collect();
    kept.sort();
    assert_eq!(kept, ids, "the failed one and the four never run");
    assert!(stderr(&out).contains("not run"), "{}", stderr(&out));
}
