//! The loopback server's handling of one connection, from memory: raw bytes in (the client then
//! half-closes), the answer out. Whatever arrives, the server answers one well-formed HTTP/1.1
//! response or closes without one, within a bound (never a hang); an answer of a policy of
//! ours carries the common headers.
//!
//! First byte `% 3`: 0 the login listener (port 8338, no login behind it), 1 the webhook
//! receiver at /webhook with the fixed test key, 2 the same with a 4 KiB body limit.
#![no_main]

#[path = "common.rs"]
mod common;

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use wixauth::fuzz::{self, Server};

/// Far beyond what any answer takes (microseconds): reaching it is a hang.
const BOUND: Duration = Duration::from_secs(5);

fuzz_target!(|data: &[u8]| {
    let Some((&mode, request)) = data.split_first() else {
        return;
    };
    let server = match mode % 3 {
        0 => Server::Login,
        1 => Server::Webhook { small_body: false },
        _ => Server::Webhook { small_body: true },
    };
    let answer = fuzz::serve(server, common::key(), request, BOUND)
        .unwrap_or_else(|| panic!("no answer and no close within {BOUND:?}"));
    if answer.is_empty() {
        return; // closed without an answer: a head cut short
    }
    let shown = String::from_utf8_lossy(&answer);
    // `Expect: 100-continue` gets its interim answer first when the policy reads the body.
    let answer = answer
        .strip_prefix(b"HTTP/1.1 100 Continue\r\n\r\n")
        .unwrap_or(&answer);
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(answer) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("not a whole HTTP response ({other:?}): {shown:?}"),
    };
    // HTTP/1.1, or 1.0 to a request of 1.0 (as the request's own parse sees it).
    let mut request_headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut request_headers);
    let _ = parsed.parse(request);
    let version = response.version.expect("a version");
    assert!(
        version == 1 || version == 0 && parsed.version == Some(0),
        "{shown:?}"
    );
    let status = response.code.expect("a status");
    assert!((200..600).contains(&status), "{shown:?}");
    let header = |name: &str| {
        let mut values = response
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name));
        let first = values
            .next()
            .map(|h| String::from_utf8_lossy(h.value).into_owned());
        assert!(values.next().is_none(), "{name} twice: {shown:?}");
        first
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Content-Length: {shown:?}"));
    let body = &answer[head..];
    // One answer and nothing after it; HEAD gets the length without the body.
    let head_request = parsed.method == Some("HEAD");
    assert!(
        body.len() == length || head_request && body.is_empty(),
        "{length} announced, {} sent: {shown:?}",
        body.len()
    );
    // hyper's own refusals (400, 431...) are bare; every answer of a policy has a type.
    if header("content-type").is_some() {
        for (name, value) in [
            ("connection", "close"),
            ("cache-control", "no-store, max-age=0"),
            ("referrer-policy", "no-referrer"),
            ("x-content-type-options", "nosniff"),
        ] {
            assert_eq!(header(name).as_deref(), Some(value), "{shown:?}");
        }
    }
    if server == Server::Login {
        assert!(
            status != 200,
            "the login listener has no login to answer 200: {shown:?}"
        );
    }
});
