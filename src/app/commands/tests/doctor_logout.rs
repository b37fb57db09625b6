//! `doctor` and `logout --all`, driven directly.

use super::*;
use crate::app::commands::doctor;

fn doctor_run(h: &Harness, json: bool) -> (u8, String, String) {
    let mut ctx = h.ctx(None);
    let (mut io, out, err) = quiet_io("");
    let code = doctor::run(&doctor::DoctorOptions { json }, &mut ctx, &mut io).unwrap();
    (code, out.text(), err.text())
}

#[test]
fn doctor_checks_everything_and_says_how_to_fix_a_problem() {
    let mut h = Harness::new();
    h.extra_env = vec![
        (
            "HTTPS_PROXY".into(),
            "http://someone:proxy-pass-1@proxy.invalid:3128".into(),
        ),
        (
            "http_proxy".into(),
            "other:pass-2@proxy2.invalid:8080".into(),
        ),
    ];
    h.basic_login();
    let (code, out, _) = doctor_run(&h, true);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true, "{v:#}");
    assert_eq!(code, 0);
    let checks = v["checks"].as_array().unwrap();
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "secret store",
            "config folder",
            "clock",
            "credentials of profile default",
            "redirect port",
            "browser",
            "proxies"
        ]
    );
    for c in checks {
        let mut keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["detail", "fix", "name", "ok"], "{c}");
    }
    let detail = |name: &str| detail_of(checks, name);
    assert!(
        detail("clock").starts_with("within "),
        "{}",
        detail("clock")
    );
    // A basic-flow profile listens on no port; no display here: both do not apply.
    assert!(detail("redirect port").starts_with("not applicable"));
    assert!(detail("browser").starts_with("not applicable"));
    let proxies = detail("proxies");
    assert!(
        proxies.contains("HTTPS_PROXY=http://proxy.invalid:3128/"),
        "{proxies}"
    );
    assert!(
        proxies.contains("http_proxy=http://proxy2.invalid:8080/"),
        "{proxies}"
    );
    for hidden in ["proxy-pass-1", "someone", "pass-2", "other:"] {
        assert!(!out.contains(hidden), "{hidden}: {out}");
    }
    h.assert_no_secret(&[]);

    // Human output: one line per check.
    let (_, text, _) = doctor_run(&h, false);
    assert_eq!(text.lines().count(), checks.len(), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("n/a     browser: ")),
        "{text}"
    );

    // Without the app secret no token can be minted: a problem, its fix, exit 1.
    std::fs::remove_file(h.dir.path().join("secrets.toml")).unwrap();
    let (code, out, _) = doctor_run(&h, true);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], false);
    let c = &v["checks"][3];
    assert_eq!(c["ok"], false, "{c}");
    assert!(
        c["detail"].as_str().unwrap().contains("no app secret"),
        "{c}"
    );
    let (_, text, _) = doctor_run(&h, false);
    let line = text
        .lines()
        .find(|l| l.starts_with("PROBLEM credentials"))
        .unwrap();
    assert!(
        line.contains("(fix: ") && !line.contains("as the message says"),
        "{line}"
    );
}

/// The `detail` of the check called `name`.
fn detail_of(checks: &[serde_json::Value], name: &str) -> String {
    let check = checks.iter().find(|c| c["name"] == name).unwrap();
    check["detail"].as_str().unwrap().to_string()
}

#[test]
fn doctor_reports_a_busy_redirect_port_until_it_is_free() {
    let h = Harness::new();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    std::fs::write(
        h.dir.path().join("config.toml"),
        format!("[profiles.default]\napp_id = \"{APP}\"\nflow = \"advanced\"\nredirect_url = \"http://127.0.0.1:{port}/callback\"\n"),
    )
    .unwrap();
    let (code, out, _) = doctor_run(&h, true);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "redirect port of profile default")
        .unwrap()
        .clone();
    assert_eq!(c["ok"], false, "{c}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{port}")),
        "{c}"
    );
    drop(busy);
    let (_, out, _) = doctor_run(&h, true);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "redirect port of profile default")
        .unwrap()
        .clone();
    assert_eq!(c["ok"], true, "{c}");
}

#[test]
fn logout_all_asks_on_a_terminal_and_conflicts_with_instance() {
    let h = Harness::new();
    h.basic_login();
    let opts = |yes, instance_flag| logout::LogoutOptions {
        all: true,
        json: false,
        yes,
        instance_flag,
    };
    let logged_in = |h: &Harness| h.ctx(None).active_profile().is_some();
    let run = |o: &logout::LogoutOptions, tty: bool, script: Script| {
        let mut ctx = h.ctx(None);
        let (mut io, _, err) = fake_io("", tty, script, Recorder::default());
        (logout::run(o, &mut ctx, &mut io), err.text())
    };
    let (outcome, _) = run(&opts(true, true), false, Script::default());
    assert_eq!(outcome.unwrap_err().exit, Exit::Usage);
    assert!(logged_in(&h));

    let script = Script::default();
    script.answer("no");
    let (outcome, err) = run(&opts(false, false), true, script.clone());
    // Declining is the person's answer, not an error: exit 1, one plain line.
    assert_eq!(outcome.unwrap(), Exit::Failure as u8);
    assert!(
        err.contains("nothing was removed") && !err.contains("error"),
        "{err}"
    );
    assert_eq!(
        *script.asked.borrow(),
        vec!["Forget profile default (app secret, 1 instance(s), cached tokens)?".to_string()]
    );
    assert!(logged_in(&h));
    assert!(h.dir.path().join("secrets.toml").exists());

    let script = Script::default();
    script.answer("yes");
    let (outcome, err) = run(&opts(false, false), true, script);
    outcome.unwrap();
    assert!(err.contains("Logged out of profile default"), "{err}");
    assert!(!logged_in(&h));

    // --yes: nothing is asked (the script has no answer, so a question would fail).
    h.basic_login();
    let (outcome, _) = run(&opts(true, false), true, Script::default());
    outcome.unwrap();
    assert!(!logged_in(&h));
}
