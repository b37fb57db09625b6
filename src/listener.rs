//! The temporary local redirect listener: loopback only, on the redirect URL's port,
//! answering on both 127.0.0.1 and ::1 for `localhost` (browsers pick either).
//!
//! A small HTTP/1.1 server of its own, because a login listener must outlive whatever else
//! connects to it (tiny_http, used before, stopped listening for good after one failed
//! `accept` such as EMFILE under a connection flood, and could leave a connection unserved
//! while others were held open): every connection gets its own thread and a deadline for
//! its request head, so a slowloris connection holds nothing; heads are size-limited; an
//! `accept` error never stops the listening; and every answer, malformed requests included,
//! carries the same headers. One request per connection (`Connection: close`).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;
use url::{Host, Url};

use crate::error::{Error, Result};
use crate::oauth::pages;
use crate::secret::Secret;

/// The whole request head (request line and headers) must arrive within this.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head accepted; browsers send a few KB (cookies for localhost included).
const MAX_HEAD: usize = 64 * 1024;
/// Connections read at once; more are closed straight away, so a flood cannot exhaust
/// threads or file descriptors.
const MAX_CONNECTIONS: usize = 128;
/// How often an idle accept loop checks whether the listener was closed.
const ACCEPT_POLL: Duration = Duration::from_millis(5);
/// Pause after a failed `accept` (EMFILE and the like) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Bound on writing an answer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct Listener {
    requests: Receiver<Request>,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) addresses: Vec<SocketAddr>,
    stop: Arc<AtomicBool>,
    acceptors: Vec<JoinHandle<()>>,
}

/// Checks that a redirect URL is one wixauth can listen on: `http://` on a loopback host.
pub(crate) fn listen_addresses(redirect: &Url) -> Result<Vec<SocketAddr>> {
    let refuse = || {
        Error::usage(format!(
            "--redirect-url {redirect} must be an http:// URL on this machine (localhost, 127.0.0.1 or [::1]) so wixauth can listen there"
        ))
    };
    if redirect.scheme() != "http" {
        return Err(refuse());
    }
    let port = redirect.port_or_known_default().ok_or_else(refuse)?;
    let ips: Vec<IpAddr> = match redirect.host() {
        Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]
        }
        Some(Host::Ipv4(ip)) if ip.is_loopback() => vec![IpAddr::V4(ip)],
        Some(Host::Ipv6(ip)) if ip.is_loopback() => vec![IpAddr::V6(ip)],
        _ => return Err(refuse()),
    };
    Ok(ips
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect())
}

impl Listener {
    pub(crate) fn bind(redirect: &Url) -> Result<Listener> {
        let (tx, requests) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let active = Arc::new(AtomicUsize::new(0));
        let mut sockets = Vec::new();
        for addr in listen_addresses(redirect)? {
            let socket = match TcpListener::bind(addr) {
                Ok(socket) => socket,
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    return Err(Error::usage(format!(
                        "port {} on {} is already in use (another program, or another wixauth login): free it, or pass --redirect-url with another port that is registered in the app dashboard",
                        addr.port(),
                        addr.ip()
                    )))
                }
                // A machine without IPv6 (no ::1, or no IPv6 at all) still serves 127.0.0.1.
                Err(e) if addr.is_ipv6() && !sockets.is_empty() => {
                    crate::log::debug!("not listening on {addr}: {e}");
                    continue;
                }
                Err(e) => return Err(Error::usage(format!("cannot listen on {addr}: {e}; pass another --redirect-url"))),
            };
            socket
                .set_nonblocking(true)
                .map_err(|e| Error::failure(format!("cannot start the listener on {addr}: {e}")))?;
            let addr = socket.local_addr().unwrap_or(addr);
            crate::log::debug!("listening on {addr}");
            sockets.push((addr, socket));
        }
        let mut listener = Listener {
            requests,
            addresses: sockets.iter().map(|(addr, _)| *addr).collect(),
            stop: stop.clone(),
            acceptors: Vec::new(),
        };
        for (addr, socket) in sockets {
            let (tx, stop, active) = (tx.clone(), stop.clone(), active.clone());
            let acceptor = std::thread::Builder::new()
                .name(format!("listen {addr}"))
                .spawn(move || accept_loop(addr, socket, tx, stop, active))
                // Returning drops `listener`, which stops the threads already started.
                .map_err(|e| Error::failure(format!("cannot start the listener on {addr}: {e}")))?;
            listener.acceptors.push(acceptor);
        }
        Ok(listener)
    }

    /// The next request, or `None` when `wait` passes without one.
    pub(crate) fn next(&self, wait: Duration) -> Option<Request> {
        self.requests.recv_timeout(wait).ok()
    }

    /// Requests already queued (answered after the login ends so none hangs).
    pub(crate) fn drain(&self) -> impl Iterator<Item = Request> + '_ {
        self.requests.try_iter()
    }
}

impl Drop for Listener {
    /// Stops accepting and closes the listening sockets before returning: the port is free.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for acceptor in self.acceptors.drain(..) {
            let _ = acceptor.join();
        }
    }
}

/// Counts a connection being read; the count drops with it.
struct Active(Arc<AtomicUsize>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn accept_loop(
    addr: SocketAddr,
    socket: TcpListener,
    requests: Sender<Request>,
    stop: Arc<AtomicBool>,
    active: Arc<AtomicUsize>,
) {
    while !stop.load(Ordering::SeqCst) {
        match socket.accept() {
            Ok((stream, _)) => {
                if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                    active.fetch_sub(1, Ordering::SeqCst);
                    crate::log::debug!("listener: too many connections at once; closing one");
                    continue;
                }
                let guard = Active(active.clone());
                let requests = requests.clone();
                let spawned = std::thread::Builder::new()
                    .name("listener connection".into())
                    .stack_size(256 * 1024)
                    .spawn(move || {
                        let _guard = guard;
                        serve(stream, &requests);
                    });
                if let Err(e) = spawned {
                    // The closure, stream and guard included, is dropped: the connection closes.
                    crate::log::debug!("listener: cannot serve a connection: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(ACCEPT_POLL),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                // EMFILE, ENFILE, ENOBUFS, ECONNABORTED...: keep listening.
                crate::log::debug!("listener: accept on {addr} failed: {e}; still listening");
                std::thread::sleep(ACCEPT_BACKOFF);
            }
        }
    }
}

/// Reads one request head and hands the request to the login, or answers a bad one itself.
fn serve(mut stream: TcpStream, requests: &Sender<Request>) {
    // Accepted sockets must block (with timeouts), whatever the listening socket does.
    if stream.set_nonblocking(false).is_err() {
        return;
    }
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let failure = match read_head(&mut stream) {
        Ok(head) => match parse_request_line(&head) {
            Ok((method, target)) => {
                let request = Request {
                    head_only: method == "HEAD",
                    method,
                    target,
                    stream: Some(stream),
                };
                // When the login is gone the request comes back and its drop answers 410.
                let _ = requests.send(request);
                return;
            }
            Err(status) => status,
        },
        Err(HeadError::Closed) => return,
        Err(HeadError::Timeout) => 408,
        Err(HeadError::TooLarge { line_done: false }) => 414,
        Err(HeadError::TooLarge { line_done: true }) => 431,
    };
    let what = match failure {
        408 => "The request took too long to arrive.",
        414 => "The address is too long.",
        431 => "The request headers are too large.",
        505 => "Only HTTP/1.0 and HTTP/1.1 are spoken here.",
        _ => "The request was malformed.",
    };
    let html = pages::failure(
        what,
        "This address belongs to a wixauth login that is waiting for Wix's redirect.",
    );
    finish(
        stream,
        &answer(
            failure,
            "text/html; charset=utf-8",
            None,
            html.as_bytes(),
            false,
        ),
    );
}

#[derive(Debug, PartialEq, Eq)]
enum HeadError {
    /// The client went away (or the connection failed) before a whole head arrived.
    Closed,
    Timeout,
    /// Over [`MAX_HEAD`]; `line_done` when the request line itself had ended.
    TooLarge {
        line_done: bool,
    },
}

/// Reads up to the end of the request head (the empty line), within [`HEAD_TIMEOUT`] in all.
fn read_head(stream: &mut impl ReadTimeout) -> std::result::Result<Vec<u8>, HeadError> {
    let deadline = Instant::now() + HEAD_TIMEOUT;
    let mut head = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    loop {
        let end = head_end(&head);
        if end.unwrap_or(head.len()) > MAX_HEAD {
            let line_end = head.iter().position(|&b| b == b'\n');
            return Err(HeadError::TooLarge {
                line_done: line_end.is_some_and(|i| i <= MAX_HEAD),
            });
        }
        if let Some(end) = end {
            head.truncate(end);
            return Ok(head);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_timeout(left).is_err() {
            return Err(HeadError::Timeout);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(HeadError::Closed),
            Ok(n) => head.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(HeadError::Timeout)
            }
            Err(_) => return Err(HeadError::Closed),
        }
    }
}

/// A stream whose reads can be bounded (a trait so the head reader can be tested on bytes).
trait ReadTimeout: Read {
    fn set_timeout(&mut self, timeout: Duration) -> std::io::Result<()>;
}

impl ReadTimeout for TcpStream {
    fn set_timeout(&mut self, timeout: Duration) -> std::io::Result<()> {
        self.set_read_timeout(Some(timeout))
    }
}

/// Where the head ends (just past the empty line), if it has.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The method and the origin-form target of a request head, or the status to refuse it with.
fn parse_request_line(head: &[u8]) -> std::result::Result<(String, String), u16> {
    let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = head[..end].strip_suffix(b"\r").unwrap_or(&head[..end]);
    let line = std::str::from_utf8(line).map_err(|_| 400u16)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    if method.is_empty() || method.len() > 16 || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(400);
    }
    match version {
        "HTTP/1.1" | "HTTP/1.0" => {}
        v if v.starts_with("HTTP/") => return Err(505),
        _ => return Err(400),
    }
    // Visible ASCII only: browsers percent-encode everything else.
    if target.is_empty() || !target.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(400);
    }
    let target = if target.starts_with('/') {
        target.to_string()
    } else if target.len() > 7 && target[..7].eq_ignore_ascii_case("http://") {
        // Absolute form (as sent to proxies): keep the path and query.
        let rest = &target[7..];
        match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => rest[i..].to_string(),
            Some(i) => format!("/{}", &rest[i..]),
            None => "/".to_string(),
        }
    } else {
        return Err(400);
    };
    Ok((method.to_string(), target))
}

/// One HTTP request from the browser. Answer it with [`respond_html`] or [`respond_redirect`];
/// one dropped unanswered is told that the login has ended (410), so no tab hangs.
pub(crate) struct Request {
    method: String,
    target: String,
    head_only: bool,
    stream: Option<TcpStream>,
}

impl Request {
    pub(crate) fn method(&self) -> &str {
        &self.method
    }

    /// The request target as sent: the path and the raw (percent-encoded) query.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    fn respond(mut self, bytes: Vec<u8>) {
        if let Some(stream) = self.stream.take() {
            finish(stream, &bytes);
        }
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            let html = pages::failure(
                "This login has already ended.",
                "Run `wixauth login` again to start a new one.",
            );
            finish(
                stream,
                &answer(
                    410,
                    "text/html; charset=utf-8",
                    None,
                    html.as_bytes(),
                    self.head_only,
                ),
            );
        }
    }
}

/// Writes an answer, then lets the connection wind down on its own thread: what the client
/// still sends (a body, the rest of an oversized head) is read and dropped for a moment, so
/// closing does not reset the connection before the client has read the answer.
fn finish(mut stream: TcpStream, bytes: &[u8]) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = stream.write_all(bytes);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    let _ = std::thread::Builder::new()
        .name("listener linger".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(1);
            let mut sink = [0u8; 4096];
            let mut budget = 1usize << 20;
            while budget > 0 {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
                    break;
                }
                match stream.read(&mut sink) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => budget = budget.saturating_sub(n),
                }
            }
        });
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        410 => "Gone",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Serialises an answer with the headers every response carries: Wix closes its window only
/// with COOP `unsafe-none`, and a page reached with a code in its URL must be neither cached
/// nor leak it as a referrer.
fn answer(
    status: u16,
    content_type: &str,
    location: Option<&str>,
    body: &[u8],
    head_only: bool,
) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    if !body.is_empty() || location.is_none() {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    if let Some(location) = location {
        head.push_str(&format!("Location: {location}\r\n"));
    }
    if status == 405 {
        head.push_str("Allow: GET\r\n");
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\nCross-Origin-Opener-Policy: unsafe-none\r\nCache-Control: no-store, max-age=0\r\nPragma: no-cache\r\nReferrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\n\r\n",
        body.len()
    ));
    let mut bytes = head.into_bytes();
    if !head_only {
        bytes.extend_from_slice(body);
    }
    bytes
}

pub(crate) fn respond_html(request: Request, status: u16, html: String) {
    let bytes = answer(
        status,
        "text/html; charset=utf-8",
        None,
        html.as_bytes(),
        request.head_only,
    );
    request.respond(bytes);
}

pub(crate) fn respond_redirect(request: Request, location: &str) {
    // A Location is one header line: nothing but visible ASCII may go into it.
    if location.is_empty() || !location.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        let html = pages::failure(
            "wixauth could not build the address to send you to.",
            "Run `wixauth login` again.",
        );
        return respond_html(request, 500, html);
    }
    let bytes = answer(302, "", Some(location), b"", request.head_only);
    request.respond(bytes);
}

/// Splits a request target into its path and query.
pub(crate) fn split_target(target: &str) -> (&str, &str) {
    match target.split_once('?') {
        Some((path, query)) => (path, query),
        None => (target, ""),
    }
}

/// What came back on the callback, checked state first, then `error`, then `code`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Callback {
    /// Advanced flow: an authorization code for an instance.
    Code {
        code: Secret,
        instance_id: Option<String>,
    },
    /// Basic flow (external install): the instance the app was installed on.
    Installed { instance_id: String },
    /// `state` missing, repeated or different: not our login.
    BadState,
    /// The user said no.
    Denied(String),
    /// Wix reported another error, or a required parameter is missing.
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    Code,
    Installed,
}

/// Parses a callback query. Tolerates anything (bad percent-encoding, non-UTF-8, huge
/// input): the worst outcome is `BadState` or `Failed`, never a panic.
pub(crate) fn parse_callback(query: &str, expected_state: &str, expect: Expect) -> Callback {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let values = |key: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let one = |key: &str| -> Option<&str> {
        match values(key).as_slice() {
            [v] if !v.is_empty() => Some(v),
            _ => None,
        }
    };
    let state_ok =
        one("state").is_some_and(|s| bool::from(s.as_bytes().ct_eq(expected_state.as_bytes())));
    if !state_ok {
        return Callback::BadState;
    }
    if let Some(error) = values("error").first() {
        let description = one("error_description").unwrap_or(error);
        let shown: String = description.chars().take(200).collect();
        let denied = ["access_denied", "denied", "cancel"]
            .iter()
            .any(|d| error.to_ascii_lowercase().contains(d));
        return if denied {
            Callback::Denied(shown)
        } else {
            Callback::Failed(shown)
        };
    }
    match expect {
        Expect::Code => match one("code") {
            Some(code) => Callback::Code {
                code: Secret::new(code),
                instance_id: one("instanceId").map(str::to_string),
            },
            None => Callback::Failed("the redirect carried no authorization code".into()),
        },
        Expect::Installed => match one("instanceId") {
            Some(id) => Callback::Installed {
                instance_id: id.to_string(),
            },
            None => Callback::Failed("the redirect carried no instanceId".into()),
        },
    }
}

/// At least 128 bits from the OS CSPRNG, hex-encoded.
pub(crate) fn new_state() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::failure(format!("cannot get random bytes from the OS: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STATE: &str = "0123456789abcdef0123456789abcdef";

    impl ReadTimeout for &[u8] {
        fn set_timeout(&mut self, _: Duration) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn request_lines() {
        let ok = |line: &str| parse_request_line(line.as_bytes());
        assert_eq!(
            ok("GET /callback?code=a&state=b HTTP/1.1\r\nHost: x\r\n\r\n"),
            Ok(("GET".into(), "/callback?code=a&state=b".into()))
        );
        assert_eq!(ok("HEAD / HTTP/1.0\r\n"), Ok(("HEAD".into(), "/".into())));
        assert_eq!(
            ok("GET http://localhost:8338/callback?x=1 HTTP/1.1"),
            Ok(("GET".into(), "/callback?x=1".into()))
        );
        assert_eq!(
            ok("GET http://localhost:8338?x=1 HTTP/1.1"),
            Ok(("GET".into(), "/?x=1".into()))
        );
        assert_eq!(
            ok("GET http://localhost HTTP/1.1"),
            Ok(("GET".into(), "/".into()))
        );
        for bad in [
            "",
            "GET",
            "GET /",
            "GET  / HTTP/1.1",
            "GET / HTTP/1.1 extra",
            "get / HTTP/1.1",
            "GET * HTTP/1.1",
            "GET ftp://x/ HTTP/1.1",
            "GET /a\tb HTTP/1.1",
            "GET / FTP/1.0",
        ] {
            assert_eq!(ok(bad), Err(400), "{bad:?}");
        }
        assert_eq!(ok("GET / HTTP/2.0"), Err(505));
        assert_eq!(parse_request_line(b"GET /\xff HTTP/1.1"), Err(400));
        assert_eq!(parse_request_line(b"\xff\xfe"), Err(400));
    }

    #[test]
    fn heads_end_at_the_empty_line() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nbody"), Some(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\n"), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n"), None);
        assert_eq!(
            read_head(&mut &b"GET / HTTP/1.1\r\n\r\nrest"[..]),
            Ok(b"GET / HTTP/1.1\r\n\r\n".to_vec())
        );
        assert_eq!(
            read_head(&mut &b"GET / HTTP/1.1\r\nHo"[..]),
            Err(HeadError::Closed)
        );
        let long_line = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(
            read_head(&mut long_line.as_bytes()).map(|h| h.len()),
            Err(HeadError::TooLarge { line_done: false })
        );
        let long_header = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(
            read_head(&mut long_header.as_bytes()).map(|h| h.len()),
            Err(HeadError::TooLarge { line_done: true })
        );
        let just_fits = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD - 23));
        assert_eq!(
            read_head(&mut just_fits.as_bytes()).map(|h| h.len()),
            Ok(MAX_HEAD)
        );
    }

    #[test]
    fn serves_one_request_per_connection_with_the_common_headers() {
        let listener = Listener::bind(&Url::parse("http://127.0.0.1:0/cb").unwrap()).unwrap();
        let addr = listener.addresses[0];
        assert_ne!(addr.port(), 0);
        let client = std::thread::spawn(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream
                .write_all(b"GET /cb?x=%FF HTTP/1.1\r\nHost: a\r\n\r\n")
                .unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            answer
        });
        let request = listener.next(Duration::from_secs(5)).expect("a request");
        assert_eq!(request.method(), "GET");
        assert_eq!(request.target(), "/cb?x=%FF");
        respond_redirect(request, "http://127.0.0.1:1/close?t=1");
        let answer = client.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 302 Found\r\n"), "{answer}");
        for header in [
            "Location: http://127.0.0.1:1/close?t=1\r\n",
            "Cross-Origin-Opener-Policy: unsafe-none\r\n",
            "Cache-Control: no-store, max-age=0\r\n",
            "Content-Length: 0\r\n",
            "Connection: close\r\n",
        ] {
            assert!(answer.contains(header), "{header:?} missing: {answer}");
        }
        // Dropping the listener frees the port at once.
        drop(listener);
        TcpListener::bind(addr).expect("the port is free again");
    }

    #[test]
    fn an_unanswered_request_is_told_the_login_ended() {
        let listener = Listener::bind(&Url::parse("http://127.0.0.1:0/cb").unwrap()).unwrap();
        let addr = listener.addresses[0];
        let client = std::thread::spawn(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream.write_all(b"HEAD /cb HTTP/1.1\r\n\r\n").unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            answer
        });
        drop(listener.next(Duration::from_secs(5)).expect("a request"));
        let answer = client.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 410 Gone\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\n"), "no body for HEAD: {answer}");
    }

    #[test]
    fn state_is_checked_first() {
        assert_eq!(
            parse_callback("code=c&error=access_denied", STATE, Expect::Code),
            Callback::BadState
        );
        assert_eq!(
            parse_callback(&format!("state={STATE}x&code=c"), STATE, Expect::Code),
            Callback::BadState
        );
        assert_eq!(
            parse_callback(
                &format!("state={STATE}&state={STATE}&code=c"),
                STATE,
                Expect::Code
            ),
            Callback::BadState
        );
        assert_eq!(
            parse_callback("state=&code=c", STATE, Expect::Code),
            Callback::BadState
        );
    }

    #[test]
    fn error_before_code() {
        let q = format!("state={STATE}&error=access_denied&code=c");
        assert!(matches!(
            parse_callback(&q, STATE, Expect::Code),
            Callback::Denied(_)
        ));
        let q = format!("state={STATE}&error=server_error");
        assert!(matches!(
            parse_callback(&q, STATE, Expect::Code),
            Callback::Failed(_)
        ));
    }

    #[test]
    fn code_and_instance() {
        let q = format!("code=abc%2Fd&instanceId=i-1&state={STATE}");
        assert_eq!(
            parse_callback(&q, STATE, Expect::Code),
            Callback::Code {
                code: Secret::new("abc/d"),
                instance_id: Some("i-1".into())
            }
        );
        assert!(matches!(
            parse_callback(&format!("state={STATE}"), STATE, Expect::Code),
            Callback::Failed(_)
        ));
        let q = format!("appId=a&tenantId=t&instanceId=i-2&state={STATE}");
        assert_eq!(
            parse_callback(&q, STATE, Expect::Installed),
            Callback::Installed {
                instance_id: "i-2".into()
            }
        );
    }

    #[test]
    fn states_are_random_and_long() {
        let (a, b) = (new_state().unwrap(), new_state().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn only_loopback_http_redirects() {
        let ok = |u: &str| listen_addresses(&Url::parse(u).unwrap());
        assert_eq!(ok("http://localhost:8338/callback").unwrap().len(), 2);
        assert_eq!(
            ok("http://127.0.0.1:9/cb").unwrap(),
            vec!["127.0.0.1:9".parse().unwrap()]
        );
        assert_eq!(
            ok("http://[::1]:9/cb").unwrap(),
            vec!["[::1]:9".parse().unwrap()]
        );
        for bad in [
            "https://localhost:8338/cb",
            "http://example.com/cb",
            "http://0.0.0.0:1/",
            "http://10.1.2.3:1/",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_never_accepts_without_the_state(query in ".{0,400}") {
            let outcome = parse_callback(&query, STATE, Expect::Code);
            if !query.contains(STATE) {
                prop_assert_eq!(outcome, Callback::BadState);
            }
        }

        #[test]
        fn right_state_and_code_always_parse(code in "[A-Za-z0-9._~-]{1,64}", noise in "[a-z]{1,8}") {
            prop_assume!(!["code", "state", "error"].contains(&noise.as_str()));
            let q = format!("{noise}=x&code={code}&state={STATE}&instanceId=i");
            let outcome = parse_callback(&q, STATE, Expect::Code);
            prop_assert_eq!(outcome, Callback::Code { code: Secret::new(code), instance_id: Some("i".into()) });
        }

        #[test]
        fn arbitrary_request_heads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = head_end(&bytes);
            if let Ok((method, target)) = parse_request_line(&bytes) {
                prop_assert!(target.starts_with('/'));
                prop_assert!(method.bytes().all(|b| b.is_ascii_uppercase()));
            }
        }

        #[test]
        fn arbitrary_bytes_are_tolerated(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let query = String::from_utf8_lossy(&bytes);
            let _ = parse_callback(&query, STATE, Expect::Installed);
        }
    }
}
