//! Headless logins and `switch`, driven directly.

use super::*;
use crate::app::commands::switch;

fn headless_opts(flow: Flow) -> login::LoginOptions {
    let mut opts = login_opts(Some(flow), None, false);
    opts.app_id = None;
    opts.client_id = Some(CLIENT.into());
    opts
}

#[test]
fn switching_an_app_profile_to_headless_asks_on_a_terminal() {
    let h = Harness::new();
    h.emu
        .register_headless(CLIENT, &["http://localhost:8338/callback"]);
    h.basic_login();
    let opts = headless_opts(Flow::Visitor);

    let script = Script::default();
    script.answer("no");
    let (mut io, _, _) = fake_io("", true, script.clone(), Recorder::default());
    let mut ctx = h.ctx(None);
    let err = login::run(&opts, &mut ctx, &mut io).unwrap_err();
    assert_eq!(err.exit, Exit::Usage);
    assert!(script.asked.borrow()[0].contains("Switch it to a Wix Headless client"));
    assert!(h.ctx(None).active_profile().unwrap().app_id.is_some());

    let script = Script::default();
    script.answer("yes");
    let (mut io, _, err) = fake_io("", true, script, Recorder::default());
    let mut ctx = h.ctx(None);
    login::run(&opts, &mut ctx, &mut io).unwrap_or_else(|e| panic!("{e}: {}", err.text()));
    let ctx = h.ctx(None);
    let profile = ctx.active_profile().unwrap();
    assert_eq!(profile.client_id.as_deref(), Some(CLIENT));
    assert!(profile.app_id.is_none() && profile.instances.is_empty());
    let secrets = std::fs::read_to_string(h.dir.path().join("secrets.toml")).unwrap();
    assert!(!secrets.contains("app-secret"), "{secrets}");
}

#[test]
fn member_login_opens_wix_login_page_and_stores_the_member() {
    let h = Harness::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://localhost:{port}/callback");
    h.emu.register_headless(CLIENT, &[&redirect]);
    let mut opts = headless_opts(Flow::Member);
    opts.redirect_url = Some(redirect);
    let browser = visiting_browser();
    let (mut io, out, err) = fake_io("", false, Script::default(), browser.clone());
    let mut ctx = h.ctx(None);
    login::run(&opts, &mut ctx, &mut io).unwrap_or_else(|e| panic!("{e}: {}", err.text()));
    assert!(browser.opened.borrow()[0].contains("/headless-login?session="));
    assert!(err.text().contains("flow member"), "{}", err.text());
    h.assert_no_secret(&[&out, &err]);
    let ctx = h.ctx(None);
    let session = ctx.session();
    let target = session.resolve(None, None).unwrap();
    assert_eq!(target.flow, Flow::Member);
    let (mut io, out, _) = quiet_io("");
    token::run(&token_opts(token::Output::Raw), &ctx, &mut io).unwrap();
    assert!(out.text().starts_with("OauthNG.JWS.hl"), "{}", out.text());
}

#[test]
fn the_first_login_question_offers_the_headless_flows_and_asks_for_the_client_id() {
    let h = Harness::new();
    h.emu
        .register_headless(CLIENT, &["http://localhost:8338/callback"]);
    let script = Script::default();
    script.answer("visitor").answer(CLIENT);
    let (mut io, out, err) = fake_io("", true, script.clone(), Recorder::default());
    let mut opts = login_opts(None, None, false);
    opts.app_id = None;
    let mut ctx = h.ctx(None);
    login::run(&opts, &mut ctx, &mut io).unwrap_or_else(|e| panic!("{e}: {}", err.text()));
    let asked = script.asked.borrow();
    assert_eq!(asked[0], "How does this app get tokens?");
    assert!(asked[1].starts_with("Client ID"), "{asked:?}");
    assert!(err.text().contains("flow visitor"), "{}", err.text());
    assert!(out.text().is_empty());
}

fn switch_to(
    h: &Harness,
    profile: Option<&str>,
    instance: Option<&str>,
    tty: bool,
    script: Script,
) -> (crate::core::error::Result<()>, String) {
    let mut ctx = h.ctx(None);
    let (mut io, out, err) = fake_io("", tty, script, Recorder::default());
    let opts = switch::SwitchOptions {
        profile: profile.map(str::to_string),
        instance: instance.map(str::to_string),
    };
    let outcome = switch::run(&opts, &mut ctx, &mut io);
    assert!(out.text().is_empty(), "switch prints nothing on stdout");
    (outcome, err.text())
}

/// A basic login of inst-unit-2 beside the Harness's instance.
fn login_second_instance(h: &Harness) {
    let mut ctx = h.ctx(None);
    let (mut io, _, err) = quiet_io(&format!("{}\n", h.secret));
    let opts = login_opts(Some(Flow::Basic), Some("inst-unit-2"), true);
    login::run(&opts, &mut ctx, &mut io).unwrap_or_else(|e| panic!("{e}: {}", err.text()));
}

#[test]
fn switch_sets_the_default_instance_and_the_active_profile() {
    let h = Harness::new();
    h.basic_login();
    h.emu.install(APP, "inst-unit-2");
    login_second_instance(&h);
    let default = |h: &Harness| {
        h.ctx(None)
            .active_profile()
            .and_then(|p| p.default_instance.clone())
    };
    assert_eq!(default(&h).as_deref(), Some("inst-unit-2"));

    // By flag: only an instance logged in for the profile.
    let (outcome, err) = switch_to(&h, None, Some(INSTANCE), false, Script::default());
    outcome.unwrap();
    assert_eq!(
        err,
        "Default instance set: profile default, instance inst-unit-1 (site \"Emulated Site\").\n"
    );
    assert_eq!(default(&h).as_deref(), Some(INSTANCE));
    let (outcome, _) = switch_to(&h, None, Some("inst-other"), false, Script::default());
    let e = outcome.unwrap_err();
    assert_eq!(e.exit, Exit::Usage);
    assert!(e.message().contains("inst-unit-1, inst-unit-2"), "{e}");
    assert_eq!(default(&h).as_deref(), Some(INSTANCE), "unchanged");
    let (outcome, _) = switch_to(&h, Some("nope"), None, false, Script::default());
    assert_eq!(outcome.unwrap_err().exit, Exit::Usage);

    // No flags and no terminal: nothing is asked, exit 2.
    let script = Script::default();
    let (outcome, _) = switch_to(&h, None, None, false, script.clone());
    assert_eq!(outcome.unwrap_err().exit, Exit::Usage);
    assert!(script.asked.borrow().is_empty());

    // On a terminal: one profile, so only the instance is asked.
    let script = Script::default();
    script.answer("inst-unit-2");
    let (outcome, err) = switch_to(&h, None, None, true, script.clone());
    outcome.unwrap();
    assert_eq!(
        *script.asked.borrow(),
        vec!["Default instance of profile default".to_string()]
    );
    assert_eq!(
        err,
        "Active: profile default, instance inst-unit-2 (site \"Emulated Site\").\n"
    );
    assert_eq!(default(&h).as_deref(), Some("inst-unit-2"));

    // A second profile becomes the one commands use when no flag or variable names one.
    let mut ctx = Context::load(h.env(), Some("work"), None).unwrap();
    let (mut io, _, err) = quiet_io(&format!("{}\n", h.secret));
    login::run(
        &login_opts(Some(Flow::Basic), Some(INSTANCE), true),
        &mut ctx,
        &mut io,
    )
    .unwrap_or_else(|e| panic!("{e}: {}", err.text()));
    assert_eq!(h.ctx(None).profile, "default");
    let (outcome, err) = switch_to(&h, Some("work"), None, false, Script::default());
    outcome.unwrap();
    assert_eq!(
        err,
        "Active: profile work, instance inst-unit-1 (site \"Emulated Site\").\n"
    );
    assert_eq!(h.ctx(None).profile, "work");
    let config = std::fs::read_to_string(h.dir.path().join("config.toml")).unwrap();
    assert!(config.contains("active_profile = \"work\""), "{config}");
    // The flag still wins.
    assert_eq!(
        Context::load(h.env(), Some("default"), None)
            .unwrap()
            .profile,
        "default"
    );
    // On a terminal with two profiles, the profile is asked first.
    let script = Script::default();
    script.answer("default").answer("inst-unit-1");
    let (outcome, _) = switch_to(&h, None, None, true, script.clone());
    outcome.unwrap();
    assert_eq!(script.asked.borrow()[0], "Active profile");
    assert_eq!(h.ctx(None).profile, "default");
    assert_eq!(default(&h).as_deref(), Some(INSTANCE));
}
