//! Consistent output (issue 4, item 7): `--json` is one document on stdout, notes go to
//! stderr, no colour escapes, and the help topics.

use crate::support::*;

use std::process::Output;

/// Asserts `out` succeeded with exactly one JSON document (an object, one line or pretty,
/// ending in a newline) on stdout, and only human notes on stderr.
fn assert_one_json_document(what: &str, out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{what}: {}", stderr(out));
    let text = stdout(out);
    assert!(
        text.ends_with('\n'),
        "{what}: stdout ends with a newline: {text:?}"
    );
    let value: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{what}: stdout is not one JSON document ({e}):\n{text}"));
    assert!(value.is_object(), "{what}: {value}");
    // A second document (or a stray note) after the first would have failed from_str;
    // check the stream splits into exactly one value all the same.
    let values: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&text)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(values.len(), 1, "{what}: {text}");

    let err = stderr(out);
    for line in err.lines() {
        let trimmed = line.trim_start();
        assert!(
            !trimmed.starts_with('{') && !trimmed.starts_with('['),
            "{what}: data on stderr: {line:?}"
        );
        assert!(
            serde_json::from_str::<serde_json::Value>(trimmed).is_err() || trimmed.is_empty(),
            "{what}: JSON on stderr: {line:?}"
        );
        assert!(!line.contains("wixauth: error"), "{what}: {err}");
    }
    value
}

#[test]
fn every_json_report_is_one_document_on_stdout() {
    let env = TestEnv::new();
    let login = env.login_with(
        &["--app-id", APP_ID, "--instance-id", INSTANCE, "--json"],
        &env.secret,
    );
    let v = assert_one_json_document("login --json", &login);
    assert_eq!(v["instance_id"], INSTANCE);
    assert!(
        !stderr(&login).is_empty(),
        "login's human summary stays on stderr"
    );

    let runs: &[&[&str]] = &[
        &["token", "--json"],
        &["token", "--json", "--no-cache"],
        &["status", "--json"],
        &["status", "--json", "--check"],
        &["bi-event", "finished", "--json"],
        &["whoami", "--json"],
        &["install-url", "--json"],
        &["install-url", "--json", "--flow", "advanced"],
        &["logout", "--json"],
        &["logout", "--json"],
        &["logout", "--all", "--json"],
    ];
    for args in runs {
        let out = env.run(env.cmd().args(*args));
        let what = args.join(" ");
        assert_one_json_document(&what, &out);
    }
}

#[test]
fn whoami_json_with_a_warning_keeps_the_warning_off_stdout() {
    let env = TestEnv::new();
    env.login_basic();
    env.emu.deny_instance_read(true);
    let out = env.run(env.cmd().args(["whoami", "--json"]));
    let v = assert_one_json_document("whoami --json (403)", &out);
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(1), "{v}");
}

#[test]
fn without_json_stdout_is_only_the_data() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().arg("token"));
    assert!(out.status.success(), "{}", stderr(&out));
    let token = env.cached_token();
    assert_eq!(stdout(&out), format!("{token}\n"));

    // A fresh token (network, store reads) still prints nothing else on stdout.
    let out = env.run(env.cmd().args(["token", "--no-cache", "-v"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let fresh = env.cached_token();
    assert_eq!(stdout(&out), format!("{fresh}\n"));
    assert!(!stderr(&out).is_empty(), "-v logs to stderr");
    assert!(
        !stderr(&out).contains(&fresh),
        "the debug log redacts the token"
    );

    // Commands whose result is a confirmation print nothing on stdout.
    for args in [&["bi-event", "finished"][..], &["logout"][..]] {
        let out = env.run(env.cmd().args(args));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
        assert!(
            !out.stderr.is_empty(),
            "{args:?}: the confirmation is on stderr"
        );
    }
}

/// Commands covering every kind of output: data, reports, notes, wixauth errors and clap's
/// own help and usage errors.
const BATTERY: &[&[&str]] = &[
    &["--help"],
    &["-h"],
    &["--version"],
    &["help", "token"],
    &["help", "environment"],
    &["help", "bogus"],
    &["bogus-command"],
    &["token", "--bogus-flag"],
    &["token"],
    &["token", "--json"],
    &["token", "--header"],
    &["status"],
    &["status", "--json"],
    &["whoami"],
    &["whoami", "--json"],
    &["bi-event", "finished"],
    &["bi-event", "nope"],
    &["install-url"],
    &["api", "/echo"],
    &["api", "/status/404"],
    &["api", "http://127.0.0.2:1/x"],
    &["exec"],
    &["exec", "--", "sh", "-c", "echo out; echo err >&2"],
    &["--instance", "inst-unknown", "token"],
];

fn assert_no_escape(what: &str, text: &str) {
    assert!(
        !text.contains('\u{1b}'),
        "{what}: an escape sequence in:\n{text:?}"
    );
}

#[test]
fn no_colour_escapes_with_or_without_no_color() {
    let env = TestEnv::new();
    env.login_basic();
    env.emu.deny_instance_read(true);
    for no_color in [None, Some("1")] {
        for args in BATTERY {
            let mut cmd = env.cmd();
            cmd.args(*args);
            if let Some(v) = no_color {
                cmd.env("NO_COLOR", v);
            }
            let out = env.run(no_outside_network(&mut cmd));
            let what = format!("NO_COLOR={no_color:?} {args:?}");
            assert_no_escape(&what, &stdout(&out));
            assert_no_escape(&what, &stderr(&out));
        }
    }
}

#[test]
fn on_a_terminal_no_color_is_honoured() {
    let env = TestEnv::new();
    env.login_basic();
    env.emu.deny_instance_read(true);
    for args in BATTERY {
        let Some(out) = env.run_in_tty(args, &[("NO_COLOR", "1")]) else {
            return;
        };
        assert!(
            !out.stdout.is_empty(),
            "{args:?}: the terminal shows something"
        );
        assert_no_escape(
            &format!("NO_COLOR=1 on a terminal: {args:?}"),
            &stdout(&out),
        );
    }
}

#[test]
fn on_a_terminal_wixauth_own_output_is_plain() {
    let env = TestEnv::new();
    env.login_basic();
    env.emu.deny_instance_read(true);
    // wixauth writes no colour itself (clap's help and usage errors are clap's business and
    // follow NO_COLOR, tested above).
    let own: &[&[&str]] = &[
        &["token"],
        &["token", "--json"],
        &["status"],
        &["whoami"],
        &["bi-event", "finished"],
        &["bi-event", "nope"],
        &["install-url"],
        &["api", "/echo"],
        &["api", "/status/404"],
        &["help", "token"],
        &["help", "environment"],
        &["help", "bogus"],
    ];
    for args in own {
        let Some(out) = env.run_in_tty(args, &[]) else {
            return;
        };
        assert!(
            !out.stdout.is_empty(),
            "{args:?}: the terminal shows something"
        );
        assert_no_escape(&format!("on a terminal: {args:?}"), &stdout(&out));
    }
}

#[test]
fn help_environment_lists_the_variables() {
    let env = TestEnv::new();
    let out = env.run(env.cmd().args(["help", "environment"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let text = stdout(&out);
    for var in [
        "WIX_APP_SECRET",
        "WIXAUTH_SECRET_STORE",
        "WIX_APP_ID",
        "WIXAUTH_CONFIG_DIR",
        "NO_COLOR",
    ] {
        assert!(
            text.lines()
                .any(|l| l.trim() == var || l.trim_start().starts_with(&format!("{var} "))),
            "{var} is not listed:\n{text}"
        );
    }
}

#[test]
fn help_for_a_command_prints_its_help() {
    let env = TestEnv::new();
    let out = env.run(env.cmd().args(["help", "token"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Print a valid access token"), "{text}");
    for option in ["--header", "--json", "--min-ttl", "--no-cache", "--flow"] {
        assert!(text.contains(option), "{option} missing:\n{text}");
    }
    assert!(
        !text.contains("--secret-stdin"),
        "login's options are not token's:\n{text}"
    );

    let out = env.run(env.cmd().args(["help", "api"]));
    assert!(out.status.success(), "{}", stderr(&out));
    for option in ["--include", "--data", "--header", "--method"] {
        assert!(
            stdout(&out).contains(option),
            "{option} missing:\n{}",
            stdout(&out)
        );
    }

    let out = env.run(env.cmd().arg("help"));
    assert!(out.status.success(), "{}", stderr(&out));
    for command in [
        "login",
        "token",
        "bi-event",
        "api",
        "exec",
        "whoami",
        "install-url",
        "completions",
    ] {
        assert!(
            stdout(&out).contains(command),
            "{command} missing:\n{}",
            stdout(&out)
        );
    }
}

#[test]
fn help_for_an_unknown_topic_is_exit_2() {
    let env = TestEnv::new();
    for args in [&["help", "bogus"][..], &["help", "token", "bogus"][..]] {
        let out = env.run(env.cmd().args(args));
        let line = assert_fails(&out, 2);
        assert!(line.contains("bogus"), "{line}");
    }
}
