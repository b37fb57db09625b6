//! `wixauth api PATH`: authenticated requests to the Wix REST API (issue 4, item 2).

use crate::support::*;

use serde_json::{json, Value};

fn api(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.run(no_outside_network(env.cmd().arg("api").args(args)))
}

/// The exact bytes the emulator's /echo answers for a request.
fn echo_body(
    method: &str,
    query: &str,
    body: &str,
    content_type: Option<&str>,
    x_custom: Option<&str>,
) -> String {
    json!({"method": method, "query": query, "body": body, "content_type": content_type, "x_custom": x_custom})
        .to_string()
}

fn echoed(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    json_out(out)
}

#[test]
fn get_prints_the_body_unchanged() {
    let env = TestEnv::new();
    env.login_basic();
    let token = env.token_ok(&[]);
    let out = api(&env, &["/echo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Byte for byte: stdout is not a TTY, so no pretty-printing and no added newline.
    assert_eq!(stdout(&out), echo_body("GET", "", "", None, None));
    assert!(out.stderr.is_empty(), "stderr: {}", stderr(&out));
    let seen = env.seen_at("/echo");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].header("authorization"), Some(token.as_str()));
    assert_eq!(
        seen[0].header("content-type"),
        None,
        "no body, no content type"
    );
}

#[test]
fn path_forms_all_reach_the_api() {
    let env = TestEnv::new();
    env.login_basic();
    let full = format!("{}/echo?x=1", env.emu.base());
    for path in ["/echo?x=1", "echo?x=1", full.as_str()] {
        let out = api(&env, &[path]);
        assert_eq!(
            stdout(&out),
            echo_body("GET", "x=1", "", None, None),
            "{path}: {}",
            stderr(&out)
        );
    }
    assert_eq!(env.emu.count("/echo"), 3);
}

#[test]
fn a_url_inside_the_query_is_still_a_path() {
    let env = TestEnv::new();
    env.login_basic();
    let out = api(&env, &["/echo?next=https://example.com/x"]);
    let v = echoed(&out);
    assert_eq!(v["query"], "next=https://example.com/x");
    assert_eq!(env.emu.count("/echo"), 1);
}

#[test]
fn other_hosts_are_refused_before_any_request() {
    let env = TestEnv::new();
    env.login_basic();
    // A second server on loopback: if wixauth ever sent the token there, it would show up.
    let other = Emulator::start();
    let port = env.emu.addr.port();
    let before = env.emu.seen().len();
    let refused = [
        "http://example.com/x".to_string(),
        "https://example.com/echo".to_string(),
        "https://www.wixapis.com.evil.example/echo".to_string(),
        "//evil/x".to_string(),
        "//example.com/echo".to_string(),
        format!("{}/echo", other.base()),
        format!("http://localhost:{port}/echo"),
        format!("http://127.0.0.2:{port}/echo"),
        format!("https://127.0.0.1:{port}/echo"),
        format!("http://user:pw@127.0.0.1:{port}/echo"),
    ];
    for url in &refused {
        let out = api(&env, &[url]);
        let line = assert_fails(&out, 2);
        assert!(line.contains("refusing"), "{url}: {line}");
    }
    assert_eq!(
        env.emu.seen().len(),
        before,
        "no request at all, not even for a token"
    );
    assert!(other.seen().is_empty(), "the token went to another server");
}

#[test]
fn method_option() {
    let env = TestEnv::new();
    env.login_basic();
    for method in ["PUT", "DELETE", "patch"] {
        let v = echoed(&api(&env, &["-X", method, "/echo"]));
        assert_eq!(v["method"], method.to_ascii_uppercase());
    }
    let out = api(&env, &["-X", "NOT A METHOD", "/echo"]);
    assert_fails(&out, 2);
}

#[test]
fn data_makes_a_json_post() {
    let env = TestEnv::new();
    env.login_basic();
    let out = api(&env, &["/echo", "-d", r#"{"a":1}"#]);
    assert_eq!(
        stdout(&out),
        echo_body("POST", "", r#"{"a":1}"#, Some("application/json"), None),
        "{}",
        stderr(&out)
    );
    // An explicit method wins over the POST default.
    let v = echoed(&api(&env, &["-X", "PATCH", "/echo", "--data", "[1, 2]"]));
    assert_eq!(v["method"], "PATCH");
    assert_eq!(v["body"], "[1, 2]");
}

#[test]
fn data_from_a_file_and_from_stdin() {
    let env = TestEnv::new();
    env.login_basic();
    let file = env.dir.path().join("body.json");
    let text = "{\n  \"query\": {\"paging\": {\"limit\": 5}}\n}\n";
    std::fs::write(&file, text).unwrap();
    let v = echoed(&api(
        &env,
        &["/echo", "-d", &format!("@{}", file.display())],
    ));
    assert_eq!(v["method"], "POST");
    assert_eq!(v["body"], text, "the file is sent as it is");
    assert_eq!(v["content_type"], "application/json");

    let out = env.run(
        no_outside_network(env.cmd().args(["api", "/echo", "-d", "@-"]))
            .write_stdin(r#"{"from":"stdin"}"#),
    );
    let v = echoed(&out);
    assert_eq!(v["method"], "POST");
    assert_eq!(v["body"], r#"{"from":"stdin"}"#);
}

#[test]
fn bad_bodies_are_exit_2_without_a_request() {
    let env = TestEnv::new();
    env.login_basic();
    let missing = env.dir.path().join("missing-body.json");
    let before = env.emu.seen().len();

    let out = api(&env, &["/echo", "-d", &format!("@{}", missing.display())]);
    let line = assert_fails(&out, 2);
    assert!(line.contains("missing-body.json"), "names the file: {line}");

    for bad in ["{oops", "", "not json", r#"{"a":1} trailing"#] {
        let out = api(&env, &["/echo", "-d", bad]);
        let line = assert_fails(&out, 2);
        assert!(line.contains("JSON"), "{bad:?}: {line}");
    }
    let out = env
        .run(no_outside_network(env.cmd().args(["api", "/echo", "-d", "@-"])).write_stdin("{nope"));
    assert_fails(&out, 2);

    assert_eq!(env.emu.seen().len(), before);
}

#[test]
fn headers_arrive_and_bad_ones_are_exit_2() {
    let env = TestEnv::new();
    env.login_basic();
    let v = echoed(&api(&env, &["/echo", "-H", "X-Custom: some value"]));
    assert_eq!(v["x_custom"], "some value");
    // A Content-Type header replaces the default one for a body.
    let v = echoed(&api(
        &env,
        &[
            "/echo",
            "-H",
            "Content-Type: application/merge-patch+json",
            "-H",
            "x-custom:v2",
            "-d",
            "{}",
        ],
    ));
    assert_eq!(v["content_type"], "application/merge-patch+json");
    assert_eq!(v["x_custom"], "v2");

    let before = env.emu.seen().len();
    for bad in [
        "X-Custom",
        "X-Custom v",
        ": v",
        "X Custom: v",
        "X-Custom(1): v",
        "X-Custom: a\u{1}b",
        "X-Custom: a\u{7f}b",
        "Authorization: other-token",
    ] {
        let out = api(&env, &["/echo", "-H", bad]);
        let line = assert_fails(&out, 2);
        assert!(line.contains("-H"), "{bad:?}: {line}");
    }
    assert_eq!(env.emu.seen().len(), before);
}

#[test]
fn include_prints_status_and_headers_first() {
    let env = TestEnv::new();
    env.login_basic();
    let out = api(&env, &["--include", "/echo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let (head, body) = text
        .split_once("\n\n")
        .expect("a blank line after the headers");
    let mut lines = head.lines();
    let status = lines.next().unwrap();
    assert!(
        status.starts_with("HTTP/") && status.contains("200"),
        "{status}"
    );
    let headers: Vec<&str> = lines.collect();
    assert!(
        headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("content-type: application/json")),
        "{headers:?}"
    );
    assert!(
        headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("x-wix-request-id: emulator")),
        "{headers:?}"
    );
    assert!(headers.iter().all(|h| h.contains(": ")), "{headers:?}");
    assert_eq!(body, echo_body("GET", "", "", None, None));
}

#[test]
fn not_found_is_exit_1_with_status_and_body_on_stderr() {
    let env = TestEnv::new();
    env.login_basic();
    let out = api(&env, &["/status/404"]);
    let line = assert_fails(&out, 1);
    assert!(line.contains("404"), "{line}");
    let err = stderr(&out);
    assert!(
        err.contains(r#"{"message":"no such thing"}"#),
        "the body: {err}"
    );
    assert_eq!(env.emu.count("/status/404"), 1, "a 4xx is not retried");
}

#[test]
fn get_is_retried_on_server_errors() {
    let env = TestEnv::new();
    env.login_basic();
    let out = api(&env, &["/status/500"]);
    let line = assert_fails(&out, 1);
    assert!(line.contains("500"), "{line}");
    assert_eq!(env.emu.count("/status/500"), 3);

    // A transient failure is invisible.
    env.emu.push_fault("/echo", Fault::Status(502));
    env.emu.push_fault(
        "/echo",
        Fault::TooManyRequests {
            retry_after_secs: 0,
        },
    );
    let v = echoed(&api(&env, &["/echo"]));
    assert_eq!(v["method"], "GET");
    assert_eq!(env.emu.count("/echo"), 3);
}

#[test]
fn post_is_not_retried_on_server_errors() {
    let env = TestEnv::new();
    env.login_basic();
    let out = api(&env, &["/status/500", "-d", "{}"]);
    assert_fails(&out, 1);
    assert_eq!(env.emu.count("/status/500"), 1);

    env.emu.push_fault(
        "/echo",
        Fault::TooManyRequests {
            retry_after_secs: 0,
        },
    );
    let out = api(&env, &["-X", "PUT", "/echo"]);
    let line = assert_fails(&out, 1);
    assert!(line.contains("429"), "{line}");
    assert_eq!(env.emu.count("/echo"), 1);
}

#[test]
fn dropped_connections_are_retried_for_get_only() {
    let env = TestEnv::new();
    env.login_basic();
    env.token_ok(&[]);

    env.emu.push_fault("/echo", Fault::Drop);
    let v = echoed(&api(&env, &["/echo"]));
    assert_eq!(v["method"], "GET");
    assert_eq!(
        env.emu.count("/echo"),
        2,
        "GET retried after a dropped connection"
    );

    // The POST reached the server before the connection dropped: sending it again is not safe.
    env.emu.push_fault("/echo", Fault::Drop);
    let out = api(&env, &["/echo", "-d", "{}"]);
    assert_fails(&out, 4);
    assert_eq!(env.emu.count("/echo"), 3, "POST sent once");
}

#[test]
fn connection_refused_is_retried_for_every_method_then_exit_4() {
    let env = TestEnv::new();
    // Wix is down: the token request, then nothing more.
    let mut cmd = env.cmd();
    env.ci(&mut cmd);
    let out = env.run(
        no_outside_network(cmd.args(["-v", "api", "/echo", "-d", "{}"]))
            .env("WIXAUTH_API_BASE", closed_base()),
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("attempt 3/3"), "three attempts: {err}");
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("wixauth: error:"))
            .count(),
        1,
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn slow_answers_time_out_as_exit_4() {
    let env = TestEnv::new();
    env.login_basic();
    env.token_ok(&[]);
    env.emu
        .push_fault("/echo", Fault::Slow(std::time::Duration::from_secs(3)));
    let out = env.run(no_outside_network(
        env.cmd()
            .args(["api", "-X", "POST", "/echo"])
            .env("WIXAUTH_HTTP_TIMEOUT", "0.5"),
    ));
    assert_fails(&out, 4);
    assert_eq!(
        env.emu.count("/echo"),
        1,
        "a POST that may have arrived is not repeated"
    );
}

#[test]
fn a_401_gets_one_new_token_and_one_retry() {
    let env = TestEnv::new();
    env.login_basic();
    let first = env.token_ok(&[]);
    let tokens_before = env.token_requests();
    let out = api(&env, &["/unauthorized-once"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), r#"{"ok":true}"#);
    let seen = env.seen_at("/unauthorized-once");
    assert_eq!(seen.len(), 2, "one retry");
    let auth: Vec<&str> = seen
        .iter()
        .map(|s| s.header("authorization").unwrap())
        .collect();
    assert_eq!(auth[0], first);
    assert_ne!(auth[1], first, "the retry carries a new token");
    assert_eq!(env.token_requests(), tokens_before + 1);
    assert_eq!(env.cached_token(), auth[1]);
    for token in auth {
        assert!(!stdout(&out).contains(token) && !stderr(&out).contains(token));
    }
}

#[test]
fn a_401_from_any_path_gets_a_new_token() {
    let env = TestEnv::new();
    env.login_basic();
    let first = env.token_ok(&[]);
    env.emu.push_fault("/echo", Fault::Status(401));
    let out = api(&env, &["-X", "POST", "/echo"]);
    assert_eq!(
        echoed(&out)["method"],
        "POST",
        "a 401 is retried for a POST too"
    );
    let seen = env.seen_at("/echo");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("authorization"), Some(first.as_str()));
    assert_ne!(seen[1].header("authorization"), Some(first.as_str()));
}

#[test]
fn a_401_twice_is_exit_1_after_one_retry() {
    let env = TestEnv::new();
    env.login_basic();
    env.token_ok(&[]);
    env.emu.push_fault("/echo", Fault::Status(401));
    env.emu.push_fault("/echo", Fault::Status(401));
    let out = api(&env, &["/echo"]);
    let line = assert_fails(&out, 1);
    assert!(line.contains("401"), "{line}");
    assert_eq!(env.emu.count("/echo"), 2);
}

#[test]
fn the_token_is_never_printed() {
    let env = TestEnv::new();
    env.login_basic();
    let token = env.token_ok(&[]);
    let runs = [
        api(&env, &["/echo"]),
        api(&env, &["-v", "/echo", "-d", "{}"]),
        api(&env, &["-v", "--include", "/echo"]),
        api(&env, &["-v", "-i", "/status/404"]),
        api(&env, &["-v", "/status/500", "-d", "{}"]),
    ];
    for out in &runs {
        let text = format!("{}{}", stdout(out), stderr(out));
        assert!(!text.contains(&token), "the token leaked:\n{text}");
    }
    let every_token: Vec<String> = env
        .emu
        .seen()
        .iter()
        .filter_map(|s| s.header("authorization").map(str::to_string))
        .collect();
    assert!(
        every_token.iter().all(|t| *t == token),
        "the cached token was used throughout"
    );
}

#[test]
fn nothing_logged_in_is_exit_2() {
    let env = TestEnv::new();
    let out = api(&env, &["/echo"]);
    let line = assert_fails(&out, 2);
    assert!(line.contains("wixauth login"), "{line}");
    assert!(env.emu.seen().is_empty());
}

#[test]
fn include_on_a_failure_keeps_stdout_empty() {
    let env = TestEnv::new();
    env.login_basic();
    let out = api(&env, &["-i", "/status/404"]);
    assert_fails(&out, 1);
    let err = stderr(&out);
    let status = err.lines().next().unwrap_or_default();
    assert!(
        status.starts_with("HTTP/") && status.contains("404"),
        "{err}"
    );
    assert!(
        err.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{err}"
    );
    assert!(err.contains(r#"{"message":"no such thing"}"#), "{err}");
}

#[test]
fn a_terminal_gets_pretty_json() {
    let env = TestEnv::new();
    env.login_basic();
    let Some(out) = env.run_in_tty(&["api", "/echo?q=1"], &[]) else {
        return;
    };
    assert!(out.status.success(), "{}", stdout(&out));
    let text = stdout(&out).replace("\r\n", "\n");
    let value: Value = serde_json::from_str(&text).expect("JSON on the terminal");
    assert_eq!(value["query"], "q=1");
    assert_eq!(
        text,
        format!("{}\n", serde_json::to_string_pretty(&value).unwrap())
    );
}
