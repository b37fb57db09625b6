//! Commands driven directly, as gh tests its commands: a `Context` built from a fake
//! environment, an `Io` of buffers with a scripted prompter and a test browser, and the Wix
//! emulator on 127.0.0.1 (the same one the integration tests use).

use std::collections::HashMap;
use std::ffi::OsString;
use std::rc::Rc;

mod bounds;
mod doctor_logout;
mod headless_switch;
mod identities;

use super::{api, exec, login, logout, status, token};
use crate::app::context::Context;
use crate::core::error::Exit;
use crate::credentials::Freshness;
use crate::settings::env::Env;
use crate::settings::Flow;
use crate::ui::testing::{fake_io, Buffer, Recorder, Script};
use crate::ui::Io;

#[allow(unreachable_pub)] // shared with tests/it, where its items are `pub`
#[path = "../../../../tests/it/support/emulator.rs"]
mod emulator;
use emulator::Emulator;

const APP: &str = "app-unit-1";
const INSTANCE: &str = "inst-unit-1";

struct Harness {
    dir: tempfile::TempDir,
    emu: Emulator,
    secret: String,
    extra_env: Vec<(String, String)>,
}

impl Harness {
    fn new() -> Harness {
        let emu = Emulator::start();
        let secret = format!("unit-secret-{}", std::process::id());
        emu.register_app(APP, &secret, &["http://localhost:8338/callback"]);
        emu.install(APP, INSTANCE);
        Harness {
            dir: tempfile::tempdir().unwrap(),
            emu,
            secret,
            extra_env: vec![],
        }
    }

    fn env(&self) -> Env {
        let mut map: HashMap<String, OsString> = [
            ("WIXAUTH_CONFIG_DIR", self.dir.path().to_str().unwrap()),
            ("WIXAUTH_API_BASE", &self.emu.base()),
            ("WIXAUTH_INSTALLER_BASE", &self.emu.base()),
            ("WIXAUTH_SECRET_STORE", "file"),
            ("WIXAUTH_HTTP_TIMEOUT", "2"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
        for (k, v) in &self.extra_env {
            map.insert(k.clone(), v.into());
        }
        Env::from_lookup(|name| map.get(name).cloned()).unwrap()
    }

    fn ctx(&self, instance: Option<&str>) -> Context {
        Context::load(self.env(), None, instance).unwrap()
    }

    fn basic_login(&self) {
        let mut ctx = self.ctx(None);
        let (mut io, _, err) = fake_io(
            &format!("{}\n", self.secret),
            false,
            Script::default(),
            Recorder::default(),
        );
        login::run(
            &login_opts(Some(Flow::Basic), Some(INSTANCE), true),
            &mut ctx,
            &mut io,
        )
        .unwrap_or_else(|e| panic!("{e}: {}", err.text()));
    }

    fn assert_no_secret(&self, buffers: &[&Buffer]) {
        for b in buffers {
            assert!(
                !b.text().contains(&self.secret),
                "secret leaked: {}",
                b.text()
            );
        }
    }
}

fn login_opts(
    flow: Option<Flow>,
    instance: Option<&str>,
    secret_stdin: bool,
) -> login::LoginOptions {
    login::LoginOptions {
        flow,
        app_id: Some(APP.into()),
        client_id: None,
        prompt: None,
        force: false,
        instance_id: instance.map(str::to_string),
        secret_stdin,
        redirect_url: None,
        no_browser: false,
        no_close_window: false,
        accept_app_url: false,
        timeout: 20,
        json: false,
        site_id: None,
        account_id: None,
        check: None,
        env_file: None,
        from_file: None,
    }
}

fn token_opts(output: token::Output) -> token::TokenOptions {
    token::TokenOptions {
        flow: None,
        freshness: Freshness {
            min_ttl: 60,
            force: false,
        },
        output,
        fleet: Default::default(),
    }
}

fn quiet_io(stdin: &str) -> (Io, Buffer, Buffer) {
    fake_io(stdin, false, Script::default(), Recorder::default())
}

#[test]
fn a_first_login_on_a_terminal_asks_for_the_app_id_and_hidden_secret() {
    let h = Harness::new();
    let mut ctx = h.ctx(None);
    let script = Script::default();
    script.answer(APP).answer(&h.secret);
    let (mut io, out, err) = fake_io("", true, script.clone(), Recorder::default());
    let mut opts = login_opts(None, Some(INSTANCE), false);
    opts.app_id = None;
    login::run(&opts, &mut ctx, &mut io).unwrap();
    assert_eq!(
        *script.asked.borrow(),
        vec!["App ID".to_string(), "App secret (hidden)".to_string()]
    );
    // On a terminal the line is wrapped at word boundaries, nothing else changes.
    assert!(
        err.text().replace('\n', " ").contains(
            "Logged in: profile default (the default), app app-unit-1 (typed), instance inst-unit-1 (site \"Emulated Site\" (https://example.wixsite.com/emulated)), flow basic (an instance id was given)"
        ),
        "{}",
        err.text()
    );
    assert!(
        err.text().lines().all(|l| l.chars().count() <= 80),
        "{}",
        err.text()
    );
    assert!(out.text().is_empty());
    h.assert_no_secret(&[&out, &err]);

    // The token that proved the login is cached: `token` needs no request.
    let before = h.emu.count("/oauth2/token");
    let ctx = h.ctx(None);
    let (mut io, out, _) = quiet_io("");
    token::run(&token_opts(token::Output::Header), &ctx, &mut io).unwrap();
    assert!(
        out.text().starts_with("Authorization: OauthNG.JWS."),
        "{}",
        out.text()
    );
    assert_eq!(h.emu.count("/oauth2/token"), before);
}

#[test]
fn without_a_terminal_a_missing_secret_is_a_usage_error_and_nothing_is_asked() {
    let h = Harness::new();
    let mut ctx = h.ctx(None);
    let script = Script::default();
    let (mut io, _, _) = fake_io("", false, script.clone(), Recorder::default());
    let err = login::run(&login_opts(None, Some(INSTANCE), false), &mut ctx, &mut io).unwrap_err();
    assert_eq!(err.exit, Exit::Usage);
    assert!(err.message().contains("--secret-stdin"), "{err}");
    assert!(script.asked.borrow().is_empty());
}

#[test]
fn the_first_flow_question_offers_basic_first() {
    let h = Harness::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://localhost:{port}/callback");
    h.emu.register_app(APP, &h.secret, &[&redirect]);
    let mut ctx = h.ctx(None);
    // "advanced" is chosen; the browser then runs the legacy install through the emulator.
    let script = Script::default();
    script.answer("advanced").answer(&h.secret);
    let browser = visiting_browser();
    let (mut io, out, err) = fake_io("", true, script.clone(), browser.clone());
    let mut opts = login_opts(None, None, false);
    opts.redirect_url = Some(redirect);
    login::run(&opts, &mut ctx, &mut io).unwrap_or_else(|e| panic!("{e}: {}", err.text()));
    assert_eq!(script.asked.borrow()[0], "How does this app get tokens?");
    let opened = browser.opened.borrow();
    assert_eq!(opened.len(), 1);
    assert!(
        opened[0].contains("/installer/install?appId=app-unit-1"),
        "{opened:?}"
    );
    assert!(err.text().contains("flow advanced"), "{}", err.text());
    h.assert_no_secret(&[&out, &err]);
    // Wix's close-window page gets the access token (the browser thread follows the
    // listener's redirect there once the login has answered it); a refresh token is stored.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while h.emu.closed_windows().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(h.emu.closed_windows().len(), 1);
    let secrets = std::fs::read_to_string(h.dir.path().join("secrets.toml")).unwrap();
    assert!(secrets.contains("/refresh-token"), "{secrets}");
}

/// A browser that, on another thread, follows the installer URL through the emulator to the
/// login's own listener, as a person clicking "approve" would.
fn visiting_browser() -> Recorder {
    Recorder {
        visit: Some(Rc::new(|url: &str| {
            let url = url.to_string();
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .no_proxy()
                    .timeout(std::time::Duration::from_secs(10))
                    .build()
                    .unwrap();
                // The emulator's installer redirects to the callback, which redirects to
                // Wix's close-window page: all on 127.0.0.1.
                let _ = client.get(&url).send();
            });
        })),
        ..Recorder::default()
    }
}

#[test]
fn token_json_describes_the_cached_token() {
    let h = Harness::new();
    h.basic_login();
    let ctx = h.ctx(None);
    let (mut io, out, _) = quiet_io("");
    token::run(&token_opts(token::Output::Json), &ctx, &mut io).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out.text()).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "app_id",
            "expires_at",
            "expires_in",
            "flow",
            "instance_id",
            "token_type"
        ]
    );
    assert_eq!(v["flow"], "basic");
    assert!(v["expires_in"].as_i64().unwrap() > 14_000);
}

#[test]
fn warnings_from_below_reach_the_injected_stderr() {
    let h = Harness::new();
    h.basic_login();
    let ctx = h.ctx(None);
    let (mut io, out, err) = quiet_io("");
    let mut opts = token_opts(token::Output::Raw);
    opts.freshness = Freshness {
        min_ttl: 20_000,
        force: false,
    };
    token::run(&opts, &ctx, &mut io).unwrap();
    io.flush_notes(&ctx.notes);
    assert!(
        err.text()
            .starts_with("wixauth: warning: Wix issues tokens valid for 14400 s"),
        "{}",
        err.text()
    );
    assert_eq!(out.text().lines().count(), 1);
}

#[test]
fn api_reads_its_body_from_the_injected_stdin() {
    let h = Harness::new();
    h.basic_login();
    let ctx = h.ctx(None);
    let (mut io, out, _) = quiet_io("{\"from\":\"stdin\"}");
    let opts = api::ApiOptions {
        path: "/echo".into(),
        method: None,
        data: Some("@-".into()),
        headers: vec!["X-Custom: yes".into()],
        include: false,
        explain: false,
        fleet: Default::default(),
    };
    api::run(&opts, &ctx, &mut io).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out.text()).unwrap();
    assert_eq!(v["method"], "POST");
    assert_eq!(v["body"], "{\"from\":\"stdin\"}");
    assert_eq!(v["x_custom"], "yes");
}

#[test]
fn api_escapes_a_failing_body_for_a_terminal_only() {
    let h = Harness::new();
    h.basic_login();
    let ctx = h.ctx(None);
    let opts = api::ApiOptions {
        path: "/echo".into(),
        method: None,
        data: None,
        headers: vec![],
        include: false,
        explain: false,
        fleet: Default::default(),
    };
    for tty in [true, false] {
        h.emu.push_fault(
            "/echo",
            emulator::Fault::Body(404, "\u{1b}]0;owned\u{7}".into()),
        );
        let (mut io, out, err) = fake_io("", tty, Script::default(), Recorder::default());
        let e = api::run(&opts, &ctx, &mut io).unwrap_err();
        assert!(e.message().contains("HTTP 404"), "{e}");
        assert!(out.text().is_empty());
        let shown = err.text();
        match tty {
            true => assert!(
                shown.contains("\\u{1b}]0;owned\\u{7}") && !shown.contains('\u{1b}'),
                "{shown:?}"
            ),
            // A pipe gets Wix's bytes as they were.
            false => assert!(shown.contains("\u{1b}]0;owned\u{7}"), "{shown:?}"),
        }
    }
}

#[test]
fn an_answer_over_64_mib_is_refused_not_held() {
    let h = Harness::new();
    h.basic_login();
    let ctx = h.ctx(None);
    let opts = api::ApiOptions {
        path: "/echo".into(),
        method: None,
        data: Some("{}".into()), // a POST: not repeated
        headers: vec![],
        include: false,
        explain: false,
        fleet: Default::default(),
    };
    h.emu.push_fault(
        "/echo",
        emulator::Fault::Body(200, "x".repeat((64 << 20) + 1)),
    );
    let (mut io, out, _) = quiet_io("");
    let e = api::run(&opts, &ctx, &mut io).unwrap_err();
    assert_eq!(e.exit, crate::core::error::Exit::Unavailable, "{e}");
    assert!(e.message().contains("over 64 MiB"), "{e}");
    assert!(out.text().is_empty());
}

#[test]
fn status_then_logout_of_the_instance() {
    let h = Harness::new();
    h.basic_login();
    let ctx = h.ctx(None);
    let (mut io, out, _) = quiet_io("");
    status::run(
        &status::StatusOptions {
            json: true,
            check: false,
        },
        &ctx,
        &mut io,
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out.text()).unwrap();
    assert_eq!(v["ready"], true);
    assert_eq!(v["profiles"][0]["instances"][0]["instance_id"], INSTANCE);

    let mut ctx = h.ctx(Some(INSTANCE));
    let (mut io, out, err) = quiet_io("");
    logout_json(&mut ctx, &mut io);
    let v: serde_json::Value = serde_json::from_str(&out.text()).unwrap();
    assert_eq!(v["local_only"], true);
    assert!(
        err.text().contains("Logged out instance inst-unit-1"),
        "{}",
        err.text()
    );
    let ctx = h.ctx(None);
    let (mut io, _, _) = quiet_io("");
    let e = token::run(&token_opts(token::Output::Raw), &ctx, &mut io).unwrap_err();
    assert_eq!(e.exit, Exit::Usage);
}

#[test]
fn exec_reports_a_command_that_cannot_run() {
    let h = Harness::new();
    h.basic_login();
    let ctx = h.ctx(None);
    let (mut io, _, _) = quiet_io("");
    let missing = exec::ExecOptions {
        min_ttl: 60,
        command: vec!["/nonexistent/wixauth-test-command".into()],
        fleet: Default::default(),
        raw: false,
    };
    assert_eq!(
        exec::run(&missing, &ctx, &mut io).unwrap_err().exit,
        Exit::CommandNotFound
    );
    let not_executable = exec::ExecOptions {
        min_ttl: 60,
        command: vec![h.dir.path().join("config.toml").into_os_string()],
        fleet: Default::default(),
        raw: false,
    };
    assert_eq!(
        exec::run(&not_executable, &ctx, &mut io).unwrap_err().exit,
        Exit::CannotExecute
    );
}

#[test]
fn environment_credentials_need_no_config() {
    let mut h = Harness::new();
    h.extra_env = vec![
        ("WIX_APP_ID".into(), APP.into()),
        ("WIX_APP_SECRET".into(), h.secret.clone()),
        ("WIX_INSTANCE_ID".into(), INSTANCE.into()),
    ];
    let ctx = h.ctx(None);
    let (mut io, out, err) = quiet_io("");
    token::run(&token_opts(token::Output::Raw), &ctx, &mut io).unwrap();
    assert!(out.text().starts_with("OauthNG.JWS."));
    assert!(!h.dir.path().join("config.toml").exists());
    h.assert_no_secret(&[&out, &err]);
}

/// `wixauth logout --json` (one instance, no flags).
fn logout_json(ctx: &mut Context, io: &mut Io) {
    let opts = logout::LogoutOptions {
        all: false,
        json: true,
        yes: false,
        instance_flag: false,
    };
    logout::run(&opts, ctx, io).unwrap();
}

#[test]
fn logout_json_keeps_its_shape_when_nothing_is_logged_in() {
    let h = Harness::new();
    let mut ctx = h.ctx(None);
    let (mut io, out, _) = quiet_io("");
    logout_json(&mut ctx, &mut io);
    let v: serde_json::Value = serde_json::from_str(&out.text()).unwrap();
    assert_eq!(v["local_only"], true);
    assert_eq!(v["instance_id"], serde_json::Value::Null);
}

const CLIENT: &str = "client-unit-1";
