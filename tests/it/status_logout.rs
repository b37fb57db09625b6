//! `wixauth status`, `wixauth logout` and the `-v` debug log.

use crate::support::*;

// ------------------------------------------------------------------ status

#[test]
fn status_shows_plain_text_file_storage_plainly() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().arg("status"));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("PLAIN TEXT"), "{text}");
    assert!(
        text.contains(env.secrets_file().to_str().unwrap()),
        "names the file: {text}"
    );
    for part in [APP_ID, INSTANCE, "basic", "default"] {
        assert!(text.contains(part), "lacks {part:?}: {text}");
    }
    assert!(
        !text.contains(&env.cached_token()),
        "status never prints a token: {text}"
    );
    assert!(
        text.contains("cached token expires in 3h 59m")
            || text.contains("cached token expires in 4h"),
        "relative expiry: {text}"
    );
}

#[test]
fn status_json_shape() {
    let env = TestEnv::new();
    env.login_two_instances();
    let cached = env.cache_files();
    std::fs::remove_file(
        cached
            .iter()
            .find(|p| p.to_string_lossy().contains(INSTANCE))
            .unwrap(),
    )
    .unwrap();

    let out = env.run(env.cmd().args(["status", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_out(&out);
    assert_eq!(v["active_profile"], "default");
    assert_eq!(v["ready"], true);
    let profiles = v["profiles"].as_array().expect("profiles is an array");
    assert_eq!(profiles.len(), 1, "{v}");
    let p = &profiles[0];
    assert_eq!(p["name"], "default");
    assert_eq!(p["app_id"], APP_ID);
    assert_eq!(p["secret_location"], "file");
    assert_eq!(p["secrets_file"], env.secrets_file().to_str().unwrap());
    assert_eq!(p["default_instance"], INSTANCE_2);
    let instances = p["instances"].as_array().expect("instances is an array");
    assert_eq!(instances.len(), 2, "{v}");
    for i in instances {
        assert_eq!(i["flow"], "basic", "{i}");
        let ttl = &i["cached_token_expires_in"];
        if i["instance_id"] == INSTANCE {
            assert!(ttl.is_null(), "its cache file was removed: {i}");
        } else {
            assert_eq!(i["instance_id"], INSTANCE_2);
            assert!(
                (14_300..=14_400).contains(&ttl.as_i64().expect("a number")),
                "{i}"
            );
        }
    }
    assert!(!stdout(&out).contains("OauthNG"), "no token in status");
}

#[test]
fn status_with_nothing_logged_in_is_exit_2() {
    let env = TestEnv::new();
    for args in [
        &["status"][..],
        &["status", "--json"][..],
        &["status", "--check"][..],
    ] {
        let out = env.run(env.cmd().args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let errors = stderr(&out)
            .lines()
            .filter(|l| l.starts_with("wixauth: error:"))
            .count();
        assert_eq!(errors, 1, "{args:?}: {}", stderr(&out));
    }
    let out = env.run(env.cmd().args(["status", "--json"]));
    let v = json_out(&out);
    assert_eq!(v["ready"], false);
    assert_eq!(v["profiles"].as_array().map(Vec::len), Some(0));
    assert_eq!(env.token_requests(), 0);
}

#[test]
fn status_in_env_only_mode_is_ready() {
    let env = TestEnv::new();
    let out = env.run(
        env.cmd()
            .args(["status", "--json"])
            .env("WIX_APP_ID", APP_ID)
            .env("WIX_APP_SECRET", &env.secret)
            .env("WIX_INSTANCE_ID", INSTANCE),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json_out(&out);
    assert_eq!(report["ready"], true);
    assert_eq!(report["environment"]["app_id"], APP_ID);
    assert_eq!(report["environment"]["app_secret"], true);
    assert_eq!(report["environment"]["instance_id"], INSTANCE);
    assert!(!env.config_file().exists());
    let human = env.run(
        env.cmd()
            .arg("status")
            .env("WIX_APP_ID", APP_ID)
            .env("WIX_APP_SECRET", &env.secret)
            .env("WIX_INSTANCE_ID", INSTANCE),
    );
    assert!(
        stdout(&human).contains("secret from WIX_APP_SECRET"),
        "{}",
        stdout(&human)
    );
}

#[test]
fn status_check_asks_wix() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().args(["status", "--check"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        env.token_requests(),
        2,
        "--check asks Wix even with a cached token"
    );
    // Without --check, status never talks to Wix.
    let out = env.run(env.cmd().arg("status"));
    assert!(out.status.success());
    assert_eq!(env.token_requests(), 2);

    // Wix no longer accepts the credentials for this instance.
    env.emu.uninstall(APP_ID, INSTANCE);
    let out = env.run(env.cmd().args(["status", "--check"]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("wixauth: error:"))
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("App instance not found"), "{err}");
    // One short line, and the one command that fixes it.
    let line = err
        .lines()
        .find(|l| l.starts_with("wixauth: error:"))
        .unwrap_or_default();
    assert!(
        line.chars().count() <= 160,
        "{} chars: {line}",
        line.chars().count()
    );
    // The app left the site: the one next step forgets that instance.
    let logout = format!("; run `wixauth logout --instance {INSTANCE}`");
    assert!(line.ends_with(&logout), "{line}");
    assert_eq!(line.matches("wixauth ").count(), 1, "{line}");
    let out = env.run(env.cmd().args(["status", "--check", "--json"]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v = json_out(&out);
    assert_eq!(v["ready"], false);
    let check = v["profiles"][0]["instances"][0]["check"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(check.contains("not installed"), "{v}");
}

#[test]
fn status_check_with_wix_down_is_exit_4() {
    let env = TestEnv::new();
    env.login_basic();
    for _ in 0..3 {
        env.emu.push_fault("/oauth2/token", Fault::Status(500));
    }
    let out = env.run(
        env.cmd()
            .args(["status", "--check"])
            .env("WIXAUTH_HTTP_TIMEOUT", "0.5"),
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("; run `wixauth doctor`"),
        "{}",
        stderr(&out)
    );
    env.assert_credentials_work();
}

// ------------------------------------------------------------------ logout

#[test]
fn logout_forgets_the_instance_and_keeps_the_secret() {
    let env = TestEnv::new();
    env.login_two_instances();
    assert_eq!(env.cache_files().len(), 2);

    // Logs out the default (the last logged in) instance.
    let out = env.run(env.cmd().arg("logout"));
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(INSTANCE_2) && err.contains("local state only"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    let out = env.run(env.cmd().args(["token", "--instance", INSTANCE_2]));
    assert_fails(&out, 2);
    let config = read(&env.config_file());
    assert!(
        !config.contains(INSTANCE_2),
        "instance still in config.toml: {config}"
    );
    let caches = env.cache_files();
    assert_eq!(caches.len(), 1, "{caches:?}");
    assert!(
        !caches[0].to_string_lossy().contains(INSTANCE_2),
        "{caches:?}"
    );
    assert!(
        read(&env.secrets_file()).contains(&env.secret),
        "the app secret is kept"
    );

    // The other site is never made the default behind the user's back: the next step says
    // how to choose it, and that command works as printed.
    assert!(err.contains("has none now"), "{err}");
    let line = assert_fails(&env.run(env.cmd().arg("token")), 2);
    let switch = format!("wixauth switch --instance {INSTANCE}");
    assert!(
        line.contains("no default instance") && line.contains(&switch),
        "{line}"
    );
    let out = env.run(env.cmd().args(["switch", "--instance", INSTANCE]));
    assert!(out.status.success(), "{}", stderr(&out));
    // The other instance works, as the chosen default, with and without the cache.
    let info = env.emu.token_info(&env.token_ok(&[])).unwrap();
    assert_eq!(info.instance_id, INSTANCE);
    env.assert_credentials_work();
    // And the kept secret lets the instance log in again without giving it.
    let out = env.run(
        env.cmd()
            .args(["login", "--flow", "basic", "--instance-id", INSTANCE_2]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn logout_of_a_named_instance() {
    let env = TestEnv::new();
    env.login_two_instances();
    let out = env.run(env.cmd().args(["logout", "--instance", INSTANCE]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_fails(
        &env.run(env.cmd().args(["token", "--instance", INSTANCE])),
        2,
    );
    // The default is untouched.
    assert_eq!(
        env.emu.token_info(&env.token_ok(&[])).unwrap().instance_id,
        INSTANCE_2
    );
}

#[test]
fn logout_all_removes_secret_cache_and_profile() {
    let env = TestEnv::new();
    env.login_two_instances();
    let out = env.run(env.cmd().args(["logout", "--all"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("local state only"),
        "{}",
        stderr(&out)
    );

    let secrets_gone =
        !env.secrets_file().exists() || !read(&env.secrets_file()).contains(&env.secret);
    assert!(secrets_gone, "the app secret is removed");
    assert!(
        env.cache_files().is_empty(),
        "cached tokens removed: {:?}",
        env.cache_files()
    );
    let config = std::fs::read_to_string(env.config_file()).unwrap_or_default();
    assert!(
        !config.contains(APP_ID) && !config.contains("[profiles.default"),
        "profile removed: {config}"
    );

    for args in [&["token"][..], &["token", "--instance", INSTANCE][..]] {
        assert_fails(&env.run(env.cmd().args(args)), 2);
    }
    let out = env.run(env.cmd().arg("status"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn logout_all_keeps_other_profiles() {
    let env = TestEnv::new();
    let app2 = "app-99999999";
    // Not containing the first secret, so the checks below can tell them apart.
    let secret2 = env.secret.replace("s3cret", "other-app-secret");
    env.add_secret(&secret2);
    env.emu.register_app(app2, &secret2, &[]);
    env.emu.install(app2, INSTANCE);
    env.login_basic();
    let out = env.login_with(
        &[
            "--profile",
            "other",
            "--app-id",
            app2,
            "--instance-id",
            INSTANCE,
        ],
        &secret2,
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let out = env.run(env.cmd().args(["logout", "--all"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let secrets = read(&env.secrets_file());
    assert!(
        !secrets.contains(&env.secret) && secrets.contains(&secret2),
        "only the default profile's secret goes: {secrets}"
    );
    assert_eq!(
        env.cache_files().len(),
        1,
        "the other app's cached token stays"
    );
    let token = env.token_ok(&["--profile", "other"]);
    assert_eq!(env.emu.token_info(&token).unwrap().app_id, app2);
    let out = env.run(
        env.cmd()
            .args(["token", "--profile", "other", "--no-cache"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn logout_twice_is_not_an_error() {
    let env = TestEnv::new();
    env.login_basic();
    for args in [
        &["logout"][..],
        &["logout"][..],
        &["logout", "--all"][..],
        &["logout", "--all"][..],
        &["logout"][..],
    ] {
        let out = env.run(env.cmd().args(args));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("error"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // Never logged in at all is fine too.
    let fresh = TestEnv::new();
    let out = fresh.run(fresh.cmd().args(["logout", "--all"]));
    assert!(out.status.success(), "{}", stderr(&out));
}

// ------------------------------------------------------------------ -v

#[test]
fn verbose_logs_requests_store_and_cache_without_secrets() {
    let env = TestEnv::new();
    env.login_basic();

    // A miss: the cache decision, the store, the request.
    let out = env.run(env.cmd().args(["-v", "token", "--min-ttl", "86400"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_string();
    let err = stderr(&out);
    let debug: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("wixauth: debug:"))
        .collect();
    assert!(!debug.is_empty(), "{err}");
    let url = format!("{}/oauth2/token", env.emu.base());
    assert!(
        debug
            .iter()
            .any(|l| l.contains("POST") && l.contains(&url) && l.contains("200")),
        "a request line with method, URL and status: {err}"
    );
    assert!(debug.iter().any(|l| l.contains("cache miss")), "{err}");
    assert!(
        debug.iter().any(|l| {
            let l = l.to_lowercase();
            l.contains("store") && l.contains("file")
        }),
        "the store used: {err}"
    );
    assert!(
        !err.contains(&token),
        "the new access token leaked into stderr: {err}"
    );

    // A hit: says so, and never prints the token it hands out on stdout.
    let out = env.run(env.cmd().args(["-v", "token"]));
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(err.contains("cache hit"), "{err}");
    assert!(
        !err.contains(&token),
        "the cached access token leaked into stderr: {err}"
    );
    assert_eq!(
        stdout(&out),
        format!("{token}\n"),
        "-v never adds anything to stdout"
    );

    // Login and status with -v: no secret (checked by env.run) and no token.
    for args in [
        vec![
            "-v",
            "login",
            "--flow",
            "basic",
            "--app-id",
            APP_ID,
            "--instance-id",
            INSTANCE,
            "--secret-stdin",
        ],
        vec!["-v", "status", "--check"],
    ] {
        let out = env.run(
            env.cmd()
                .args(&args)
                .write_stdin(format!("{}\n", env.secret)),
        );
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(all.contains("wixauth: debug:"), "{args:?}: {all}");
        assert!(
            !all.contains("OauthNG"),
            "{args:?} printed an access token: {all}"
        );
    }
}

#[test]
fn verbose_failures_still_have_one_error_line() {
    let env = TestEnv::new();
    env.login_basic();
    for _ in 0..3 {
        env.emu.push_fault("/oauth2/token", Fault::Status(500));
    }
    let out = env.run(
        env.cmd()
            .args(["-v", "token", "--no-cache"])
            .env("WIXAUTH_HTTP_TIMEOUT", "0.5"),
    );
    assert_fails(&out, 4);
    let retries = stderr(&out)
        .lines()
        .filter(|l| l.contains("retrying"))
        .count();
    assert_eq!(retries, 2, "{}", stderr(&out));
}

#[test]
fn logout_all_with_instance_is_a_usage_error_and_removes_nothing() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().args(["logout", "--all", "--instance", INSTANCE]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pass one of them"),
        "{}",
        stderr(&out)
    );
    env.assert_credentials_work();
    // Without a terminal, --all proceeds without asking, as before.
    let out = env.run(env.cmd().args(["logout", "--all"]));
    assert!(out.status.success(), "{}", stderr(&out));
}
