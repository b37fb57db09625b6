//! Headless admin and API key logins on a terminal, driven directly: a stored secret Wix
//! turns down (rotated in the dashboard, revoked in the API Keys Manager) is asked for again,
//! hidden, and the new one is stored.

use super::*;

const ADMIN_CLIENT: &str = "client-unit-admin";
const SITE: &str = "site-unit-1";

fn admin_opts(secret_stdin: bool) -> login::LoginOptions {
    let mut opts = login_opts(Some(Flow::Admin), None, secret_stdin);
    opts.app_id = None;
    opts.client_id = Some(ADMIN_CLIENT.into());
    opts
}

fn key_opts(secret_stdin: bool) -> login::LoginOptions {
    let mut opts = login_opts(Some(Flow::ApiKey), None, secret_stdin);
    opts.app_id = None;
    opts.site_id = Some(SITE.into());
    opts.check = Some("/site-properties/v4/properties".into());
    opts
}

fn stored(h: &Harness, entry: &str) -> Option<String> {
    let text = std::fs::read_to_string(h.dir.path().join("secrets.toml")).ok()?;
    let table: toml::Table = toml::from_str(&text).unwrap();
    table
        .get(entry)
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

#[test]
fn a_rotated_client_secret_is_asked_for_hidden_on_a_terminal_and_stored() {
    let h = Harness::new();
    h.emu.register_headless(ADMIN_CLIENT, &[]);
    h.emu.register_client_secret(ADMIN_CLIENT, "first-secret");
    let (mut io, _, err) = quiet_io("first-secret\n");
    login::run(&admin_opts(true), &mut h.ctx(None), &mut io)
        .unwrap_or_else(|e| panic!("{e}: {}", err.text()));
    h.emu.register_client_secret(ADMIN_CLIENT, "second-secret");

    let script = Script::default();
    script.answer("second-secret");
    let (mut io, out, err) = fake_io("", true, script.clone(), Recorder::default());
    login::run(&admin_opts(false), &mut h.ctx(None), &mut io)
        .unwrap_or_else(|e| panic!("{e}: {}", err.text()));
    assert_eq!(*script.asked.borrow(), ["Current client secret (hidden)"]);
    assert!(
        err.text().contains("Wix rejected the stored client secret"),
        "{}",
        err.text()
    );
    let entry = format!("default/client-secret#{ADMIN_CLIENT}");
    assert_eq!(stored(&h, &entry).as_deref(), Some("second-secret"));
    for text in [out.text(), err.text()] {
        assert!(
            !text.contains("first-secret") && !text.contains("second-secret"),
            "{text}"
        );
    }
}

#[test]
fn a_revoked_api_key_is_asked_for_again_on_a_terminal_when_check_refuses_it() {
    let h = Harness::new();
    h.emu
        .register_api_key("IST.unit-old", "account-unit", &[SITE], &[]);
    h.emu
        .register_api_key("IST.unit-new", "account-unit", &[SITE], &[]);
    let (mut io, _, err) = quiet_io("IST.unit-old\n");
    login::run(&key_opts(true), &mut h.ctx(None), &mut io)
        .unwrap_or_else(|e| panic!("{e}: {}", err.text()));
    h.emu.revoke_api_key("IST.unit-old");

    // Without a terminal: exit 3, naming --secret-stdin, and the stored key is kept.
    let (mut io, _, _) = quiet_io("");
    let e = login::run(&key_opts(false), &mut h.ctx(None), &mut io).unwrap_err();
    assert_eq!(e.exit, Exit::Rejected);
    assert!(
        e.message().contains("the stored API key no longer works"),
        "{e}"
    );
    assert!(e.message().contains("--secret-stdin"), "{e}");
    assert_eq!(
        stored(&h, "default/api-key").as_deref(),
        Some("IST.unit-old")
    );

    let script = Script::default();
    script.answer("IST.unit-new");
    let (mut io, _, err) = fake_io("", true, script.clone(), Recorder::default());
    login::run(&key_opts(false), &mut h.ctx(None), &mut io)
        .unwrap_or_else(|e| panic!("{e}: {}", err.text()));
    assert_eq!(*script.asked.borrow(), ["Current API key (hidden)"]);
    assert_eq!(
        stored(&h, "default/api-key").as_deref(),
        Some("IST.unit-new")
    );
}

#[test]
fn a_first_admin_login_on_a_terminal_asks_for_the_client_id_and_the_hidden_secret() {
    let h = Harness::new();
    h.emu.register_headless(ADMIN_CLIENT, &[]);
    h.emu.register_client_secret(ADMIN_CLIENT, "typed-secret");
    let script = Script::default();
    script.answer(ADMIN_CLIENT).answer("typed-secret");
    let (mut io, _, err) = fake_io("", true, script.clone(), Recorder::default());
    let mut opts = admin_opts(false);
    opts.client_id = None;
    login::run(&opts, &mut h.ctx(None), &mut io).unwrap_or_else(|e| panic!("{e}: {}", err.text()));
    assert_eq!(
        *script.asked.borrow(),
        ["Client ID", "Client secret (hidden)"]
    );
}
