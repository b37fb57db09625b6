//! Tests for one-line bugs a mutation check planted and the rest of the suite let through:
//! each test here fails when its bug is put back (docs/notes/hardening.md lists which kills which).
//! Also the exact key sets of every `--json` shape in README.md's table, and the races that
//! are pinned with [`Fault::Hold`] and kernel state instead of sleeps.

use crate::support::emulator::Hold;
use crate::support::loopback::*;
use crate::support::*;

use serde_json::Value;
use std::time::Instant;

const APP_2: &str = "app-99999999";

/// A refresh token for `instance`, obtained the way login does it, without wixauth.
fn refresh_token_for(env: &TestEnv, instance: &str) -> String {
    let code = env.emu.issue_code(APP_ID, instance);
    let answer = post_json(
        &format!("{}/oauth/access", env.emu.base()),
        &serde_json::json!({
            "grant_type": "authorization_code",
            "client_id": APP_ID,
            "client_secret": env.secret,
            "code": code,
        }),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let json: Value = serde_json::from_slice(&answer.body).unwrap();
    json["refresh_token"].as_str().unwrap().to_string()
}

/// The basic CI environment: app id, secret and instance from variables only.
fn ci_basic(env: &TestEnv) -> assert_cmd::Command {
    let mut cmd = env.cmd();
    cmd.env("WIX_APP_ID", APP_ID)
        .env("WIX_APP_SECRET", &env.secret)
        .env("WIX_INSTANCE_ID", INSTANCE);
    cmd
}

fn status_json(env: &TestEnv) -> Value {
    let out = env.run(env.cmd().args(["status", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    json_out(&out)
}

/// `instances` of the only profile in `status --json`, by instance id.
fn status_instances(env: &TestEnv) -> std::collections::BTreeMap<String, Value> {
    let v = status_json(env);
    let profiles = v["profiles"].as_array().expect("profiles");
    assert_eq!(profiles.len(), 1, "{v}");
    profiles[0]["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| (i["instance_id"].as_str().unwrap().to_string(), i.clone()))
        .collect()
}

// ------------------------------------------------------------------ 1. -v never prints a secret

#[test]
fn verbose_ci_commands_never_print_the_secrets_from_the_environment() {
    let env = TestEnv::new();
    // Basic CI: every command that needs the app secret, with -v.
    for args in [
        &["-v", "token", "--no-cache"][..],
        &["-v", "whoami"][..],
        &["-v", "bi-event", "finished"][..],
        &["-v", "status", "--check"][..],
        &["-v", "exec", "--", "true"][..],
    ] {
        // A cached token would skip the secret: each command must fetch a new one.
        for file in env.cache_files() {
            std::fs::remove_file(file).unwrap();
        }
        let out = env.run(ci_basic(&env).args(args));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("app secret from WIX_APP_SECRET"),
            "{args:?} must take the CI path and log it: {}",
            stderr(&out)
        );
    }
    // Advanced CI: the refresh token from WIX_REFRESH_TOKEN (env.run checks it never shows).
    let refresh = refresh_token_for(&env, "inst-ci-verbose");
    let out = env.run(
        env.cmd()
            .args(["-v", "token", "--no-cache"])
            .env("WIX_APP_ID", APP_ID)
            .env("WIX_APP_SECRET", &env.secret)
            .env("WIX_REFRESH_TOKEN", &refresh),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("app secret from WIX_APP_SECRET"), "{err}");
    assert!(
        err.contains("refresh token from WIX_REFRESH_TOKEN"),
        "{err}"
    );
}

#[test]
fn verbose_advanced_browser_login_never_prints_a_secret_or_token() {
    for via in [SecretVia::Env, SecretVia::Stdin] {
        let env = TestEnv::new();
        env.emu.set_next_instance("inst-verbose-login");
        let (mut login, url) = env.start_login("advanced", via, &["-v", "--no-browser"]);
        let browsed = env.browse(&url);
        let out = login.wait();
        // The app secret and every refresh token the emulator issued.
        env.assert_no_leak(&out);
        assert!(out.status.success(), "{via:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("wixauth: debug:"), "{via:?}: -v is on: {err}");
        let access = query_param(&browsed.after[0].0, "access_token").expect("close-window URL");
        assert!(
            !err.contains(&access),
            "{via:?}: the access token leaked: {err}"
        );
        let refresh = env.stored_refresh_token("inst-verbose-login").unwrap();
        assert!(!err.contains(&refresh), "{via:?}: {err}");
    }
}

// ------------------------------------------------------------------ 2. redirects are not followed

#[test]
fn a_redirect_from_wix_is_never_followed() {
    let env = TestEnv::new();
    // A token request: a 3xx is not a grant, and its Location is never asked.
    env.emu.push_fault(
        "/oauth2/token",
        Fault::Redirect("/redirected/oauth2/token".into()),
    );
    let out = env.run(ci_basic(&env).arg("token"));
    let line = assert_fails(&out, 3);
    assert_eq!(env.token_requests(), 1, "{line}");
    assert_eq!(
        env.emu.count("/redirected/oauth2/token"),
        0,
        "the redirect was followed: {line}"
    );

    // An authenticated call: the token must not travel to the Location either.
    env.login_basic();
    env.emu.push_fault(
        "/apps/v1/instance",
        Fault::Redirect("/redirected/apps/v1/instance".into()),
    );
    let out = env.run(env.cmd().args(["api", "/apps/v1/instance"]));
    let line = assert_fails(&out, 1);
    assert!(line.contains("302"), "names the status: {line}");
    assert_eq!(
        env.emu.count("/redirected/apps/v1/instance"),
        0,
        "the redirect was followed: {line}"
    );
}

// ------------------------------------------------------------------ 3. the listener's headers

fn assert_common_headers(what: &str, r: &Response) {
    let h = |name| r.header(name).unwrap_or_default().to_string();
    assert_eq!(
        h("cross-origin-opener-policy"),
        "unsafe-none",
        "{what}: {:?}",
        r.headers
    );
    assert!(
        h("cache-control").starts_with("no-store"),
        "{what}: {:?}",
        r.headers
    );
    assert_eq!(
        h("referrer-policy"),
        "no-referrer",
        "{what}: {:?}",
        r.headers
    );
    assert_eq!(
        h("x-content-type-options"),
        "nosniff",
        "{what}: {:?}",
        r.headers
    );
}

#[test]
fn every_listener_answer_sends_the_common_headers() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_advanced(&["--no-close-window"]);
    let not_found = get(&login.url("/no-such-page"));
    assert_eq!(not_found.status, 404, "{}", not_found.text());
    assert_common_headers("a 404", &not_found);
    let favicon = get(&login.url("/favicon.ico"));
    assert_eq!(favicon.status, 404);
    assert_common_headers("the favicon", &favicon);
    let post = request("POST", &login.url("/callback"));
    assert_eq!(post.status, 405, "{}", post.text());
    assert_common_headers("a 405", &post);
    login.assert_running("a 404 and a 405");
    let success = env.browse(&url).answer;
    assert_eq!(success.status, 200, "{}", success.text());
    assert_common_headers("the success page", &success);
    let out = login.wait();
    assert!(out.status.success(), "{}", stderr(&out));

    // The redirect to Wix's close-window page carries them too.
    let (mut login, url) = env.start_advanced(&[]);
    let redirect = env.browse(&url).answer;
    assert_eq!(redirect.status, 302);
    assert_common_headers("the close-window redirect", &redirect);
    assert!(login.wait().status.success());
}

// ------------------------------------------------------------------ 4. --instance-id means basic

/// `login --instance-id ID` without `--flow`; should it ever pick the browser flow, it gives
/// up within a second instead of waiting for a browser.
fn login_instance_without_flow(env: &TestEnv, extra: &[&str]) -> std::process::Output {
    env.run(
        env.cmd()
            .args([
                "login",
                "--instance-id",
                INSTANCE,
                "--secret-stdin",
                "--json",
            ])
            .args(["--no-browser", "--timeout", "1"])
            .args(extra)
            .write_stdin(format!("{}\n", env.secret)),
    )
}

#[test]
fn instance_id_without_flow_means_basic() {
    let env = TestEnv::new();
    let out = login_instance_without_flow(&env, &["--app-id", APP_ID]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_out(&out)["flow"], "basic");
    assert_eq!(status_instances(&env)[INSTANCE]["flow"], "basic");

    // Even for a profile whose last login was advanced.
    let env = TestEnv::new();
    env.login_advanced_via_browser("inst-adv-first");
    assert_eq!(env.default_profile()["flow"].as_str(), Some("advanced"));
    let out = login_instance_without_flow(&env, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_out(&out)["flow"], "basic");
    let instances = status_instances(&env);
    assert_eq!(instances[INSTANCE]["flow"], "basic");
    assert_eq!(instances["inst-adv-first"]["flow"], "advanced");
}

// ------------------------------------------------------------------ 5. logout and refresh tokens

#[test]
fn logout_removes_an_advanced_instances_refresh_token() {
    let env = TestEnv::new();
    env.login_advanced_via_browser("inst-adv-1");
    env.login_advanced_via_browser("inst-adv-2");
    let one = env.stored_refresh_token("inst-adv-1").expect("stored");
    let two = env.stored_refresh_token("inst-adv-2").expect("stored");
    env.add_secret(&one);
    env.add_secret(&two);

    let out = env.run(env.cmd().args(["logout", "--instance", "inst-adv-1"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.stored_refresh_token("inst-adv-1"), None);
    assert!(!read(&env.secrets_file()).contains(&one));
    assert_eq!(
        env.stored_refresh_token("inst-adv-2").as_deref(),
        Some(two.as_str())
    );
    assert!(
        env.stored_secret(APP_SECRET_ENTRY).is_some(),
        "the app secret stays"
    );

    let out = env.run(env.cmd().args(["logout", "--all"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let left = std::fs::read_to_string(env.secrets_file()).unwrap_or_default();
    assert!(
        !left.contains(&two) && !left.contains(&env.secret),
        "{left}"
    );
}

// ------------------------------------------------------------------ 6. another app id

#[test]
fn login_to_another_app_drops_the_old_apps_instances() {
    let env = TestEnv::new();
    env.login_basic();
    let secret_2 = format!("other-{}", env.secret);
    env.add_secret(&secret_2);
    env.emu.register_app(APP_2, &secret_2, &[]);
    env.emu.install(APP_2, INSTANCE_2);
    let out = env.login_with(&["--app-id", APP_2, "--instance-id", INSTANCE_2], &secret_2);
    assert!(out.status.success(), "{}", stderr(&out));

    let instances = status_instances(&env);
    assert_eq!(
        instances.keys().collect::<Vec<_>>(),
        [INSTANCE_2],
        "{instances:?}"
    );
    let config_instances = env.default_profile()["instances"]
        .as_table()
        .expect("instances table")
        .keys()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(config_instances, [INSTANCE_2]);
    let out = env.run(env.cmd().args(["token", "--instance", INSTANCE]));
    assert_fails(&out, 2);
    assert_eq!(
        env.emu.token_info(&env.token_ok(&[])).unwrap().app_id,
        APP_2
    );
}

// ------------------------------------------------------------------ 7. exec: 126

#[test]
fn exec_of_something_that_cannot_be_run_is_126() {
    let env = TestEnv::new();
    env.login_basic();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("not-executable.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    for program in [script.as_path(), dir.path()] {
        let out = env.run(env.cmd().arg("exec").arg("--").arg(program));
        let line = assert_fails(&out, 126);
        assert!(line.contains(&*program.to_string_lossy()), "{line}");
    }
}

// ------------------------------------------------------------------ 8. status: refresh_token

#[test]
fn status_json_says_which_instances_hold_a_refresh_token() {
    let env = TestEnv::new();
    env.login_advanced_via_browser("inst-adv-status");
    env.login_basic();
    let instances = status_instances(&env);
    assert_eq!(
        instances["inst-adv-status"]["refresh_token"], true,
        "{instances:?}"
    );
    assert_eq!(instances[INSTANCE]["refresh_token"], false, "{instances:?}");

    // An advanced instance whose refresh token is gone says so.
    let refresh = env.stored_refresh_token("inst-adv-status").unwrap();
    env.add_secret(&refresh);
    let mut table: toml::Table = toml::from_str(&read(&env.secrets_file())).unwrap();
    assert!(table
        .remove("default/inst-adv-status/refresh-token")
        .is_some());
    std::fs::write(env.secrets_file(), toml::to_string(&table).unwrap()).unwrap();
    let instances = status_instances(&env);
    assert_eq!(
        instances["inst-adv-status"]["refresh_token"], false,
        "{instances:?}"
    );
}

// ------------------------------------------------------------------ 9. logout --json

#[test]
fn logout_json_always_says_local_only() {
    let env = TestEnv::new();
    env.login_two_instances();
    for (args, instance, all) in [
        (
            &["logout", "--json", "--instance", INSTANCE][..],
            Value::from(INSTANCE),
            false,
        ),
        (&["logout", "--json"][..], Value::from(INSTANCE_2), false),
        // No instance left to forget: still the same shape.
        (&["logout", "--json"][..], Value::Null, false),
        (&["logout", "--json", "--all"][..], Value::Null, true),
    ] {
        let out = env.run(env.cmd().args(args));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let v = json_out(&out);
        assert_keys(
            &v,
            "logout --json",
            &["profile", "instance_id", "all", "local_only"],
        );
        assert_eq!(v["local_only"], true, "{args:?}: {v}");
        assert_eq!(v["profile"], "default", "{v}");
        assert_eq!(v["instance_id"], instance, "{args:?}: {v}");
        assert_eq!(v["all"], all, "{args:?}: {v}");
    }
}

// ------------------------------------------------------------------ exact --json key sets

fn assert_keys(v: &Value, what: &str, want: &[&str]) {
    let mut got: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    got.sort_unstable();
    let mut want = want.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "{what}: {v}");
}

#[test]
fn every_json_shape_has_exactly_the_documented_keys() {
    let env = TestEnv::new();
    let run_json = |args: &[&str], extra_env: &[(&str, &str)]| {
        let mut cmd = env.cmd();
        cmd.args(args).write_stdin(format!("{}\n", env.secret));
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let out = env.run(&mut cmd);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        json_out(&out)
    };

    let login = run_json(
        &[
            "login",
            "--flow",
            "basic",
            "--app-id",
            APP_ID,
            "--instance-id",
            INSTANCE,
            "--secret-stdin",
            "--json",
        ],
        &[],
    );
    assert_keys(
        &login,
        "login --json",
        &[
            "profile",
            "app_id",
            "instance_id",
            "flow",
            "secret_store",
            "secrets_file",
            "site_name",
            "site_url",
        ],
    );

    let token_keys = [
        "access_token",
        "token_type",
        "expires_at",
        "expires_in",
        "app_id",
        "instance_id",
        "flow",
    ];
    assert_keys(
        &run_json(&["token", "--json"], &[]),
        "token --json",
        &token_keys,
    );

    // With WIX_APP_ID set, `environment` is an object too.
    let status = run_json(&["status", "--json"], &[("WIX_APP_ID", APP_ID)]);
    assert_keys(
        &status,
        "status --json",
        &[
            "active_profile",
            "ready",
            "problem",
            "profiles",
            "environment",
        ],
    );
    assert_keys(
        &status["environment"],
        "status --json environment",
        &[
            "app_id",
            "client_id",
            "app_secret",
            "refresh_token",
            "instance_id",
        ],
    );
    let profile = &status["profiles"][0];
    assert_keys(
        profile,
        "status --json profiles[]",
        &[
            "name",
            "active",
            "kind",
            "app_id",
            "secret_location",
            "secrets_file",
            "default_instance",
            "instances",
        ],
    );
    assert_keys(
        &profile["instances"][0],
        "status --json instances[]",
        &[
            "instance_id",
            "flow",
            "refresh_token",
            "cached_token_expires_in",
            "check",
            "site_name",
        ],
    );
    assert!(status_json(&env)["environment"].is_null());

    assert_keys(
        &run_json(&["bi-event", "finished", "--json"], &[]),
        "bi-event --json",
        &["event", "app_id", "instance_id", "sent"],
    );

    let whoami = run_json(&["whoami", "--json"], &[]);
    assert_keys(
        &whoami,
        "whoami --json",
        &["profile", "flow", "token", "instance", "warnings"],
    );
    assert_keys(
        &whoami["token"],
        "whoami --json token",
        &[
            "active",
            "app_id",
            "instance_id",
            "site_id",
            "subject_type",
            "subject_id",
            "expires_at",
            "issued_at",
        ],
    );
    assert_keys(
        &whoami["instance"],
        "whoami --json instance",
        &[
            "app_name",
            "instance_id",
            "site_name",
            "site_url",
            "permissions",
        ],
    );
    // Without the permission to read the instance: `instance` is null, a warning is listed.
    env.emu.deny_instance_read(true);
    let denied = run_json(&["whoami", "--json"], &[]);
    env.emu.deny_instance_read(false);
    assert_keys(
        &denied,
        "whoami --json (no permission)",
        &["profile", "flow", "token", "instance", "warnings"],
    );
    assert!(denied["instance"].is_null(), "{denied}");
    assert_eq!(
        denied["warnings"].as_array().map(Vec::len),
        Some(1),
        "{denied}"
    );

    assert_keys(
        &run_json(&["install-url", "--json"], &[]),
        "install-url --json",
        &["url", "flow", "app_id"],
    );

    assert_keys(
        &run_json(&["logout", "--json"], &[]),
        "logout --json",
        &["profile", "instance_id", "all", "local_only"],
    );

    // The advanced flow's token has the same shape.
    let refresh = refresh_token_for(&env, "inst-json-adv");
    let advanced = run_json(
        &["token", "--json"],
        &[
            ("WIX_APP_ID", APP_ID),
            ("WIX_APP_SECRET", &env.secret),
            ("WIX_REFRESH_TOKEN", &refresh),
        ],
    );
    assert_keys(&advanced, "token --json (advanced)", &token_keys);
    assert_eq!(advanced["flow"], "advanced");
}

// ------------------------------------------------------------------ synchronised races

/// Blocked `flock` waiters on `path`, from the kernel's /proc/locks ("-> FLOCK … MAJ:MIN:INODE").
#[cfg(target_os = "linux")]
pub(crate) fn flock_waiters(path: &std::path::Path) -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(inode) = std::fs::metadata(path).map(|m| m.ino().to_string()) else {
        return 0;
    };
    let locks = std::fs::read_to_string("/proc/locks").expect("/proc/locks");
    locks
        .lines()
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(1) == Some(&"->")
                && fields.get(2) == Some(&"FLOCK")
                && fields
                    .iter()
                    .any(|f| f.matches(':').count() == 2 && f.rsplit(':').next() == Some(&inode))
        })
        .count()
}

#[cfg(target_os = "linux")]
#[test]
fn a_parallel_token_waits_for_the_refresh_in_progress() {
    let env = TestEnv::new();
    env.login_basic();
    env.set_cached_expiry(now_unix() - 1);
    let before = env.token_requests();
    let hold = Hold::new();
    env.emu
        .push_fault("/oauth2/token", Fault::Hold(hold.clone()));
    let token = || {
        let mut cmd = env.std_cmd();
        // The held request must not time out and be retried while the test holds it.
        cmd.args(["-v", "token"]).env("WIXAUTH_HTTP_TIMEOUT", "60");
        Running::spawn(cmd, None)
    };

    let mut first = token();
    // The first holds the lock and its request is at Wix.
    hold.wait_arrived();
    // The instance's lock: its name starts with the ids, then a hash of the whole cache key.
    let prefix = format!("{APP_ID}_{INSTANCE}_");
    let lock = std::fs::read_dir(env.config_dir().join("locks"))
        .expect("locks/")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .expect("the refresh lock exists");
    let mut second = token();
    // Released only once the kernel lists the second as blocked on the lock.
    let deadline = Instant::now() + WAIT;
    while flock_waiters(&lock) == 0 {
        second.assert_running("the first took the lock (it never waited for it)");
        assert!(
            Instant::now() < deadline,
            "the second never waited for the lock"
        );
        std::thread::yield_now();
    }
    first.assert_running("its request was held");
    hold.release();

    let (a, b) = (first.wait(), second.wait());
    for out in [&a, &b] {
        env.assert_no_leak(out);
        assert!(out.status.success(), "{}", stderr(out));
    }
    assert_eq!(env.token_requests(), before + 1, "one request between them");
    assert_eq!(stdout(&a), stdout(&b), "the second took the first's token");
    assert!(
        stderr(&b).contains("waited for another wixauth"),
        "{}",
        stderr(&b)
    );
    assert!(stderr(&b).contains("cache hit for"), "{}", stderr(&b));
    assert!(!stderr(&a).contains("waited for another wixauth"));
}

/// `(tx_queue, rx_queue)` of the IPv4 TCP connection from `local` to `remote` (ports), from
/// /proc/net/tcp.
#[cfg(target_os = "linux")]
fn tcp_queues(local: u16, remote: u16) -> Option<(u64, u64)> {
    let port = |addr: &str| {
        addr.rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok())
    };
    let text = std::fs::read_to_string("/proc/net/tcp").ok()?;
    text.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 5 || f[3] != "01" || port(f[1]) != Some(local) || port(f[2]) != Some(remote) {
            return None;
        }
        let (tx, rx) = f[4].split_once(':')?;
        Some((
            u64::from_str_radix(tx, 16).ok()?,
            u64::from_str_radix(rx, 16).ok()?,
        ))
    })
}

/// Waits until the listener on `server` has read everything the client on `client` sent:
/// first the client's bytes are acknowledged (so they reached the listener's socket), then a
/// later look finds that socket's receive queue empty (so the listener's thread read them).
#[cfg(target_os = "linux")]
fn wait_until_read(server: u16, client: u16) {
    let deadline = Instant::now() + WAIT;
    let wait = |what: &str, done: &dyn Fn() -> bool| {
        while !done() {
            assert!(Instant::now() < deadline, "{what} within {WAIT:?}");
            std::thread::yield_now();
        }
    };
    wait("the request was not acknowledged", &|| {
        tcp_queues(client, server).is_some_and(|(tx, _)| tx == 0)
    });
    wait("the listener did not read the request", &|| {
        tcp_queues(server, client).is_some_and(|(_, rx)| rx == 0)
    });
}

#[cfg(target_os = "linux")]
#[test]
fn a_second_callback_during_the_code_exchange_gets_an_error_page() {
    use std::io::Write;
    let env = TestEnv::new();
    let hold = Hold::new();
    env.emu
        .push_fault("/oauth/access", Fault::Hold(hold.clone()));
    let (port, redirect) = env.new_redirect();
    let mut cmd = env.std_cmd();
    cmd.args([
        "login",
        "--flow",
        "advanced",
        "--app-id",
        APP_ID,
        "--redirect-url",
        &redirect,
        "--no-browser",
    ])
    // The held exchange must not time out and be retried while the test holds it.
    .env("WIXAUTH_HTTP_TIMEOUT", "60");
    let (mut login, url) = env.start_login_cmd(port, redirect, cmd, SecretVia::Env);
    let callback = env.installer_redirect(&url);
    let first = {
        let callback = callback.clone();
        std::thread::spawn(move || get(&callback))
    };
    hold.wait_arrived(); // the login is exchanging the first callback's code

    let parsed = url::Url::parse(&callback).unwrap();
    let mut second = connect(loopback_addr(&parsed)).expect("connect");
    let client_port = second.local_addr().unwrap().port();
    write!(
        second,
        "GET {} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n",
        target(&parsed)
    )
    .unwrap();
    wait_until_read(port, client_port);
    login.assert_running("the second callback");
    hold.release();

    let second = read_response(&mut second, false).expect("an answer to the second callback");
    assert_eq!(second.status, 410, "{}", second.text());
    assert_listener_response("the second callback", &second);
    let first = first.join().unwrap();
    follow(&resolve(&callback, &first.location()));
    let out = login.wait();
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        env.emu.count("/oauth/access"),
        1,
        "the code was exchanged once"
    );
    assert_eq!(env.emu.closed_windows().len(), 1);
}
