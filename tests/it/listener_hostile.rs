//! The login's local redirect listener against stray and hostile requests (issue 3, item 4):
//! none of them may end or crash the login; after each, the real callback still completes it.
//! Also: where it listens (loopback only) and the headers of every response.

use crate::support::loopback::*;
use crate::support::*;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

/// Completes a waiting login with the real callback (plus `extra` query text) and asserts exit 0.
fn finish(env: &TestEnv, login: &mut Login, url: &str, extra: &str) -> std::process::Output {
    login.assert_running("the stray requests");
    let callback = format!("{}{extra}", env.installer_redirect(url));
    let browsed = env.send_callback(&callback);
    let out = login.wait();
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(browsed.answer.status, 302, "to Wix's close-window page");
    assert_eq!(env.emu.closed_windows().len(), 1);
    assert_eq!(
        env.emu.count("/oauth/access"),
        1,
        "exactly one code exchange"
    );
    assert_port_free(login.port);
    out
}

/// The listener's HTTP layer (hyper) refuses a malformed or oversized head itself, with a bare
/// 4xx answer (no page, none of the login's headers) before any of it reaches the login.
fn assert_refused_by_hyper(what: &str, response: &Response, statuses: &[u16]) {
    assert!(
        statuses.contains(&response.status),
        "{what}: want one of {statuses:?}, got {} {:?}",
        response.status,
        response.headers
    );
    assert!(response.body.is_empty(), "{what}: {}", response.text());
}

/// How long the listener gives a connection to deliver its request head.
const HEAD_DEADLINE: Duration = Duration::from_secs(10);

#[test]
fn localhost_is_served_on_both_loopbacks_and_nothing_else() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_advanced(&[]);

    let v4 = get(&login.url_v4("/nothing-here"));
    assert_eq!(v4.status, 404);
    assert_listener_response("127.0.0.1", &v4);
    let has_v6 = ipv6_available();
    if has_v6 {
        let v6 = get(&format!("http://[::1]:{}/nothing-here", login.port));
        assert_eq!(v6.status, 404);
        assert_listener_response("[::1]", &v6);
    } else {
        eprintln!("no IPv6 loopback on this machine: the [::1] half is skipped");
    }

    // The kernel's list of listening sockets on the port: loopback addresses only.
    let listening = listening_on(login.port);
    eprintln!("listening on port {}: {listening:?}", login.port);
    assert!(
        listening.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)),
        "{listening:?}"
    );
    if has_v6 {
        assert!(
            listening.contains(&IpAddr::V6(Ipv6Addr::LOCALHOST)),
            "{listening:?}"
        );
    }
    for ip in &listening {
        assert!(ip.is_loopback(), "listening on a non-loopback address {ip}");
    }
    finish(&env, &mut login, &url, "");
}

#[test]
fn an_ip_literal_redirect_url_binds_only_that_address() {
    let mut hosts = vec![("127.0.0.1", IpAddr::V4(Ipv4Addr::LOCALHOST))];
    if ipv6_available() {
        hosts.push(("[::1]", IpAddr::V6(Ipv6Addr::LOCALHOST)));
    }
    for (host, ip) in hosts {
        let env = TestEnv::new();
        let port = free_port();
        let redirect = format!("http://{host}:{port}/callback");
        env.register_redirect(&redirect);
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
        ]);
        let (mut login, url) = env.start_login_cmd(port, redirect.clone(), cmd, SecretVia::Env);
        assert_eq!(listening_on(port), vec![ip], "{redirect}");
        login.assert_running("the socket check");
        env.browse(&url);
        let out = login.wait();
        env.assert_no_leak(&out);
        assert!(out.status.success(), "{redirect}: {}", stderr(&out));
        assert_eq!(env.emu.closed_windows().len(), 1);
    }
}

#[test]
fn stray_requests_get_answers_and_the_login_goes_on() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_advanced(&[]);
    let real = env.installer_redirect(&url);
    let real_target = target(&url::Url::parse(&real).unwrap());

    let favicon = get(&login.url("/favicon.ico"));
    assert_eq!(favicon.status, 404);
    assert_listener_response("favicon", &favicon);

    for path in [
        "/",
        "/other",
        "/callback/extra",
        "/callbackx",
        "/installed",
        "/.well-known/x",
    ] {
        let response = get(&login.url(path));
        assert_eq!(response.status, 404, "{path}");
        assert_listener_response(path, &response);
    }

    // HEAD and POST on the callback, even carrying the real code and state, change nothing.
    let head = request("HEAD", &login.url(&real_target));
    assert_eq!(head.status, 405);
    assert_listener_response("HEAD /callback", &head);
    let post = try_request(
        "POST",
        &login.url(&real_target),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"code=x&state=y",
    )
    .expect("a response to POST");
    assert_eq!(post.status, 405);
    assert_listener_response("POST /callback", &post);
    for method in ["PUT", "DELETE", "OPTIONS"] {
        let response = request(method, &login.url("/callback"));
        assert_eq!(response.status, 405, "{method}");
        assert_listener_response(method, &response);
    }
    assert_eq!(env.emu.count("/oauth/access"), 0, "no code exchanged yet");
    finish(&env, &mut login, &url, "");
}

#[test]
fn requests_of_100_kb_do_not_end_the_login() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_advanced(&[]);
    let pad = "A".repeat(100 * 1024);

    // Refused (414 / 431, hyper's own answer), never a crash or the end of the login.
    let long_query = raw_get(&login.url(&format!("/elsewhere?q={pad}")));
    assert_refused_by_hyper("100 KB query", &long_query, &[414, 431]);
    let long_path = raw_get(&login.url(&format!("/{pad}")));
    assert_refused_by_hyper("100 KB path", &long_path, &[414, 431]);
    let long_header = try_request("GET", &login.url("/x"), &[("X-Pad", &pad)], b"")
        .expect("an answer to a 100 KB header");
    assert_refused_by_hyper("100 KB header", &long_header, &[431]);
    // Even the real callback padded to 100 KB is refused without using its code ...
    let real = env.installer_redirect(&url);
    let padded = raw_get(&format!("{real}&pad={pad}"));
    assert_refused_by_hyper("100 KB callback", &padded, &[414, 431]);
    assert_eq!(env.emu.count("/oauth/access"), 0);
    login.assert_running("the 100 KB requests");
    // ... and the same callback at its normal size completes the login.
    let browsed = env.send_callback(&real);
    assert_eq!(browsed.answer.status, 302);
    let out = login.wait();
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.emu.closed_windows().len(), 1);
}

/// Reads until the listener closes the connection; how long after `opened` that was, and what came.
fn wait_for_close(stream: &mut std::net::TcpStream, opened: Instant) -> (Duration, Vec<u8>) {
    stream
        .set_read_timeout(Some(HEAD_DEADLINE * 2))
        .expect("set a read timeout");
    let mut received = Vec::new();
    let closed = stream.read_to_end(&mut received);
    let after = opened.elapsed();
    if let Err(e) = closed {
        // A reset is a close too; a timeout is not.
        assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the listener still held the connection after {after:?}"
        );
    }
    (after, received)
}

#[test]
fn a_slowloris_connection_does_not_block_the_callback() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_advanced(&[]);
    // Headers started and never finished; and a connection that sends nothing at all.
    let mut slow = connect(login.addr()).expect("connect");
    let slow_opened = Instant::now();
    slow.write_all(b"GET /callback?state=nope HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1")
        .unwrap();
    slow.flush().unwrap();
    let mut silent = connect(login.addr()).expect("connect");
    let silent_opened = Instant::now();

    // While they are held, other requests are answered at once ...
    let asked = Instant::now();
    let stray = get(&login.url("/elsewhere"));
    assert_eq!(stray.status, 404);
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );

    // ... and the listener gives up on each when its head deadline passes: not before (its
    // clock starts after our connect), and not much later.
    for (what, stream, opened) in [
        ("the slow head", &mut slow, slow_opened),
        ("the silent connection", &mut silent, silent_opened),
    ] {
        let (after, received) = wait_for_close(stream, opened);
        eprintln!(
            "TIMING {what}: closed by the listener {:.1} ms after it was opened (deadline {HEAD_DEADLINE:?})",
            after.as_secs_f64() * 1000.0
        );
        assert!(after >= HEAD_DEADLINE, "{what} closed early: {after:?}");
        assert!(
            after < HEAD_DEADLINE + Duration::from_secs(2),
            "{what} closed late: {after:?}"
        );
        // No answer, or a bare one: the half request never reached the login.
        assert!(
            received.is_empty() || raw_status(&received).is_some_and(|s| s >= 400),
            "{what}: {}",
            String::from_utf8_lossy(&received)
        );
    }
    login.assert_running("the slowloris connections");

    // With a fresh slow connection held open, the real callback completes the login promptly.
    let mut held = connect(login.addr()).expect("connect");
    held.write_all(b"GET /callback HTTP/1.1\r\nHo").unwrap();
    let started = Instant::now();
    finish(&env, &mut login, &url, "");
    eprintln!(
        "TIMING with a slowloris connection open: callback to exit = {:.1} ms",
        (login.exited_at.unwrap() - started).as_secs_f64() * 1000.0
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(held);
}

#[test]
fn non_utf8_bytes_in_requests_do_not_end_the_login() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_advanced(&[]);
    let addr = login.addr();

    let host = format!("Host: localhost:{}\r\n", login.port);
    let with_host = |line: &[u8], rest: &[u8]| [line, host.as_bytes(), rest].concat();

    // Raw 0xFF bytes in the request line, a garbage line, an unknown HTTP version: hyper's own
    // 400. In a header value (not read): our 404 page.
    for (raw, want) in [
        (
            with_host(
                b"GET /other?x=\xff\xfe HTTP/1.1\r\n",
                b"Connection: close\r\n\r\n",
            ),
            None,
        ),
        (
            with_host(b"GET /callback?code=\xff&state=\xff HTTP/1.1\r\n", b"\r\n"),
            None,
        ),
        (with_host(b"GET /\xff\xff HTTP/1.1\r\n", b"\r\n"), None),
        (
            with_host(b"GET /x HTTP/1.1\r\n", b"X-Bin: \xff\xfe\r\n\r\n"),
            Some(404),
        ),
        (b"\xff\xfe\xfd\r\n\r\n".to_vec(), None),
        (
            with_host(b"GET /callback?state=x HTTP/9.9\r\n", b"\r\n"),
            None,
        ),
    ] {
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let bytes = raw_exchange(addr, &raw);
        let response = read_response(&mut &bytes[..], false)
            .unwrap_or_else(|e| panic!("no HTTP answer to {shown:?}: {e}"));
        match want {
            Some(status) => {
                assert_eq!(response.status, status, "{shown:?}");
                assert_listener_response(&shown, &response);
            }
            None => assert_refused_by_hyper(&shown, &response, &[400]),
        }
        login.assert_running(&shown);
    }
    // Percent-encoded invalid UTF-8 on a stray path.
    let encoded = get(&login.url("/other?x=%FF%FE%C3%28&%FF=%80"));
    assert_eq!(encoded.status, 404);
    assert_listener_response("%FF", &encoded);
    // ... and in extra parameters of the real callback, which still completes the login.
    finish(&env, &mut login, &url, "&junk=%FF%FE%C3%28&%FF=%80");
}

#[test]
fn a_request_for_another_host_is_refused_421_and_never_reaches_the_login() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_advanced(&[]);
    // DNS rebinding: a page on evil.com (resolving to 127.0.0.1) replays the real callback.
    let real = url::Url::parse(&env.installer_redirect(&url)).unwrap();
    let raw = format!(
        "GET {} HTTP/1.1\r\nHost: evil.com:{}\r\nConnection: close\r\n\r\n",
        target(&real),
        login.port
    );
    let bytes = raw_exchange(login.addr(), raw.as_bytes());
    let response = read_response(&mut &bytes[..], false).expect("an answer to evil.com");
    assert_eq!(response.status, 421, "{}", response.text());
    assert_listener_response("Host: evil.com", &response);
    // The same with the host in the target (absolute form) and a right Host header.
    let raw = format!(
        "GET http://evil.com:{port}{} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n",
        target(&real),
        port = login.port
    );
    let bytes = raw_exchange(login.addr(), raw.as_bytes());
    let response = read_response(&mut &bytes[..], false).expect("an answer");
    assert_eq!(response.status, 421, "{}", response.text());
    assert_eq!(env.emu.count("/oauth/access"), 0, "the code was not used");
    login.assert_running("the requests for evil.com");
    // Our own names pass, in any letter case.
    let ok = try_request("GET", &login.url("/elsewhere"), &[], b"").expect("an answer");
    assert_eq!(ok.status, 404);
    let raw = format!(
        "GET /elsewhere HTTP/1.1\r\nHost: LOCALHOST:{}\r\n\r\n",
        login.port
    );
    let bytes = raw_exchange(login.addr(), raw.as_bytes());
    assert_eq!(raw_status(&bytes), Some(404));
    finish(&env, &mut login, &url, "");
}

#[test]
fn idle_connections_past_the_cap_never_keep_the_browser_out() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_advanced(&[]);
    // Twice the listener's cap (128) of connections that never send a byte.
    let opened = Instant::now();
    let mut idle: Vec<_> = (0..256)
        .map(|i| connect(login.addr()).unwrap_or_else(|e| panic!("connection {i}: {e}")))
        .collect();
    // The oldest was evicted to make room: closed by the server long before its head deadline.
    let (after, received) = wait_for_close(&mut idle[0], opened);
    assert!(after < HEAD_DEADLINE / 2, "closed only after {after:?}");
    assert!(received.is_empty());
    // A request and then the real callback get through while the newest are still held.
    let stray = get(&login.url("/elsewhere"));
    assert_eq!(stray.status, 404);
    finish(&env, &mut login, &url, "");
    drop(idle);
}

#[test]
fn many_parallel_junk_connections_do_not_end_the_login() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_advanced(&[]);
    let addr: SocketAddr = login.addr();
    let base = login.url("");
    let workers: Vec<_> = (0..64)
        .map(|i| {
            let base = base.clone();
            std::thread::spawn(move || -> Option<std::net::TcpStream> {
                match i % 4 {
                    0 => {
                        // Connect and hang up.
                        drop(connect(addr).ok()?);
                        None
                    }
                    1 => {
                        // Garbage without an end: written, then hung up on.
                        let mut s = connect(addr).ok()?;
                        let junk: Vec<u8> = (0..512).map(|b| (b * 31 + i) as u8).collect();
                        let _ = s.write_all(&junk);
                        None
                    }
                    2 if i % 8 == 2 => {
                        let response = get(&format!("{base}/junk-{i}"));
                        assert_eq!(response.status, 404);
                        assert_listener_response("junk", &response);
                        None
                    }
                    2 => {
                        // A whole head of garbage: hyper's 400.
                        let mut junk: Vec<u8> =
                            (0..300).map(|b| (b * 7 + i) as u8 | 0x80).collect();
                        junk.extend_from_slice(b"\r\n\r\n");
                        let bytes = raw_exchange(addr, &junk);
                        let response = read_response(&mut &bytes[..], false).expect("an answer");
                        assert_refused_by_hyper("garbage", &response, &[400]);
                        None
                    }
                    _ => {
                        // Half a request, held open until the login ends.
                        let mut s = connect(addr).ok()?;
                        s.write_all(b"GET /callback HTTP/1.1\r\nHo").ok()?;
                        Some(s)
                    }
                }
            })
        })
        .collect();
    let held: Vec<_> = workers
        .into_iter()
        .map(|w| w.join().expect("a junk worker panicked"))
        .collect();
    finish(&env, &mut login, &url, "");
    drop(held);
}

#[test]
fn a_second_callback_during_the_exchange_gets_an_error_page() {
    let env = TestEnv::new();
    // Make the code exchange slow so the duplicate arrives while it runs.
    env.emu
        .push_fault("/oauth/access", Fault::Slow(Duration::from_millis(600)));
    let (mut login, url) = env.start_advanced(&[]);
    let callback = env.installer_redirect(&url);
    let first = {
        let callback = callback.clone();
        std::thread::spawn(move || get(&callback))
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while env.emu.count("/oauth/access") == 0 {
        assert!(Instant::now() < deadline, "the exchange never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = get(&callback);
    assert_eq!(second.status, 410, "{}", second.text());
    assert_listener_response("the second callback", &second);
    let first = first.join().unwrap();
    follow(&resolve(&callback, &first.location()));
    let out = login.wait();
    env.assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.emu.count("/oauth/access"), 1);
    assert_eq!(env.emu.closed_windows().len(), 1);
}

#[test]
fn held_connections_never_starve_other_requests() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_advanced(&[]);
    let addr = login.addr();
    // 24 connections that never finish their head, and 48 requests in parallel with them.
    let held: Vec<_> = (0..24)
        .map(|_| {
            let mut s = connect(addr).expect("connect");
            s.write_all(b"GET /callback HTTP/1.1\r\nHo").unwrap();
            s
        })
        .collect();
    let base = login.url("");
    let workers: Vec<_> = (0..48)
        .map(|i| {
            let base = base.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                let response = try_request("GET", &format!("{base}/junk-{i}"), &[], b"");
                (
                    i,
                    response.map(|r| r.status).map_err(|e| e.to_string()),
                    started.elapsed(),
                )
            })
        })
        .collect();
    for worker in workers {
        let (i, status, took) = worker.join().unwrap();
        assert_eq!(status, Ok(404), "request {i}");
        assert!(took < Duration::from_secs(2), "request {i} took {took:?}");
    }
    finish(&env, &mut login, &url, "");
    drop(held);
}

/// Runs `cmd` under `sh -c 'ulimit -n LIMIT; exec ...'`, keeping its environment.
fn with_fd_limit(limit: u32, inner: std::process::Command) -> std::process::Command {
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
        .arg(inner.get_program())
        .args(inner.get_args());
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    cmd
}

#[test]
fn a_connection_flood_past_the_fd_limit_does_not_stop_the_listener() {
    let env = TestEnv::new();
    let (port, redirect) = env.new_redirect();
    let mut inner = env.std_cmd();
    inner.args([
        "-v",
        "login",
        "--flow",
        "advanced",
        "--app-id",
        APP_ID,
        "--redirect-url",
        &redirect,
        "--no-browser",
    ]);
    // 48 descriptors: 60 connections make accept() fail with EMFILE.
    let cmd = with_fd_limit(48, inner);
    let (mut login, url) = env.start_login_cmd(port, redirect, cmd, SecretVia::Env);
    let flood: Vec<_> = (0..60).filter_map(|_| connect(login.addr()).ok()).collect();
    assert!(flood.len() >= 50, "only {} connections", flood.len());
    // The listener runs into the limit (its -v log says so) and keeps listening; the flood goes.
    login.wait_line("a failed accept", |line| {
        line.contains("failed") && line.contains("still listening")
    });
    drop(flood);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match try_request("GET", &login.url_v4("/after-the-flood"), &[], b"") {
            Ok(response) => {
                assert_eq!(response.status, 404);
                break;
            }
            Err(e) => assert!(
                Instant::now() < deadline,
                "the listener on 127.0.0.1 stopped after the flood: {e}"
            ),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    finish(&env, &mut login, &url, "");
}

#[test]
fn the_login_completes_while_another_user_holds_140_idle_connections_and_slowloris() {
    let env = TestEnv::new();
    let (mut login, url) = env.start_advanced(&[]);
    // Past the listener's cap (128), as uid 65534 when we are root; it reopens what is evicted.
    let crowd = crate::support::crowd::Crowd::start(login.port, 140);
    // Meanwhile strays are answered in time, and the real callback completes the login.
    let mut worst = Duration::ZERO;
    for n in 0..10 {
        let asked = Instant::now();
        let stray = get(&login.url(&format!("/elsewhere-{n}")));
        assert_eq!(stray.status, 404);
        worst = worst.max(asked.elapsed());
        std::thread::sleep(Duration::from_millis(200));
    }
    let started = Instant::now();
    finish(&env, &mut login, &url, "");
    let took = login.exited_at.unwrap() - started;
    let counts = crowd.stop();
    eprintln!(
        "TIMING under a crowd of 140 idle + 1 slowloris/s: strays answered within {:.1} ms, callback to exit {:.1} ms; crowd: {counts:?}",
        worst.as_secs_f64() * 1000.0,
        took.as_secs_f64() * 1000.0
    );
    assert!(worst < Duration::from_secs(1), "a stray waited {worst:?}");
    assert!(took < Duration::from_secs(3), "the login took {took:?}");
    assert!(
        counts.idle_closed > 0,
        "the crowd was never evicted: {counts:?}"
    );
}
