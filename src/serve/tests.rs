//! The server's own rules, with a test policy: what reaches a policy, what never does, and
//! how every connection ends.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::body::Bytes;

use super::testing::{assert_common_headers, exchange};
use super::*;

/// Reports each target it sees; `/body` reads the body (200 with its length, or the body
/// error's status), `/later` answers at once and reports `then` after a pause; anything else
/// is a 404.
struct Probe {
    seen: Mutex<mpsc::Sender<String>>,
}

impl Policy for Probe {
    async fn answer(&self, request: Request) -> Reply {
        let target = request.target().unwrap_or_else(|| "(no path)".into());
        let _ = self.seen.lock().unwrap().send(target.clone());
        let text = |status, body: String| answer(status, Some("text/plain"), Bytes::from(body));
        match target.as_str() {
            "/body" => match request.body().await {
                Ok(body) => text(200, format!("{} bytes", body.len())).into(),
                Err(e) => text(e.status(), format!("{e:?}")).into(),
            },
            "/later" => {
                let seen = self.seen.lock().unwrap().clone();
                Reply {
                    answer: text(200, "now".into()),
                    then: Some(Box::pin(async move {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        let _ = seen.send("then".into());
                    })),
                }
            }
            _ => text(404, "not here".into()).into(),
        }
    }
}

const FAST: Limits = Limits {
    head_timeout: Duration::from_millis(400),
    max_head: 8 * 1024,
    max_connections: 8,
    max_body: 64 * 1024,
    body_timeout: Duration::from_millis(400),
};

fn start(limits: Limits) -> (Server, SocketAddr, mpsc::Receiver<String>) {
    let (tx, seen) = mpsc::channel();
    let bound = bind(&[SocketAddr::from(([127, 0, 0, 1], 0))]).unwrap();
    let addr = bound.addresses()[0];
    assert_ne!(addr.port(), 0);
    let probe = Probe {
        seen: Mutex::new(tx),
    };
    (
        bound.serve("test server", limits, probe).unwrap(),
        addr,
        seen,
    )
}

fn get(addr: SocketAddr, target: &str) -> String {
    exchange(
        addr,
        format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    )
}

#[test]
fn one_request_per_connection_with_the_common_headers_and_the_port_free_on_drop() {
    let (server, addr, seen) = start(FAST);
    let answer = get(addr, "/x?y=%FF");
    assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
    assert!(answer.ends_with("not here"), "{answer}");
    assert_common_headers(&answer);
    assert_eq!(seen.recv().unwrap(), "/x?y=%FF");
    // Two requests on one connection: only the first is served.
    let both = exchange(
        addr,
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(both.matches("HTTP/1.1 ").count(), 1, "{both}");
    assert_eq!(seen.recv().unwrap(), "/a");
    drop(server);
    std::net::TcpListener::bind(addr).expect("the port is free again");
}

#[test]
fn malformed_and_oversized_heads_get_hypers_bare_answer_and_reach_no_policy() {
    let (_server, addr, seen) = start(FAST);
    for bad in [
        &b"GET\r\n\r\n"[..],
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"GET /a\tb HTTP/1.1\r\n\r\n",
        b"GET / FTP/1.0\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET /\xff HTTP/1.1\r\n\r\n",
        b"\xff\xfe\r\n\r\n",
    ] {
        let answer = exchange(addr, bad);
        let shown = String::from_utf8_lossy(bad);
        assert!(
            answer.starts_with("HTTP/1.1 400 ") && answer.contains("Content-Length: 0\r\n"),
            "{shown:?}: {answer}"
        );
    }
    let long_line = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(FAST.max_head));
    let long_header = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(FAST.max_head));
    for head in [long_line, long_header] {
        let answer = exchange(addr, head.as_bytes());
        assert!(
            answer.starts_with("HTTP/1.1 431 ") || answer.starts_with("HTTP/1.1 414 "),
            "{answer}"
        );
    }
    assert!(seen.try_recv().is_err(), "none reached the policy");
    // A head well within the limit is served.
    let big = format!(
        "GET /ok HTTP/1.1\r\nCookie: {}\r\n\r\n",
        "a".repeat(FAST.max_head / 2)
    );
    assert!(exchange(addr, big.as_bytes()).starts_with("HTTP/1.1 404 "));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Whatever bytes a request target holds, the server answers (the policy or hyper, 4xx),
    /// and only a visible-ASCII origin-form target ever reaches the policy.
    #[test]
    fn arbitrary_targets_are_answered_and_only_clean_ones_delivered(
        target in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
    ) {
        let (_server, addr, seen) = start(FAST);
        let head = [&b"GET "[..], &target, b" HTTP/1.1\r\nHost: x\r\n\r\n"].concat();
        let answer = exchange(addr, &head);
        proptest::prop_assert!(answer.starts_with("HTTP/1.1 4"), "{answer:?}");
        for target in seen.try_iter().filter(|t| t != "(no path)") {
            proptest::prop_assert!(target.starts_with('/'), "{target}");
            proptest::prop_assert!(target.bytes().all(|b| (0x21..=0x7e).contains(&b)), "{target:?}");
        }
    }
}

#[test]
fn the_oldest_idle_connection_is_evicted_at_the_cap() {
    let (_server, addr, _seen) = start(Limits {
        head_timeout: Duration::from_secs(10),
        ..FAST
    });
    let connect = || {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    };
    let mut idle: Vec<_> = (0..FAST.max_connections).map(|_| connect()).collect();
    // The first one, idle the longest, is closed by the server when the cap is passed ...
    assert!(get(addr, "/cb").starts_with("HTTP/1.1 404 "));
    let mut byte = [0u8; 1];
    assert_eq!(idle[0].read(&mut byte).unwrap(), 0, "the oldest was closed");
    // ... and a younger one is still open (a read times out rather than ending).
    let young = &mut idle[FAST.max_connections - 1];
    young
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let err = young.read(&mut byte).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
        "{err}"
    );
}

#[test]
fn a_connection_without_a_whole_head_is_closed_at_the_head_deadline() {
    let (_server, addr, seen) = start(FAST);
    let mut slow = TcpStream::connect(addr).unwrap();
    let opened = Instant::now();
    slow.write_all(b"GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    let after = opened.elapsed();
    assert!(after >= FAST.head_timeout, "closed early: {after:?}");
    assert!(after < FAST.head_timeout * 4, "closed late: {after:?}");
    assert!(seen.try_recv().is_err(), "the half head reached the policy");
}

/// Like a client that sends its whole request before it reads (a tunnel's, or Python's
/// `requests`): the head and `body_len` bytes, then the answer. What came of the sending, the
/// answer, and how the connection ended (`Ok` for an orderly close, an error for a reset).
fn post_then_read(
    addr: SocketAddr,
    head: &str,
    body_len: usize,
) -> (io::Result<()>, String, io::Result<usize>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let sent = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&vec![b'a'; body_len]));
    let mut answer = Vec::new();
    let ended = stream.read_to_end(&mut answer);
    (sent, String::from_utf8_lossy(&answer).into_owned(), ended)
}

#[test]
fn bodies_are_bounded_and_an_early_413_still_reaches_a_client_that_keeps_sending() {
    let (_server, addr, _seen) = start(FAST);
    let max = FAST.max_body;
    let head =
        |len: usize| format!("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\n\r\n");
    let (sent, answer, ended) = post_then_read(addr, &head(max), max);
    sent.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(answer.ends_with(&format!("{max} bytes")), "{answer}");
    ended.unwrap();
    // Announced as too large: answered 413 before the body is read. The client goes on
    // sending far more than the socket buffers hold; the lingering close reads and drops it
    // instead of resetting the connection, so the sending succeeds and the answer is read.
    let len = max + linger::LINGER_BYTES / 2;
    let (sent, answer, ended) = post_then_read(addr, &head(len), len);
    assert!(
        sent.is_ok(),
        "the connection was reset while the body was sent: {sent:?}"
    );
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert_common_headers(&answer);
    assert!(
        ended.is_ok(),
        "reset instead of a lingering close: {ended:?}"
    );
    // Chunked, no length announced: the bounded read stops past the limit.
    let mut chunked =
        b"POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..2 {
        chunked.extend_from_slice(format!("{:x}\r\n", max / 2 + 1).as_bytes());
        chunked.extend(std::iter::repeat_n(b'a', max / 2 + 1));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert!(exchange(addr, &chunked).starts_with("HTTP/1.1 413 "));
    // A body that stops coming: 408 at the body deadline.
    let mut stalled = TcpStream::connect(addr).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let started = Instant::now();
    stalled.write_all(head(10).as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stalled.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(started.elapsed() >= FAST.body_timeout);
}

#[test]
fn what_the_policy_leaves_for_later_runs_after_the_answer() {
    let (_server, addr, seen) = start(FAST);
    let answer = get(addr, "/later");
    assert!(answer.ends_with("now"), "{answer}");
    assert_eq!(seen.recv().unwrap(), "/later");
    assert!(
        seen.try_recv().is_err(),
        "the answer came before the later work"
    );
    assert_eq!(
        seen.recv_timeout(Duration::from_secs(5)).unwrap(),
        "then",
        "and the later work ran"
    );
}

#[test]
fn a_connection_from_memory_is_answered_as_a_socket_is() {
    let (tx, seen) = mpsc::channel();
    let probe = || Probe {
        seen: Mutex::new(tx.clone()),
    };
    let bound = Duration::from_secs(5);
    let one = |request: &[u8]| {
        let answer = memory::exchange(FAST, probe(), request, bound).expect("no hang");
        String::from_utf8(answer).unwrap()
    };
    let answer = one(b"GET /x?y=%FF HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
    assert!(answer.ends_with("not here"), "{answer}");
    assert_common_headers(&answer);
    assert_eq!(seen.recv().unwrap(), "/x?y=%FF");
    let answer = one(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    assert!(answer.ends_with("\r\n\r\n3 bytes"), "{answer}");
    // Bare hyper answers, and a body cut short, end the exchange too: nothing waits.
    assert!(one(b"\xff\r\n\r\n").starts_with("HTTP/1.1 400 "));
    let cut = one(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc");
    assert!(cut.starts_with("HTTP/1.1 400 "), "{cut}");
    assert_eq!(
        one(b"GET /x HT"),
        "",
        "a head cut short is closed unanswered"
    );
}
