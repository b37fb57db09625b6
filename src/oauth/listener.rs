//! The temporary local redirect listener: loopback only, on the redirect URL's port,
//! answering on both 127.0.0.1 and ::1 for `localhost` (browsers pick either).
//!
//! HTTP/1.1 is hyper's (`http1` server, one request per connection); the accept loop and the
//! policy are ours, because a login listener must outlive whatever else connects to it:
//! - an `accept` error (EMFILE under a connection flood...) backs off and retries, so the port
//!   never closes while the login waits (another local program could otherwise take it and
//!   receive the code);
//! - every connection must deliver its request head within [`HEAD_TIMEOUT`] and
//!   [`MAX_HEAD`] bytes, and at most [`MAX_CONNECTIONS`] are open at once: a new one evicts
//!   the oldest that has not delivered a head yet, so idle sockets cannot crowd out the browser;
//! - a request whose `Host` is not this listener (DNS rebinding) is refused with 421;
//! - every answer we make carries the same headers (see [`answer`]).
//!
//! The login loop is synchronous: requests reach it over a std channel ([`Listener::next`])
//! and its answers go back to the connection's task through a oneshot.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::StatusCode;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use url::Url;

use super::pages;
use crate::core::error::{Error, Result};
use crate::core::log::debug;
use crate::serve::listen_addresses;

/// The whole request head (request line and headers) must arrive within this.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head accepted; browsers send a few KB (cookies for localhost included).
const MAX_HEAD: usize = 64 * 1024;
/// Connections open at once; past it the oldest one still without a request head is closed.
const MAX_CONNECTIONS: usize = 128;
/// First pause after a failed `accept` (EMFILE and the like), doubled up to the second.
const ACCEPT_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(20), Duration::from_millis(500));
/// When the listener closes, an answered request gets this long to finish writing.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// After an answer, what the client still sends (a body, the rest of an oversized head) is read
/// and dropped for this long (and up to [`LINGER_BYTES`]): closing a socket with unread data
/// resets the connection, and the client could lose the answer.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1 << 20;

type Answer = hyper::Response<Full<Bytes>>;

pub(crate) struct Listener {
    /// `None` only while dropping: requests still queued are answered 410 by their drop.
    requests: Option<mpsc::Receiver<Request>>,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) addresses: Vec<SocketAddr>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

/// Binds the loopback sockets for a redirect URL (std sockets: the errors are the caller's).
fn bind_sockets(redirect: &Url) -> Result<Vec<std::net::TcpListener>> {
    let mut sockets: Vec<std::net::TcpListener> = Vec::new();
    for mut addr in listen_addresses(redirect)? {
        // Port 0 (tests): every address listens on the port the first one was given.
        if let Some(first) = sockets.first().and_then(|s| s.local_addr().ok()) {
            addr.set_port(first.port());
        }
        let socket = match std::net::TcpListener::bind(addr) {
            Ok(socket) => socket,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                return Err(Error::usage(format!(
                    "port {} on {} is already in use (another program, or another wixauth login): free it, or pass --redirect-url with another port that is registered in the app dashboard",
                    addr.port(),
                    addr.ip()
                )))
            }
            // A machine without IPv6 (no ::1, or no IPv6 at all) still serves 127.0.0.1.
            Err(e) if addr.is_ipv6() && !sockets.is_empty() => {
                debug!("not listening on {addr}: {e}");
                continue;
            }
            Err(e) => {
                return Err(Error::usage(format!(
                    "cannot listen on {addr}: {e}; pass another --redirect-url"
                )))
            }
        };
        socket
            .set_nonblocking(true)
            .map_err(|e| Error::failure(format!("cannot start the listener on {addr}: {e}")))?;
        sockets.push(socket);
    }
    Ok(sockets)
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

impl Listener {
    pub(crate) fn bind(redirect: &Url) -> Result<Listener> {
        let sockets = bind_sockets(redirect)?;
        let start = |e: io::Error| Error::failure(format!("cannot start the listener: {e}"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(start)?;
        let mut addresses = Vec::new();
        let mut listeners = Vec::new();
        {
            // Registering the sockets needs the runtime's reactor.
            let _entered = runtime.enter();
            for socket in sockets {
                let addr = socket.local_addr().map_err(start)?;
                debug!("listening on {addr}");
                listeners.push((addr, TcpListener::from_std(socket).map_err(start)?));
                addresses.push(addr);
            }
        }
        let port = addresses.first().map_or(0, |a| a.port());
        let (tx, requests) = mpsc::channel();
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            requests: tx,
            hosts: allowed_hosts(port),
            http: http_builder(),
            conns: Mutex::new(Conns::default()),
        });
        let server = std::thread::Builder::new()
            .name("login listener".into())
            .spawn(move || {
                runtime.block_on(serve(listeners, shared, stopped));
                // Dropping the runtime closes every connection still open.
            })
            .map_err(start)?;
        Ok(Listener {
            requests: Some(requests),
            addresses,
            stop,
            server: Some(server),
        })
    }

    /// The next request, or `None` when `wait` passes without one.
    pub(crate) fn next(&self, wait: Duration) -> Option<Request> {
        self.requests.as_ref()?.recv_timeout(wait).ok()
    }
}

impl Drop for Listener {
    /// Stops accepting and closes the listening sockets before returning: the port is free.
    /// Answered requests get [`CLOSE_GRACE`] to be written; the rest are closed.
    fn drop(&mut self) {
        // Queued requests and ones still arriving are told the login ended.
        drop(self.requests.take());
        self.stop.send_replace(true);
        if let Some(server) = self.server.take() {
            if server.join().is_err() {
                debug!("listener: the server thread panicked");
            }
        }
    }
}

fn http_builder() -> http1::Builder {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        // Both: the buffer bounds what is read, the header size what is parsed (a head that
        // arrives whole in one read can be larger than the buffer's nominal size).
        .max_buf_size(MAX_HEAD)
        .max_header_size(MAX_HEAD)
        .keep_alive(false)
        // A client may shut down its write side once the request is sent.
        .half_close(true)
        .title_case_headers(true);
    http
}

/// State shared by the accept loops and the connections.
struct Shared {
    requests: mpsc::Sender<Request>,
    hosts: Vec<String>,
    http: http1::Builder,
    conns: Mutex<Conns>,
}

/// Open connections in accept order (ids only grow).
#[derive(Default)]
struct Conns {
    next_id: u64,
    open: BTreeMap<u64, Conn>,
}

struct Conn {
    /// Its request head arrived: it is not evicted, and gets its answer written at close.
    delivered: bool,
    evict: Option<oneshot::Sender<()>>,
}

impl Shared {
    fn conns(&self) -> MutexGuard<'_, Conns> {
        // The map stays consistent whatever panicked while holding it.
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a new connection, evicting the oldest idle one when at the cap.
    /// `None`: every open connection is busy with a request; the new one is closed.
    fn admit(&self) -> Option<(u64, oneshot::Receiver<()>)> {
        let mut conns = self.conns();
        if conns.open.len() >= MAX_CONNECTIONS {
            let oldest_idle = conns
                .open
                .iter()
                .find(|(_, c)| !c.delivered)
                .map(|(id, _)| *id);
            let Some(old) = oldest_idle else {
                debug!(
                    "listener: {MAX_CONNECTIONS} requests in progress; closing a new connection"
                );
                return None;
            };
            debug!("listener: {MAX_CONNECTIONS} connections open; closing the oldest idle one");
            if let Some(evict) = conns.open.remove(&old).and_then(|c| c.evict) {
                let _ = evict.send(());
            }
        }
        let id = conns.next_id;
        conns.next_id += 1;
        let (evict, evicted) = oneshot::channel();
        conns.open.insert(
            id,
            Conn {
                delivered: false,
                evict: Some(evict),
            },
        );
        Some((id, evicted))
    }

    fn set_delivered(&self, id: u64) {
        if let Some(conn) = self.conns().open.get_mut(&id) {
            conn.delivered = true;
        }
    }

    fn delivered(&self, id: u64) -> bool {
        self.conns().open.get(&id).is_some_and(|c| c.delivered)
    }

    /// Checks the request against our policy, then hands it to the login and waits for its answer.
    async fn handle(&self, id: u64, request: hyper::Request<Incoming>) -> Answer {
        if !self.addressed_to_us(&request) {
            debug!("listener: refused a request for another host (421)");
            return page(
                421,
                "This request was not addressed to wixauth's login listener.",
            );
        }
        let uri = request.uri();
        let target = match uri.query() {
            Some(query) => format!("{}?{query}", uri.path()),
            None => uri.path().to_string(),
        };
        if !target.starts_with('/') {
            return page(400, "The request was malformed.");
        }
        self.set_delivered(id);
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
        rx.await.unwrap_or_else(|_| gone())
    }

    /// Whether `Host` (and an absolute-form target's authority) names this listener.
    fn addressed_to_us(&self, request: &hyper::Request<Incoming>) -> bool {
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

async fn serve(
    listeners: Vec<(SocketAddr, TcpListener)>,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) {
    // Every connection task holds a clone of `alive`: `recv` ends when the last one has ended.
    let (alive, mut all_closed) = tokio::sync::mpsc::channel::<()>(1);
    let accepting: Vec<_> = listeners
        .into_iter()
        .map(|(addr, socket)| {
            tokio::spawn(accept_loop(
                addr,
                socket,
                shared.clone(),
                stop.clone(),
                alive.clone(),
            ))
        })
        .collect();
    drop(alive);
    for task in accepting {
        // Each loop ends (dropping its socket) when `stop` changes.
        let _ = task.await;
    }
    let _ = tokio::time::timeout(CLOSE_GRACE + Duration::from_secs(1), all_closed.recv()).await;
}

/// Resolves when the listener is being dropped (or already was).
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

async fn accept_loop(
    addr: SocketAddr,
    socket: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    alive: tokio::sync::mpsc::Sender<()>,
) {
    let mut backoff = ACCEPT_BACKOFF.0;
    loop {
        let accepted = tokio::select! {
            _ = stopping(&mut stop) => return,
            accepted = socket.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                backoff = ACCEPT_BACKOFF.0;
                if let Some((id, evicted)) = shared.admit() {
                    tokio::spawn(connection(
                        shared.clone(),
                        id,
                        stream,
                        evicted,
                        stop.clone(),
                        alive.clone(),
                    ));
                }
            }
            Err(e) => {
                // EMFILE, ENFILE, ENOBUFS, ECONNABORTED...: keep listening.
                debug!("listener: accept on {addr} failed: {e}; still listening");
                tokio::select! {
                    _ = stopping(&mut stop) => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(ACCEPT_BACKOFF.1);
            }
        }
    }
}

/// Removes a connection from the registry when its task ends.
struct Registered(Arc<Shared>, u64);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.conns().open.remove(&self.1);
    }
}

async fn connection(
    shared: Arc<Shared>,
    id: u64,
    stream: TcpStream,
    evicted: oneshot::Receiver<()>,
    mut stop: watch::Receiver<bool>,
    _alive: tokio::sync::mpsc::Sender<()>,
) {
    let _registered = Registered(shared.clone(), id);
    let _ = stream.set_nodelay(true);
    let handler = shared.clone();
    let service = service_fn(move |request| {
        let handler = handler.clone();
        async move { Ok::<_, Infallible>(handler.handle(id, request).await) }
    });
    let mut conn = pin!(shared
        .http
        .serve_connection(TokioIo::new(Lingering::new(stream)), service));
    tokio::select! {
        served = conn.as_mut() => {
            if let Err(e) = served {
                debug!("listener: connection ended: {e}");
            }
        }
        Ok(()) = evicted => {}
        _ = stopping(&mut stop) => {
            if shared.delivered(id) {
                let _ = tokio::time::timeout(CLOSE_GRACE, conn).await;
            }
        }
    }
}

/// A TCP stream that, once something was written on it, is closed gracefully on drop: see
/// [`LINGER`]. Unanswered (idle, evicted) connections close at once, freeing the descriptor.
struct Lingering {
    stream: Option<TcpStream>,
    answered: bool,
}

impl Lingering {
    fn new(stream: TcpStream) -> Self {
        Lingering {
            stream: Some(stream),
            answered: false,
        }
    }

    fn stream(&mut self) -> io::Result<Pin<&mut TcpStream>> {
        self.stream
            .as_mut()
            .map(Pin::new)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stream()?.poll_read(cx, buf)
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.answered = true;
        self.stream()?.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.answered = true;
        self.stream()?.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream()?.poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream()?.poll_shutdown(cx)
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let Some(mut stream) = self.stream.take() else {
            return;
        };
        if !self.answered {
            return;
        }
        // Outside the runtime (it is shutting down) the stream just closes.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = stream.shutdown().await;
                let mut sink = [0u8; 4096];
                let mut left = LINGER_BYTES;
                let _ = tokio::time::timeout(LINGER, async {
                    while left > 0 {
                        match stream.read(&mut sink).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => left = left.saturating_sub(n),
                        }
                    }
                })
                .await;
            });
        }
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

/// An answer with the headers every response of ours carries: Wix closes its window only
/// with COOP `unsafe-none`, and a page reached with a code in its URL must be neither cached
/// nor leak it as a referrer. (hyper adds Content-Length and drops the body for HEAD.)
fn answer(status: u16, content_type: Option<&'static str>, body: Bytes) -> Answer {
    let mut response = hyper::Response::new(Full::new(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    let fixed = [
        (header::CONNECTION, "close"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "unsafe-none",
        ),
        (header::CACHE_CONTROL, "no-store, max-age=0"),
        (header::PRAGMA, "no-cache"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Some(content_type) = content_type {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
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
    use std::io::{Read, Write};

    fn bind_v4() -> (Listener, SocketAddr) {
        let listener = Listener::bind(&Url::parse("http://127.0.0.1:0/cb").unwrap()).unwrap();
        let addr = listener.addresses[0];
        assert_ne!(addr.port(), 0);
        (listener, addr)
    }

    /// Sends raw bytes, half-closes, and reads the whole answer.
    fn exchange(addr: SocketAddr, bytes: Vec<u8>) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(15)))
                .unwrap();
            stream.write_all(&bytes).unwrap();
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
            String::from_utf8_lossy(&answer).into_owned()
        })
    }

    fn assert_common_headers(answer: &str) {
        for header in [
            "Connection: close\r\n",
            "Cross-Origin-Opener-Policy: unsafe-none\r\n",
            "Cache-Control: no-store, max-age=0\r\n",
            "Pragma: no-cache\r\n",
            "Referrer-Policy: no-referrer\r\n",
            "X-Content-Type-Options: nosniff\r\n",
        ] {
            assert!(answer.contains(header), "{header:?} missing: {answer}");
        }
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
        // Malformed heads get hyper's bare 400 (ours would be a 421 page: no Host) and never
        // reach the login.
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
            let answer = exchange(addr, bad.to_vec()).join().unwrap();
            let shown = String::from_utf8_lossy(bad);
            assert!(
                answer.starts_with("HTTP/1.1 400 ") && answer.contains("Content-Length: 0\r\n"),
                "{shown:?}: {answer}"
            );
        }
        assert!(listener.next(Duration::ZERO).is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Whatever bytes a request target holds, the server answers (ours or hyper's 4xx) and
        /// only a visible-ASCII origin-form target ever reaches the login.
        #[test]
        fn arbitrary_targets_are_answered_and_only_clean_ones_delivered(
            target in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
        ) {
            let (listener, addr) = bind_v4();
            let head = [
                &b"GET "[..],
                &target,
                format!(" HTTP/1.1\r\nHost: localhost:{}\r\n\r\n", addr.port()).as_bytes(),
            ]
            .concat();
            let client = exchange(addr, head);
            // Answer whatever is delivered until the client has its answer.
            while !client.is_finished() {
                if let Some(request) = listener.next(Duration::from_millis(20)) {
                    proptest::prop_assert!(request.target().starts_with('/'), "{}", request.target());
                    proptest::prop_assert!(
                        request.target().bytes().all(|b| (0x21..=0x7e).contains(&b)),
                        "{:?}", request.target()
                    );
                    respond_html(request, 404, pages::not_found());
                }
            }
            let answer = client.join().unwrap();
            proptest::prop_assert!(
                answer.starts_with("HTTP/1.1 4"),
                "{answer:?}"
            );
        }
    }

    #[test]
    fn oversized_heads_are_refused() {
        let (listener, addr) = bind_v4();
        let port = addr.port();
        let long_line = format!(
            "GET /{} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n",
            "a".repeat(MAX_HEAD)
        );
        let long_header = format!(
            "GET / HTTP/1.1\r\nHost: localhost:{port}\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD)
        );
        for head in [long_line, long_header] {
            let answer = exchange(addr, head.into_bytes()).join().unwrap();
            assert!(
                answer.starts_with("HTTP/1.1 431 ") || answer.starts_with("HTTP/1.1 414 "),
                "{answer}"
            );
        }
        assert!(
            listener.next(Duration::ZERO).is_none(),
            "none reached the login"
        );
        // A head well within the limit (cookies for localhost...) is served.
        let big = format!(
            "GET /cb HTTP/1.1\r\nHost: localhost:{port}\r\nCookie: {}\r\n\r\n",
            "a".repeat(MAX_HEAD / 2)
        );
        let client = exchange(addr, big.into_bytes());
        let request = listener.next(Duration::from_secs(5)).expect("a request");
        respond_html(request, 404, pages::not_found());
        assert!(client.join().unwrap().starts_with("HTTP/1.1 404 "));
    }

    #[test]
    fn the_oldest_idle_connection_is_evicted_at_the_cap() {
        let (listener, addr) = bind_v4();
        let connect = || {
            let s = std::net::TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s
        };
        let mut idle: Vec<_> = (0..MAX_CONNECTIONS).map(|_| connect()).collect();
        // The first one, idle the longest, is closed by the server when the cap is passed...
        let client = exchange(
            addr,
            format!(
                "GET /cb HTTP/1.1\r\nHost: localhost:{}\r\n\r\n",
                addr.port()
            )
            .into_bytes(),
        );
        let request = listener
            .next(Duration::from_secs(5))
            .expect("the new request is served");
        respond_html(request, 404, pages::not_found());
        assert!(client.join().unwrap().starts_with("HTTP/1.1 404 "));
        let mut byte = [0u8; 1];
        assert_eq!(
            idle[0].read(&mut byte).unwrap(),
            0,
            "the oldest idle connection was closed"
        );
        // ... and a younger one is still open (a read times out rather than ending).
        idle[MAX_CONNECTIONS - 1]
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let err = idle[MAX_CONNECTIONS - 1].read(&mut byte).unwrap_err();
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "{err}"
        );
        idle.clear();
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
