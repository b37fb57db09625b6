//! `wixauth login` through the browser (issue 3), driven as a subprocess: the test reads the
//! installer URL from stderr and acts as the browser with a plain HTTP client on loopback.

use crate::support::loopback::*;
use crate::support::*;

use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};
use std::time::{Duration, Instant};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The one `wixauth: error:` line of a failed run (asserting the exit code and an empty stdout).
fn error_line(env: &TestEnv, out: &std::process::Output, code: i32) -> String {
    env.assert_no_leak(out);
    assert_fails(out, code)
}

// ---------------------------------------------------------------- the advanced flow

#[test]
fn advanced_login_end_to_end() {
    let env = TestEnv::new();
    env.emu.set_next_instance("inst-adv-1");
    let (mut login, url) = env.start_advanced(&[]);

    // The installer URL: the emulator's /installer/install with the app, redirect and state.
    assert!(
        url.starts_with(&format!("{}/installer/install?", env.emu.base())),
        "{url}"
    );
    assert_eq!(query_param(&url, "appId").as_deref(), Some(APP_ID));
    assert_eq!(
        query_param(&url, "redirectUrl").as_deref(),
        Some(login.redirect.as_str())
    );
    let state = query_param(&url, "state").expect("state");
    assert!(
        state.len() >= 32 && state.chars().all(|c| c.is_ascii_hexdigit()),
        "state must carry at least 128 bits: {state:?}"
    );

    let exchanges = env.emu.count("/oauth/access");
    let browsed = env.browse(&url);
    let out = login.wait();
    let elapsed = login.exited_at.expect("exited") - browsed.callback_sent;
    eprintln!(
        "TIMING advanced login: callback request to process exit = {:.1} ms",
        ms(elapsed)
    );
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "no --json: stdout stays empty");

    // The callback carried code, instanceId and our state.
    assert_eq!(
        query_param(&browsed.callback, "state").as_deref(),
        Some(state.as_str())
    );
    assert_eq!(
        query_param(&browsed.callback, "instanceId").as_deref(),
        Some("inst-adv-1")
    );
    // One code exchange; the browser was sent to Wix's close-window page with the access token.
    assert_eq!(env.emu.count("/oauth/access"), exchanges + 1);
    assert_eq!(browsed.answer.status, 302);
    let close = browsed.answer.location();
    assert!(
        close.starts_with(&format!("{}/installer/close-window?", env.emu.base())),
        "{close}"
    );
    let access = query_param(&close, "access_token").expect("access_token");
    assert_eq!(env.emu.closed_windows(), vec![access.clone()]);
    assert_eq!(browsed.after.last().expect("close-window").1.status, 200);
    let issued = env
        .emu
        .token_info(&access)
        .expect("a token the emulator issued");
    assert_eq!(issued.instance_id, "inst-adv-1");

    // The summary names the app, the instance, the flow and the secrets file.
    let err = stderr(&out);
    let summary = err
        .lines()
        .find(|l| l.starts_with("Logged in"))
        .unwrap_or_else(|| panic!("no summary: {err}"));
    for part in [
        APP_ID,
        "inst-adv-1",
        "advanced",
        env.secrets_file().to_str().unwrap(),
    ] {
        assert!(summary.contains(part), "summary lacks {part:?}: {summary}");
    }

    // config.toml: the instance with flow advanced, the redirect URL; no secret.
    let profile = env.default_profile();
    assert_eq!(profile["app_id"].as_str(), Some(APP_ID));
    assert_eq!(profile["flow"].as_str(), Some("advanced"));
    assert_eq!(
        profile["redirect_url"].as_str(),
        Some(login.redirect.as_str())
    );
    assert_eq!(profile["default_instance"].as_str(), Some("inst-adv-1"));
    assert_eq!(
        profile["instances"]["inst-adv-1"]["flow"].as_str(),
        Some("advanced")
    );
    let config = read(&env.config_file());
    assert!(!config.contains(&env.secret), "{config}");

    // The refresh token Wix issued is in the file store, and nowhere in config.toml.
    let refresh = env
        .stored_refresh_token("inst-adv-1")
        .expect("refresh token in secrets.toml");
    assert!(env.emu.refresh_tokens().contains(&refresh));
    assert!(!config.contains(&refresh));
    assert_eq!(
        env.stored_secret(APP_SECRET_ENTRY).as_deref(),
        Some(env.secret.as_str())
    );
    #[cfg(unix)]
    assert_eq!(mode(&env.secrets_file()), 0o600);

    // `token` works from the cache (the login's own token, no request) ...
    let cached = env.token_ok(&[]);
    assert_eq!(cached, access, "the first token is the one login received");
    assert_eq!(env.emu.count("/oauth/access"), exchanges + 1);
    // ... and `--no-cache` uses the refresh grant.
    let fresh = env.token_ok(&["--no-cache"]);
    assert_ne!(fresh, access);
    assert_eq!(env.emu.count("/oauth/access"), exchanges + 2);
    let last = env
        .emu
        .seen()
        .into_iter()
        .rfind(|s| s.path == "/oauth/access")
        .expect("seen");
    assert!(
        last.body.contains("\"refresh_token\""),
        "refresh grant: {}",
        last.body
    );
    assert_eq!(
        env.emu.token_info(&fresh).expect("issued").instance_id,
        "inst-adv-1"
    );

    // The login is over: replaying the callback reaches nothing, the code is not exchanged again.
    assert!(
        try_request("GET", &browsed.callback, &[], b"").is_err(),
        "the listener must be closed after the login"
    );
    assert_eq!(env.emu.count("/oauth/access"), exchanges + 2);
    assert_port_free(login.port);
}

#[test]
fn no_close_window_shows_a_local_success_page_and_json_summary() {
    let env = TestEnv::new();
    env.emu.set_next_instance("inst-local-1");
    let (mut login, url) = env.start_login(
        "advanced",
        SecretVia::Stdin,
        &["--no-browser", "--no-close-window", "--json"],
    );
    let browsed = env.browse(&url);
    let out = login.wait();
    eprintln!(
        "TIMING advanced login --no-close-window: callback request to process exit = {:.1} ms",
        ms(login.exited_at.unwrap() - browsed.callback_sent)
    );
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));

    assert_eq!(browsed.answer.status, 200, "a local page, no redirect");
    assert_listener_response("the success page", &browsed.answer);
    let html = browsed.answer.text();
    assert!(
        html.contains(APP_ID) && html.contains("inst-local-1"),
        "{html}"
    );
    assert!(html.to_lowercase().contains("close this tab"), "{html}");
    assert!(
        env.emu.closed_windows().is_empty(),
        "--no-close-window never sends the browser to Wix's close-window page"
    );

    let summary = json_out(&out);
    assert_eq!(summary["app_id"], APP_ID);
    assert_eq!(summary["instance_id"], "inst-local-1");
    assert_eq!(summary["flow"], "advanced");
    assert_eq!(summary["secret_store"], "file");
    assert_eq!(summary["profile"], "default");
    assert!(env.stored_refresh_token("inst-local-1").is_some());
    env.assert_credentials_work();
}

#[test]
fn the_app_url_forwards_wix_token_to_the_installer() {
    let env = TestEnv::new();
    env.emu.set_next_instance("inst-app-url");
    let (mut login, url) = env.start_advanced(&["--accept-app-url"]);
    let state = query_param(&url, "state").unwrap();

    // Without Wix's token: an error page, and the login goes on.
    let missing = get(&login.url("/app"));
    assert_eq!(missing.status, 400);
    assert_listener_response("/app without token", &missing);
    login.assert_running("/app without a token");

    let answer = get(&login.url("/app?token=XYZ-from-wix"));
    assert_listener_response("/app", &answer);
    let installer = answer.location();
    assert!(
        installer.starts_with(&format!("{}/installer/install?", env.emu.base())),
        "{installer}"
    );
    assert_eq!(
        query_param(&installer, "token").as_deref(),
        Some("XYZ-from-wix")
    );
    assert_eq!(query_param(&installer, "appId").as_deref(), Some(APP_ID));
    assert_eq!(
        query_param(&installer, "redirectUrl").as_deref(),
        Some(login.redirect.as_str())
    );
    assert_eq!(
        query_param(&installer, "state").as_deref(),
        Some(state.as_str())
    );
    login.assert_running("/app");

    // Following it completes the login.
    env.browse(&installer);
    let out = login.wait();
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.emu.closed_windows().len(), 1);
    assert_eq!(
        env.default_profile()["default_instance"].as_str(),
        Some("inst-app-url")
    );
}

// ---------------------------------------------------------------- the basic flow in the browser

#[test]
fn basic_flow_installs_through_the_browser() {
    let env = TestEnv::new();
    env.emu.set_next_instance("inst-basic-web");
    let (mut login, url) = env.start_login("basic", SecretVia::Env, &["--no-browser"]);
    assert!(
        url.starts_with(&format!("{}/app-installer?", env.emu.base())),
        "{url}"
    );
    assert_eq!(query_param(&url, "appId").as_deref(), Some(APP_ID));
    let post = query_param(&url, "postInstallationUrl").expect("postInstallationUrl");
    assert!(
        post.starts_with(&format!("http://localhost:{}/installed?state=", login.port)),
        "{post}"
    );

    let callback = env.installer_redirect(&url);
    assert_eq!(
        query_param(&callback, "instanceId").as_deref(),
        Some("inst-basic-web")
    );
    let tokens = env.token_requests();
    let browsed = env.send_callback(&callback);
    let out = login.wait();
    eprintln!(
        "TIMING basic login in the browser: callback request to process exit = {:.1} ms",
        ms(login.exited_at.unwrap() - browsed.callback_sent)
    );
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        browsed.answer.status, 200,
        "basic flow: a local success page"
    );
    assert!(browsed.answer.text().contains("inst-basic-web"));
    assert_eq!(
        env.token_requests(),
        tokens + 1,
        "one client-credentials token proves the install"
    );

    let profile = env.default_profile();
    assert_eq!(profile["flow"].as_str(), Some("basic"));
    assert_eq!(profile["default_instance"].as_str(), Some("inst-basic-web"));
    assert_eq!(
        profile["instances"]["inst-basic-web"]["flow"].as_str(),
        Some("basic")
    );
    assert!(
        env.stored_refresh_token("inst-basic-web").is_none(),
        "basic flow has no refresh token"
    );
    env.assert_credentials_work();
}

// ---------------------------------------------------------------- callbacks that end the login

/// Logs in with the basic flow first, then runs a browser login whose callback is `make_callback`
/// (given the real callback URL and the state); returns the browser's answer and the output.
/// Afterwards the earlier credentials must be untouched and still work.
fn failing_login(
    env: &TestEnv,
    make_callback: impl FnOnce(&TestEnv, &Login, &str, &str) -> String,
) -> (Response, std::process::Output) {
    if !env.config_file().exists() {
        env.login_basic();
    }
    let config_before = read(&env.config_file());
    let secrets_before = read(&env.secrets_file());
    let closed_before = env.emu.closed_windows().len();
    let (mut login, url) = env.start_advanced(&[]);
    let state = query_param(&url, "state").unwrap();
    let real = env.installer_redirect(&url);
    let callback = make_callback(env, &login, &real, &state);
    let answer = get(&callback);
    assert_listener_response("the failed callback", &answer);
    assert!(answer.status >= 400, "an error page, got {}", answer.status);
    let html = answer.text();
    assert!(
        html.contains("wixauth login"),
        "the page says what to do: {html}"
    );
    let out = login.wait();
    env.assert_no_leak(&out);
    assert_eq!(env.emu.closed_windows().len(), closed_before);
    assert_eq!(
        read(&env.config_file()),
        config_before,
        "config.toml unchanged"
    );
    assert_eq!(
        read(&env.secrets_file()),
        secrets_before,
        "secrets.toml unchanged"
    );
    assert_port_free(login.port);
    env.assert_credentials_work();
    (answer, out)
}

fn replace_param(url: &str, key: &str, value: Option<&str>) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != key)
        .collect();
    {
        let mut q = parsed.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
        if let Some(value) = value {
            q.append_pair(key, value);
        }
    }
    parsed.to_string()
}

/// A redirect with a wrong or missing state gets an error page and the login goes on: any web
/// page can make the browser send one (issue 8 item 2). Its code is never exchanged, one warning
/// line says so, and the real redirect then completes the login.
fn forged_state_keeps_waiting(forge: impl Fn(&str, &str) -> String) {
    let env = TestEnv::new();
    env.emu.set_next_instance("inst-after-forgery");
    let (mut login, url) = env.start_advanced(&[]);
    let state = query_param(&url, "state").unwrap();
    let real = env.installer_redirect(&url);
    let exchanges = env.emu.count("/oauth/access");
    for _ in 0..2 {
        let answer = get(&forge(&real, &state));
        assert_listener_response("the forged callback", &answer);
        assert_eq!(answer.status, 400);
        let html = answer.text();
        assert!(html.contains("still waiting"), "{html}");
        login.assert_running("a callback with a forged state");
    }
    assert_eq!(
        env.emu.count("/oauth/access"),
        exchanges,
        "the code of a forged redirect is never exchanged"
    );
    let browsed = env.send_callback(&real);
    let out = login.wait();
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(browsed.answer.status < 400);
    let err = stderr(&out);
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("wixauth: warning:") && l.contains("state"))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning for two forgeries: {err}");
    assert_eq!(
        env.default_profile()["default_instance"].as_str(),
        Some("inst-after-forgery")
    );
}

#[test]
fn a_wrong_state_is_ignored_and_the_login_keeps_waiting() {
    forged_state_keeps_waiting(|real, state| {
        let wrong: String = state
            .chars()
            .map(|c| if c == '0' { '1' } else { '0' })
            .collect();
        replace_param(real, "state", Some(&wrong))
    });
}

#[test]
fn a_missing_state_is_ignored_and_the_login_keeps_waiting() {
    forged_state_keeps_waiting(|real, _| replace_param(real, "state", None));
}

#[test]
fn a_callback_naming_another_instance_than_token_info_is_exit_3() {
    let env = TestEnv::new();
    env.emu.install(APP_ID, "inst-not-approved");
    env.emu.set_next_instance("inst-approved");
    env.emu.set_callback_instance("inst-not-approved");
    let (_, out) = failing_login(&env, |_, _, real, _| real.to_string());
    let line = error_line(&env, &out, 3);
    assert!(
        line.contains("inst-not-approved") && line.contains("inst-approved"),
        "{line}"
    );
    assert!(env.stored_refresh_token("inst-not-approved").is_none());
    assert!(env.stored_refresh_token("inst-approved").is_none());
}

#[test]
fn the_app_url_forwards_only_the_first_request() {
    let env = TestEnv::new();
    env.emu.set_next_instance("inst-app-once");
    let (mut login, _) = env.start_advanced(&["--accept-app-url"]);
    let first = get(&login.url("/app?token=first"));
    assert!((300..400).contains(&first.status), "{}", first.status);
    let second = get(&login.url("/app?token=second"));
    assert_listener_response("a second /app", &second);
    assert_eq!(second.status, 409);
    assert!(second.header("location").is_none());
    assert!(
        !second
            .text()
            .contains(&query_param(&first.location(), "state").unwrap()),
        "the state is not handed out twice"
    );
    login.assert_running("a second /app");
    env.browse(&first.location());
    let out = login.wait();
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Another local user (or any page) can ask `/app` first, in a login whose browser never
/// calls it: without a terminal to confirm in, and without `--accept-app-url`, it is refused
/// and the state is not handed out.
#[test]
fn without_a_terminal_the_app_url_is_refused_unless_accepted() {
    let env = TestEnv::new();
    env.emu.set_next_instance("inst-app-refused");
    let (mut login, url) = env.start_advanced(&[]);
    let state = query_param(&url, "state").unwrap();
    let asked = get(&login.url("/app?token=from-someone"));
    assert_eq!(asked.status, 403, "{}", asked.text());
    assert!(asked.header("location").is_none());
    assert!(
        !asked.text().contains(&state),
        "the state is not handed out"
    );
    assert!(
        asked.text().contains("--accept-app-url"),
        "{}",
        asked.text()
    );
    login.assert_running("a refused /app");
    env.browse(&url);
    let out = login.wait();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refused a request to the App URL"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn access_denied_ends_the_login_with_exit_5() {
    let env = TestEnv::new();
    let (_, out) = failing_login(&env, |_, login, _, state| {
        format!(
            "{}?error=access_denied&error_description=The+user+cancelled&state={state}",
            login.redirect
        )
    });
    let line = error_line(&env, &out, 5);
    assert!(line.contains("wixauth login"), "{line}");
}

#[test]
fn a_missing_code_ends_the_login_with_exit_3() {
    let env = TestEnv::new();
    let (_, out) = failing_login(&env, |_, _, real, _| replace_param(real, "code", None));
    let line = error_line(&env, &out, 3);
    assert!(line.contains("code"), "{line}");
}

#[test]
fn an_expired_code_ends_the_login_with_exit_3() {
    let env = TestEnv::new();
    let (_, out) = failing_login(&env, |env, _, real, _| {
        env.emu.advance_clock(601);
        real.to_string()
    });
    let line = error_line(&env, &out, 3);
    assert!(line.contains("wixauth login"), "{line}");
}

#[test]
fn a_reused_code_ends_the_login_with_exit_3_and_keeps_the_advanced_login() {
    let env = TestEnv::new();
    // A first advanced login whose code is then replayed into a second one.
    env.emu.set_next_instance("inst-first");
    let (mut first, url) = env.start_advanced(&[]);
    let browsed = env.browse(&url);
    let out = first.wait();
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    let used_code = query_param(&browsed.callback, "code").unwrap();
    let refresh = env.stored_refresh_token("inst-first").unwrap();

    let (_, out) = failing_login(&env, |_, _, real, _| {
        replace_param(real, "code", Some(&used_code))
    });
    let line = error_line(&env, &out, 3);
    assert!(line.contains("wixauth login"), "{line}");
    assert_eq!(
        env.stored_refresh_token("inst-first").as_deref(),
        Some(refresh.as_str())
    );
}

// ---------------------------------------------------------------- ending without a callback

#[test]
fn timeout_exits_5_and_releases_the_port() {
    let env = TestEnv::new();
    let (mut login, _) = env.start_advanced(&["--timeout", "2"]);
    // From the moment the URL was printed (the listener is up): that is what --timeout counts.
    let listening = Instant::now();
    let out = login.wait_for(Duration::from_secs(10));
    let took = login.exited_at.expect("exited") - listening;
    eprintln!(
        "TIMING --timeout 2: exited {:.0} ms after printing the URL",
        ms(took)
    );
    let line = error_line(&env, &out, 5);
    assert!(line.contains("--timeout"), "{line}");
    let (limit, slack) = (Duration::from_secs(2), Duration::from_millis(1500));
    assert!(
        took >= limit && took < limit + slack,
        "took {took:?} for --timeout 2"
    );
    assert_port_free(login.port);
    assert!(!env.config_file().exists(), "nothing stored");
}

#[test]
fn ctrl_c_exits_130_and_releases_the_port() {
    let env = TestEnv::new();
    let (mut login, _) = env.start_advanced(&[]);
    // Right when the URL shows, as a person would.
    let sent = Instant::now();
    login.signal("INT");
    let out = login.wait();
    eprintln!(
        "TIMING Ctrl-C: SIGINT to process exit = {:.1} ms",
        ms(login.exited_at.unwrap() - sent)
    );
    assert_eq!(
        out.status.code(),
        Some(130),
        "SIGINT must be caught and turned into exit 130: {:?} {}",
        out.status,
        stderr(&out)
    );
    // A stop, not an error: one line.
    let err = stderr(&out);
    assert_eq!(err.matches("wixauth: interrupted").count(), 1, "{err}");
    assert!(!err.contains("error"), "{err}");
    assert_port_free(login.port);
    assert!(!env.config_file().exists(), "nothing half-written");
}

#[test]
fn a_port_in_use_is_a_usage_error_naming_the_port() {
    let env = TestEnv::new();
    let mut cases: Vec<(&str, TcpListener)> = vec![(
        "127.0.0.1",
        TcpListener::bind((Ipv4Addr::LOCALHOST, free_port())).expect("hold 127.0.0.1"),
    )];
    if ipv6_available() {
        // Only [::1] is taken: a browser resolving localhost to ::1 would reach the other program.
        cases.push((
            "::1",
            TcpListener::bind((Ipv6Addr::LOCALHOST, free_port())).expect("hold [::1]"),
        ));
    } else {
        eprintln!("no IPv6 loopback on this machine: the [::1] half is skipped");
    }
    for (what, held) in cases {
        let port = held.local_addr().unwrap().port();
        let redirect = format!("http://localhost:{port}/callback");
        env.register_redirect(&redirect);
        let out = env.run(
            env.cmd()
                .args([
                    "login",
                    "--flow",
                    "advanced",
                    "--app-id",
                    APP_ID,
                    "--redirect-url",
                    &redirect,
                    "--no-browser",
                    "--timeout",
                    "5",
                ])
                .env("WIX_APP_SECRET", &env.secret)
                .timeout(Duration::from_secs(10)),
        );
        let line = assert_fails(&out, 2);
        assert!(
            line.contains(&port.to_string()) && line.contains("--redirect-url"),
            "{what}: {line}"
        );
        assert!(
            !stderr(&out).contains("/installer/install"),
            "{what}: no URL is offered when nothing listens: {}",
            stderr(&out)
        );
        drop(held);
    }
}

#[test]
fn a_redirect_url_that_is_not_loopback_http_is_refused_before_listening() {
    let env = TestEnv::new();
    let port = free_port();
    for redirect in [
        "http://example.com/cb".to_string(),
        format!("https://localhost:{port}/callback"),
        format!("http://0.0.0.0:{port}/callback"),
        format!("http://192.0.2.7:{port}/callback"),
        "not a url".to_string(),
    ] {
        let started = Instant::now();
        let out = env.run(
            env.cmd()
                .args([
                    "login",
                    "--flow",
                    "advanced",
                    "--app-id",
                    APP_ID,
                    "--redirect-url",
                    &redirect,
                    "--no-browser",
                    "--timeout",
                    "5",
                ])
                .env("WIX_APP_SECRET", &env.secret)
                .timeout(Duration::from_secs(10)),
        );
        let line = assert_fails(&out, 2);
        assert!(line.contains("--redirect-url"), "{redirect}: {line}");
        assert!(
            !stderr(&out).contains("/installer/install"),
            "{redirect}: refused before listening: {}",
            stderr(&out)
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{redirect}: immediate"
        );
    }
    assert_eq!(env.emu.seen().len(), 0, "nothing was asked of Wix");
    assert!(!env.config_file().exists());
}

// ---------------------------------------------------------------- the browser launcher

/// A directory with a `browser.sh` that records its first argument into `url`.
fn recording_browser() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("browser.sh");
    let record = dir.path().join("url");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > '{0}.tmp' && mv '{0}.tmp' '{0}'\n",
            record.display()
        ),
    )
    .unwrap();
    make_executable(&script);
    (dir, record)
}

fn make_executable(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Polls (bounded) until a file exists and returns its content.
fn wait_for_file(path: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts an advanced login without `--no-browser`, with `env_vars` set.
fn login_with_launcher(env: &TestEnv, env_vars: &[(&str, &str)]) -> (Login, String) {
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
    ]);
    for (k, v) in env_vars {
        cmd.env(k, v);
    }
    env.start_login_cmd(port, redirect, cmd, SecretVia::Env)
}

fn complete(env: &TestEnv, login: &mut Login, url: &str) {
    env.browse(url);
    let out = login.wait();
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.emu.closed_windows().len(), 1);
}

#[test]
fn browser_gets_the_printed_url() {
    let env = TestEnv::new();
    let (dir, record) = recording_browser();
    let script = dir.path().join("browser.sh");
    let (mut login, printed) = login_with_launcher(&env, &[("BROWSER", script.to_str().unwrap())]);
    let launched = wait_for_file(&record);
    let opened = assert_private_forwarder(&launched, &printed);
    login.assert_running("the launch");
    assert!(
        !login.stderr_text().contains("Not opening"),
        "{}",
        login.stderr_text()
    );
    complete(&env, &mut login, &opened);
}

#[test]
fn a_missing_browser_program_never_ends_the_login() {
    let env = TestEnv::new();
    let (mut login, printed) =
        login_with_launcher(&env, &[("BROWSER", "/nonexistent/wixauth-test-browser")]);
    let note = login.wait_line("a note about the failed launch", |l| {
        l.contains("Not opening a browser")
    });
    assert!(note.contains("wixauth-test-browser"), "{note}");
    login.assert_running("a failed launch");
    complete(&env, &mut login, &printed);
}

#[test]
fn a_failing_browser_program_never_ends_the_login() {
    let env = TestEnv::new();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("broken-browser.sh");
    let marker = dir.path().join("ran");
    // Records its pid (proof that it ran), then fails.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho $$ > '{0}.tmp' && mv '{0}.tmp' '{0}'\necho cannot open >&2\nexit 1\n",
            marker.display()
        ),
    )
    .unwrap();
    make_executable(&script);
    let (mut login, printed) = login_with_launcher(&env, &[("BROWSER", script.to_str().unwrap())]);
    let pid = wait_for_file(&marker).trim().to_string();
    // The launcher has exited (and been reaped) before the login goes on.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    }) {
        assert!(Instant::now() < deadline, "the launcher {pid} never exited");
        std::thread::yield_now();
    }
    login.assert_running("a launcher that exits 1");
    complete(&env, &mut login, &printed);
}

/// A PATH whose `xdg-open` and friends only record that they were run.
fn recording_openers() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("opened");
    for name in [
        "xdg-open",
        "gio",
        "gnome-open",
        "kde-open",
        "wslview",
        "x-www-browser",
        "sensible-browser",
        "www-browser",
    ] {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\nfor a in \"$@\"; do last=\"$a\"; done\nprintf '%s' \"$last\" > '{0}.tmp' && mv '{0}.tmp' '{0}'\n",
                record.display()
            ),
        )
        .unwrap();
        make_executable(&path);
    }
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (dir, record, path)
}

#[test]
fn without_browser_and_display_no_launch_is_tried() {
    let env = TestEnv::new();
    let (_dir, record, path) = recording_openers();
    let (mut login, printed) = login_with_launcher(&env, &[("PATH", &path)]);
    let note = login.wait_line("a note that no browser is opened", |l| {
        l.contains("Not opening a browser")
    });
    assert!(note.contains("DISPLAY"), "{note}");
    complete(&env, &mut login, &printed);
    assert!(!record.exists(), "no opener may run without a display");
}

#[test]
fn with_a_display_the_system_opener_gets_the_url() {
    let env = TestEnv::new();
    let (_dir, record, path) = recording_openers();
    let (mut login, printed) = login_with_launcher(&env, &[("PATH", &path), ("DISPLAY", ":99")]);
    let launched = wait_for_file(&record);
    let opened = assert_private_forwarder(&launched, &printed);
    complete(&env, &mut login, &opened);
}

/// The launcher's argument is a private file (0600 in a 0700 folder) that carries no `state`
/// in its name and forwards the browser to exactly the printed URL: whoever reads the
/// launcher's command line learns nothing that completes the login.
fn assert_private_forwarder(launched: &str, printed: &str) -> String {
    let state = printed.split("state=").nth(1).unwrap_or("no state printed");
    assert!(
        !launched.contains(state),
        "the launcher saw the state: {launched}"
    );
    assert!(
        !launched.contains("://"),
        "the launcher got a URL: {launched}"
    );
    let path = std::path::Path::new(launched);
    assert_eq!(mode(path) & 0o777, 0o600, "{launched}");
    assert_eq!(mode(path.parent().unwrap()) & 0o777, 0o700, "{launched}");
    let forwarded = forwarded_url(path);
    assert_eq!(
        forwarded, printed,
        "the file forwards the browser to the printed URL"
    );
    forwarded
}

#[test]
fn spinner_on_a_terminal_says_what_it_waits_for_and_the_time_left() {
    let env = TestEnv::new();
    let redirect = format!("http://localhost:{}/callback", free_port());
    let args = [
        "login",
        "--flow",
        "advanced",
        "--app-id",
        APP_ID,
        "--redirect-url",
        &redirect,
        "--no-browser",
        "--timeout",
        "2",
    ];
    let Some(out) = env.run_in_tty(&args, &[("WIX_APP_SECRET", env.secret.as_str())]) else {
        return;
    };
    let screen = stdout(&out);
    assert!(
        screen.contains(&format!(
            "0:01 left · waiting for the browser at {redirect}"
        )) || screen.contains(&format!(
            "0:02 left · waiting for the browser at {redirect}"
        )),
        "{screen}"
    );
    // Each frame is cut to the terminal's width (80 columns here), so it never wraps.
    let frames: Vec<&str> = screen
        .split("\r\x1b[2K")
        .filter(|f| f.starts_with(['|', '/', '-', '\\']))
        .collect();
    assert!(!frames.is_empty(), "{screen}");
    for frame in frames {
        assert!(frame.chars().count() < 80, "{frame:?}");
    }
    assert_eq!(out.status.code(), Some(5), "{screen}");

    // Without a terminal: plain lines, no spinner, no carriage returns.
    let out = env.run(env.cmd().args(args).env("WIX_APP_SECRET", &env.secret));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        !err.contains("Waiting for the browser") && !err.contains('\r'),
        "{err}"
    );
}
