//! The temporary local redirect listener of a browser login: the loopback server
//! ([`crate::serve`]) with the login's policy.
//!
//! The server binds the redirect URL's port (both 127.0.0.1 and ::1 for `localhost`), bounds
//! every connection and survives floods; this file adds what only a login needs:
//! - a request whose `Host` is not this listener (DNS rebinding) is refused with 421;
//! - every answer carries `Cross-Origin-Opener-Policy: unsafe-none` (Wix closes its window
//!   only then) besides the server's common headers;
//! - the login loop is synchronous: requests reach it over a std channel ([`Listener::next`])
//!   and its answers go back to the connection through a oneshot; a request it drops
//!   unanswered, or one still arriving when the login ends, is told so (410).

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use tokio::sync::oneshot;
use url::Url;

use super::pages;
use crate::core::error::{Error, Result};
use crate::serve::{self, Answer, Limits, Reply, Server, StartError};

/// The login reads no bodies: what a client sends is dropped by the lingering close.
const LIMITS: Limits = Limits {
    max_body: 0,
    ..Limits::DEFAULT
};

pub(crate) struct Listener {
    /// `None` only while dropping: requests still queued are answered 410 by their drop.
    requests: Option<mpsc::Receiver<Request>>,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) addresses: Vec<SocketAddr>,
    server: Option<Server>,
}

/// The `Host` values (lowercase) that address this listener: a page from any other origin
/// (DNS rebinding: `evil.com` resolving to 127.0.0.1) must not reach the login.
fn allowed_hosts(port: u16) -> Vec<String> {
    let names = ["localhost", "127.0.0.1", "[::1]"];
    let mut hosts: Vec<String> = names.iter().map(|n| format!("{n}:{port}")).collect();
    if port == 80 {
        hosts.extend(names.iter().map(|n| n.to_string()));
    }
    hosts
}

/// What the server's errors mean to someone choosing a redirect URL.
fn start_error(e: StartError) -> Error {
    let in_use = |port, ip| {
        format!("port {port} on {ip} is already in use (another program, or another wixauth login): free it, or pass --redirect-url with another port that is registered in the app dashboard")
    };
    e.for_user(in_use, "--redirect-url", "listener")
}

impl Listener {
    pub(crate) fn bind(redirect: &Url) -> Result<Listener> {
        let bound = serve::bind(&serve::listen_addresses(redirect)?).map_err(start_error)?;
        let addresses = bound.addresses().to_vec();
        let (tx, requests) = mpsc::channel();
        let policy = Login {
            requests: tx,
            hosts: allowed_hosts(bound.port()),
        };
        let server = bound
            .serve("login listener", LIMITS, policy)
            .map_err(start_error)?;
        Ok(Listener {
            requests: Some(requests),
            addresses,
            server: Some(server),
        })
    }

    /// The next request, or `None` when `wait` passes without one.
    pub(crate) fn next(&self, wait: Duration) -> Option<Request> {
        self.requests.as_ref()?.recv_timeout(wait).ok()
    }
}

impl Drop for Listener {
    /// Closes the port before returning; requests already answered are still written.
    fn drop(&mut self) {
        // Queued requests and ones still arriving are told the login ended.
        drop(self.requests.take());
        drop(self.server.take());
    }
}

/// The login's policy: only requests addressed to this listener reach the login loop.
struct Login {
    requests: mpsc::Sender<Request>,
    hosts: Vec<String>,
}

impl serve::Policy for Login {
    async fn answer(&self, request: serve::Request) -> Reply {
        if !self.addressed_to_us(&request) {
            crate::core::log::debug!("listener: refused a request for another host (421)");
            return page(
                421,
                "This request was not addressed to wixauth's login listener.",
            )
            .into();
        }
        let Some(target) = request.target() else {
            return page(400, "The request was malformed.").into();
        };
        let (tx, rx) = oneshot::channel();
        let request = Request {
            method: request.method().as_str().to_string(),
            target,
            answer: Some(tx),
        };
        // With the login gone the request comes back: its drop answers 410.
        if let Err(mpsc::SendError(request)) = self.requests.send(request) {
            drop(request);
        }
        rx.await.unwrap_or_else(|_| gone()).into()
    }
}

/// The login's policy with no login behind it: what it would hand the login is told the login
/// has ended (410). The loopback server's fuzz target answers with it.
#[cfg(any(test, fuzzing))]
pub(crate) fn policy_without_login(port: u16) -> (Limits, impl serve::Policy) {
    let (requests, _) = mpsc::channel();
    let policy = Login {
        requests,
        hosts: allowed_hosts(port),
    };
    (LIMITS, policy)
}

impl Login {
    /// Whether `Host` (and an absolute-form target's authority) names this listener.
    fn addressed_to_us(&self, request: &serve::Request) -> bool {
        let ours = |host: &str| self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host));
        let mut hosts = request.headers().get_all(header::HOST).iter();
        let host_ok = match (hosts.next(), hosts.next()) {
            (Some(host), None) => host.to_str().is_ok_and(ours),
            _ => false,
        };
        let authority_ok = request
            .uri()
            .authority()
            .is_none_or(|a| ours(a.as_str()) && request.uri().scheme_str() == Some("http"));
        host_ok && authority_ok
    }
}

/// One HTTP request from the browser. Answer it with [`respond_html`] or [`respond_redirect`];
/// one dropped unanswered is told that the login has ended (410), so no tab hangs.
pub(crate) struct Request {
    method: String,
    target: String,
    answer: Option<oneshot::Sender<Answer>>,
}

impl Request {
    pub(crate) fn method(&self) -> &str {
        &self.method
    }

    /// The request target as sent: the path and the raw (percent-encoded) query.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    fn respond(mut self, answer: Answer) {
        if let Some(tx) = self.answer.take() {
            // The connection may be gone already (the browser gave up): nothing to do then.
            let _ = tx.send(answer);
        }
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if let Some(tx) = self.answer.take() {
            let _ = tx.send(gone());
        }
    }
}

fn gone() -> Answer {
    html(410, pages::ended())
}

/// A failure page of ours for a request refused before it reached the login.
fn page(status: u16, what: &str) -> Answer {
    html(
        status,
        pages::failure(
            what,
            "This address belongs to a wixauth login that is waiting for Wix's redirect.",
        ),
    )
}

fn html(status: u16, html: String) -> Answer {
    answer(status, Some("text/html; charset=utf-8"), html.into())
}

/// An answer of the login's: the server adds its common headers (no-store, no referrer...);
/// Wix closes its window only with COOP `unsafe-none`.
fn answer(status: u16, content_type: Option<&'static str>, body: Bytes) -> Answer {
    let mut response = serve::answer(status, content_type, body);
    let headers = response.headers_mut();
    headers.insert(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("unsafe-none"),
    );
    if status == 405 {
        headers.insert(header::ALLOW, HeaderValue::from_static("GET"));
    }
    response
}

pub(crate) fn respond_html(request: Request, status: u16, body: String) {
    request.respond(html(status, body));
}

pub(crate) fn respond_redirect(request: Request, location: &str) {
    // A Location is one header line: nothing but visible ASCII may go into it.
    let value = location
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b))
        .then(|| HeaderValue::from_str(location).ok())
        .flatten()
        .filter(|_| !location.is_empty());
    let Some(value) = value else {
        let body = pages::failure(
            "wixauth could not build the address to send you to.",
            "Run `wixauth login` again.",
        );
        return respond_html(request, 500, body);
    };
    let mut redirect = answer(302, None, Bytes::new());
    redirect.headers_mut().insert(header::LOCATION, value);
    request.respond(redirect);
}

/// Splits a request target into its path and query.
pub(crate) fn split_target(target: &str) -> (&str, &str) {
    match target.split_once('?') {
        Some((path, query)) => (path, query),
        None => (target, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind_v4() -> (Listener, SocketAddr) {
        let listener = Listener::bind(&Url::parse("http://127.0.0.1:0/cb").unwrap()).unwrap();
        let addr = listener.addresses[0];
        assert_ne!(addr.port(), 0);
        (listener, addr)
    }

    /// Sends raw bytes from a thread (the test answers meanwhile); the whole answer.
    fn exchange(addr: SocketAddr, bytes: Vec<u8>) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || serve::testing::exchange(addr, &bytes))
    }

    fn assert_common_headers(answer: &str) {
        serve::testing::assert_common_headers(answer);
        let coop = "Cross-Origin-Opener-Policy: unsafe-none\r\n";
        assert!(answer.contains(coop), "{coop:?} missing: {answer}");
    }

    #[test]
    fn serves_one_request_per_connection_with_the_common_headers() {
        let (listener, addr) = bind_v4();
        let host = format!("127.0.0.1:{}", addr.port());
        let client = exchange(
            addr,
            format!("GET /cb?x=%FF HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes(),
        );
        let request = listener.next(Duration::from_secs(5)).expect("a request");
        assert_eq!(request.method(), "GET");
        assert_eq!(request.target(), "/cb?x=%FF");
        respond_redirect(request, "http://127.0.0.1:1/close?t=1");
        // As at the end of a login: the listener goes the moment the answer is given, and the
        // port is free at once, yet the answer still reaches the browser.
        drop(listener);
        std::net::TcpListener::bind(addr).expect("the port is free again");
        let answer = client.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 302 Found\r\n"), "{answer}");
        assert!(
            answer.contains("Location: http://127.0.0.1:1/close?t=1\r\n"),
            "{answer}"
        );
        assert!(answer.contains("Content-Length: 0\r\n"), "{answer}");
        assert_common_headers(&answer);
    }

    #[test]
    fn an_unanswered_request_is_told_the_login_ended() {
        let (listener, addr) = bind_v4();
        let client = exchange(
            addr,
            format!(
                "HEAD /cb HTTP/1.1\r\nHost: localhost:{}\r\n\r\n",
                addr.port()
            )
            .into_bytes(),
        );
        drop(listener.next(Duration::from_secs(5)).expect("a request"));
        let answer = client.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 410 Gone\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\n"), "no body for HEAD: {answer}");
        assert_common_headers(&answer);
    }

    #[test]
    fn requests_for_another_host_are_refused_421() {
        let (listener, addr) = bind_v4();
        let port = addr.port();
        for head in [
            format!("GET /cb HTTP/1.1\r\nHost: evil.com:{port}\r\n\r\n"),
            format!(
                "GET /cb HTTP/1.1\r\nHost: localhost:{}\r\n\r\n",
                port.wrapping_add(1)
            ),
            "GET /cb HTTP/1.1\r\nHost: localhost\r\n\r\n".to_string(),
            "GET /cb HTTP/1.1\r\n\r\n".to_string(),
            format!("GET /cb HTTP/1.1\r\nHost: localhost:{port}\r\nHost: evil.com\r\n\r\n"),
            format!("GET http://evil.com:{port}/cb HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n"),
        ] {
            let answer = exchange(addr, head.clone().into_bytes()).join().unwrap();
            assert!(answer.starts_with("HTTP/1.1 421 "), "{head:?}: {answer}");
            assert_common_headers(&answer);
            assert!(answer.contains("Content-Type: text/html"), "{answer}");
        }
        assert!(
            listener.next(Duration::ZERO).is_none(),
            "none reached the login"
        );
        // Our own host names, in any case, do.
        for host in [format!("LocalHost:{port}"), format!("127.0.0.1:{port}")] {
            let client = exchange(
                addr,
                format!("GET /cb HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes(),
            );
            let request = listener.next(Duration::from_secs(5)).expect("a request");
            respond_html(request, 404, pages::not_found());
            assert!(client.join().unwrap().starts_with("HTTP/1.1 404 "));
        }
    }

    #[test]
    fn without_a_login_it_answers_from_memory_410_or_421() {
        let status = |request: &str| {
            let (limits, policy) = policy_without_login(8338);
            let bound = Duration::from_secs(5);
            let answer = serve::memory::exchange(limits, policy, request.as_bytes(), bound);
            String::from_utf8_lossy(&answer.unwrap())[..12].to_string()
        };
        let ours = "GET /callback?state=x HTTP/1.1\r\nHost: localhost:8338\r\n\r\n";
        assert_eq!(status(ours), "HTTP/1.1 410");
        let theirs = "GET /callback HTTP/1.1\r\nHost: evil.com:8338\r\n\r\n";
        assert_eq!(status(theirs), "HTTP/1.1 421");
    }

    #[test]
    fn request_targets() {
        let (listener, addr) = bind_v4();
        let port = addr.port();
        for (line, want) in [
            (
                "GET /cb?code=a&state=b HTTP/1.1".to_string(),
                "/cb?code=a&state=b",
            ),
            ("HEAD / HTTP/1.0".to_string(), "/"),
            (
                format!("GET http://localhost:{port}/cb?x=1 HTTP/1.1"),
                "/cb?x=1",
            ),
            (format!("GET http://localhost:{port}?x=1 HTTP/1.1"), "/?x=1"),
            (format!("GET http://localhost:{port} HTTP/1.1"), "/"),
        ] {
            let client = exchange(
                addr,
                format!("{line}\r\nHost: localhost:{port}\r\n\r\n").into_bytes(),
            );
            let request = listener.next(Duration::from_secs(5)).expect(&line);
            assert_eq!(request.target(), want, "{line}");
            respond_html(request, 404, pages::not_found());
            assert!(client.join().unwrap().contains(" 404 "), "{line}");
        }
        assert!(listener.next(Duration::ZERO).is_none());
    }

    #[test]
    fn a_port_in_use_is_a_usage_error_naming_it() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = Listener::bind(&Url::parse(&format!("http://127.0.0.1:{port}/cb")).unwrap())
            .err()
            .expect("the port is taken");
        assert_eq!(err.exit, crate::core::error::Exit::Usage);
        assert!(err.message().contains(&format!("port {port}")), "{err}");
        assert!(err.message().contains("--redirect-url"), "{err}");
    }
}
