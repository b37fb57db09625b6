//! Acting as the browser in a `wixauth login`: reqwest's blocking client that only ever contacts
//! loopback addresses (raw sockets only for hostile and malformed requests), a login process
//! that is read line by line with deadlines (and killed when a test fails), and the kernel's
//! view of listening sockets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::{TestEnv, APP_ID};

/// Bound on every connect, read and write of the client.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on waiting for a line on the login's stderr or for it to exit.
pub const WAIT: Duration = Duration::from_secs(8);

// ---------------------------------------------------------------- HTTP client

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `Location` of a redirect; panics when this is not one.
    pub fn location(&self) -> String {
        assert!(
            (300..400).contains(&self.status),
            "want a redirect, got {} {:?}: {}",
            self.status,
            self.headers,
            self.text()
        );
        self.header("location")
            .unwrap_or_else(|| panic!("redirect without Location: {:?}", self.headers))
            .to_string()
    }
}

/// The socket address of a loopback URL. Panics on anything else: tests never leave the machine.
pub fn loopback_addr(url: &url::Url) -> SocketAddr {
    let port = url
        .port_or_known_default()
        .unwrap_or_else(|| panic!("no port in {url}"));
    let ip = match url.host() {
        Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
        Some(url::Host::Ipv4(ip)) if ip.is_loopback() => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) if ip.is_loopback() => IpAddr::V6(ip),
        _ => panic!("refusing to contact a non-loopback URL: {url}"),
    };
    assert!(ip.is_loopback());
    SocketAddr::new(ip, port)
}

/// A connection to a loopback address with every operation bounded.
pub fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    assert!(addr.ip().is_loopback(), "refusing to connect to {addr}");
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(stream)
}

/// Reads one HTTP/1.x response to the end of the stream (`head_only` for the answer to a HEAD
/// request): the answers to the raw requests reqwest cannot send.
pub fn read_response(stream: &mut impl Read, head_only: bool) -> std::io::Result<Response> {
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes)?;
    if bytes.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed without a response",
        ));
    }
    let shown = || String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut head = httparse::Response::new(&mut slots);
    let head_len = match head.parse(&bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            return Err(bad(format!("cut-off response: {:?}", shown())))
        }
        Err(e) => return Err(bad(format!("not an HTTP response ({e}): {:?}", shown()))),
    };
    let response = Response {
        status: head.code.unwrap_or_default(),
        headers: head
            .headers
            .iter()
            .map(|h| {
                let value = String::from_utf8_lossy(h.value).into_owned();
                (h.name.to_string(), value)
            })
            .collect(),
        body: Vec::new(),
    };
    let rest = &bytes[head_len..];
    let status = response.status;
    let body = if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
        &[][..]
    } else if response.header("transfer-encoding").is_some() {
        return Err(bad(
            "a chunked raw response: not expected from the listener".into(),
        ));
    } else if let Some(length) = response.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| bad(format!("bad Content-Length {length:?}")))?;
        rest.get(..length)
            .ok_or_else(|| bad(format!("body shorter than Content-Length {length}")))?
    } else {
        rest
    };
    Ok(Response {
        body: body.to_vec(),
        ..response
    })
}

/// The request target (`/path?query`) of a URL.
pub fn target(url: &url::Url) -> String {
    url[url::Position::BeforePath..url::Position::AfterQuery].to_string()
}

/// The client for ordinary requests: redirects are the test's to follow (so every hop passes
/// [`loopback_addr`]), no proxy from the environment, every request bounded, `localhost`
/// pinned to 127.0.0.1 (no resolver), and no idle connection kept (the listener serves one
/// request per connection).
fn client() -> &'static reqwest::blocking::Client {
    static CLIENT: OnceLock<reqwest::blocking::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(IO_TIMEOUT)
            .timeout(IO_TIMEOUT)
            .pool_max_idle_per_host(0)
            .resolve(
                "localhost",
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            )
            .user_agent("wixauth-tests")
            .build()
            .expect("build the test HTTP client")
    })
}

/// An error with its causes (reqwest's own message leaves them out).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// One request to a loopback URL, redirects not followed; `Err` when no HTTP response came.
pub fn try_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, String> {
    let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("bad URL {url:?}: {e}"));
    loopback_addr(&parsed);
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .unwrap_or_else(|e| panic!("bad method {method:?}: {e}"));
    let mut request = client()
        .request(method.clone(), parsed.as_str())
        .header(reqwest::header::ACCEPT, "text/html");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if !body.is_empty() || method == reqwest::Method::POST {
        request = request.body(body.to_vec());
    }
    let response = request.send().map_err(|e| chain(&e))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), value)
        })
        .collect();
    let body = response.bytes().map_err(|e| chain(&e))?.to_vec();
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// A GET written by hand on a raw socket, for a request line reqwest refuses to build (past the
/// `http` crate's 64 KB URI limit); panics when no HTTP answer came.
pub fn raw_get(url: &str) -> Response {
    let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("bad URL {url:?}: {e}"));
    let addr = loopback_addr(&parsed);
    let host = &parsed[url::Position::BeforeHost..url::Position::AfterPort];
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
        target(&parsed)
    );
    let answer = connect(addr).and_then(|mut stream| {
        stream.write_all(request.as_bytes())?;
        read_response(&mut stream, false)
    });
    let shown: String = url.chars().take(200).collect();
    answer.unwrap_or_else(|e| panic!("raw GET {shown}: no response: {e}"))
}

/// One request; panics when there is no HTTP response.
pub fn request(method: &str, url: &str) -> Response {
    try_request(method, url, &[], b"")
        .unwrap_or_else(|e| panic!("{method} {url}: no response: {e}"))
}

pub fn get(url: &str) -> Response {
    request("GET", url)
}

/// A JSON POST (to the emulator).
pub fn post_json(url: &str, body: &serde_json::Value) -> Response {
    let body = body.to_string();
    try_request(
        "POST",
        url,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .unwrap_or_else(|e| panic!("POST {url}: no response: {e}"))
}

/// Resolves a `Location` against the URL it came from.
pub fn resolve(base: &str, location: &str) -> String {
    url::Url::parse(base)
        .and_then(|b| b.join(location))
        .unwrap_or_else(|e| panic!("bad Location {location:?} from {base}: {e}"))
        .to_string()
}

/// GETs `url` and follows redirects (at most 10), returning every hop with its URL.
pub fn follow(url: &str) -> Vec<(String, Response)> {
    let mut hops = Vec::new();
    let mut next = url.to_string();
    for _ in 0..10 {
        let response = get(&next);
        let location = response.header("location").map(str::to_string);
        hops.push((next.clone(), response));
        match location {
            Some(location) if (300..400).contains(&hops.last().unwrap().1.status) => {
                next = resolve(&next, &location);
            }
            _ => return hops,
        }
    }
    panic!("more than 10 redirects from {url}: {hops:?}");
}

/// Sends raw bytes on a fresh connection and reads whatever comes back until the server closes
/// it or goes quiet (never an error: hostile requests may be cut off either way).
pub fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let Ok(mut stream) = connect(addr) else {
        return Vec::new();
    };
    let _ = stream.write_all(bytes);
    let _ = stream.flush();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

/// The status code at the start of a raw response, if there is one.
pub fn raw_status(response: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(response);
    let line = text.lines().next()?;
    line.strip_prefix("HTTP/1.")?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The headers every answer of the loopback server carries (login listener and webhook
/// receiver alike).
pub fn assert_common_headers(what: &str, response: &Response) {
    for (name, value) in [
        ("connection", "close"),
        ("cache-control", "no-store, max-age=0"),
        ("pragma", "no-cache"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
    ] {
        assert_eq!(
            response.header(name),
            Some(value),
            "{what}: {name} header: {:?}",
            response.headers
        );
    }
}

/// Checks the headers every page of the listener carries and that an HTML page is self-contained.
pub fn assert_listener_response(what: &str, response: &Response) {
    assert_eq!(
        response.header("cross-origin-opener-policy"),
        Some("unsafe-none"),
        "{what}: COOP header missing: {:?}",
        response.headers
    );
    assert_common_headers(what, response);
    if response.status == 405 {
        assert_eq!(
            response.header("allow"),
            Some("GET"),
            "{what}: 405 without Allow"
        );
    }
    if (300..400).contains(&response.status) {
        return;
    }
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/html"),
        "{what}: want text/html, got {content_type:?}"
    );
    let html = response.text().to_ascii_lowercase();
    if !html.is_empty() {
        assert!(html.contains("<html"), "{what}: not an HTML page: {html}");
        for external in [
            "src=", "href=", "@import", "url(", "<link", "<script", "<img",
        ] {
            assert!(
                !html.contains(external),
                "{what}: the page must be self-contained, found {external:?}: {html}"
            );
        }
    }
}

// ---------------------------------------------------------------- sockets

/// Whether this machine has an IPv6 loopback (binding [::1]:0 works).
pub fn ipv6_available() -> bool {
    TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

/// Local addresses of every socket in LISTEN state on `port`, from /proc/net/tcp and tcp6.
pub fn listening_on(port: u16) -> Vec<IpAddr> {
    let mut found = Vec::new();
    for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 4 || fields[3] != "0A" {
                continue; // not LISTEN
            }
            let Some((addr, port_hex)) = fields[1].split_once(':') else {
                continue;
            };
            if u16::from_str_radix(port_hex, 16).ok() != Some(port) {
                continue;
            }
            // The kernel prints each 32-bit word of the address in host byte order.
            let mut bytes = Vec::new();
            for i in (0..addr.len()).step_by(8) {
                let word = u32::from_str_radix(&addr[i..i + 8], 16).expect("hex address");
                bytes.extend_from_slice(&word.to_ne_bytes());
            }
            let ip = if v6 {
                let octets: [u8; 16] = bytes.try_into().expect("16 bytes");
                let ip = Ipv6Addr::from(octets);
                match ip.to_ipv4_mapped() {
                    Some(v4) => IpAddr::V4(v4),
                    None => IpAddr::V6(ip),
                }
            } else {
                let octets: [u8; 4] = bytes.try_into().expect("4 bytes");
                IpAddr::V4(Ipv4Addr::from(octets))
            };
            found.push(ip);
        }
    }
    found
}

/// Asserts the port can be bound again on 127.0.0.1 (and [::1] when there is IPv6).
pub fn assert_port_free(port: u16) {
    // The process has exited, so its sockets are closed; still poll briefly.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, port));
        let v6 = if ipv6_available() {
            TcpListener::bind((Ipv6Addr::LOCALHOST, port)).map(Some)
        } else {
            Ok(None)
        };
        match (v4, v6) {
            (Ok(_), Ok(_)) => return,
            (v4, v6) if Instant::now() >= deadline => {
                panic!("port {port} is still taken: 127.0.0.1: {v4:?}, [::1]: {v6:?}")
            }
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

// ---------------------------------------------------------------- a running wixauth

/// A `wixauth` process read line by line while it runs; killed if the test ends early.
pub struct Running {
    child: Child,
    pub pid: u32,
    lines: Receiver<String>,
    /// stderr lines taken from `lines` so far.
    pub seen: Vec<String>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    eof: Receiver<()>,
    status: Option<ExitStatus>,
    /// When the exit was noticed (polled every millisecond).
    pub exited_at: Option<Instant>,
}

fn pump(
    mut from: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
    lines: Option<mpsc::Sender<String>>,
    eof: mpsc::Sender<()>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(&mut from);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    into.lock().unwrap().extend_from_slice(&line);
                    if let Some(lines) = &lines {
                        let _ = lines.send(String::from_utf8_lossy(&line).trim_end().to_string());
                    }
                }
            }
        }
        let _ = eof.send(());
    });
}

impl Running {
    /// Spawns `cmd` with piped output; `stdin` (if any) is written and closed.
    pub fn spawn(cmd: Command, stdin: Option<&str>) -> Running {
        Self::spawn_with_stdout(cmd, stdin, Stdio::piped())
    }

    /// Like [`Running::spawn`], with stdout going to `stdout` (read here only when piped).
    pub fn spawn_with_stdout(mut cmd: Command, stdin: Option<&str>, stdout: Stdio) -> Running {
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(stdout)
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn wixauth");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        let (line_tx, lines) = mpsc::channel();
        let (eof_tx, eof) = mpsc::channel();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        match child.stdout.take() {
            Some(pipe) => pump(pipe, stdout.clone(), None, eof_tx.clone()),
            // Not ours to read: count its end as reached.
            None => {
                let _ = eof_tx.send(());
            }
        }
        pump(
            child.stderr.take().expect("stderr pipe"),
            stderr.clone(),
            Some(line_tx),
            eof_tx,
        );
        Running {
            pid: child.id(),
            child,
            lines,
            seen: Vec::new(),
            stdout,
            stderr,
            eof,
            status: None,
            exited_at: None,
        }
    }

    /// stderr so far.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Waits (bounded) for a stderr line matching `pred`; panics with the stderr so far otherwise.
    pub fn wait_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        if let Some(line) = self.seen.iter().find(|l| pred(l)) {
            return line.clone();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no {what} on stderr within {WAIT:?}; stderr: {}",
                        self.stderr_text()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    panic!(
                        "wixauth ended ({status:?}) before printing {what}; stderr: {}",
                        self.stderr_text()
                    )
                }
            }
        }
    }

    /// The installer URL printed on stderr (the listener is up once it is printed).
    pub fn installer_url(&mut self) -> String {
        self.wait_line("the installer URL", |l| {
            let l = l.trim();
            l.starts_with("http://")
                && (l.contains("/installer/install?") || l.contains("/app-installer?"))
        })
        .trim()
        .to_string()
    }

    /// The exit status if it has exited.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.status = Some(status);
                self.exited_at = Some(Instant::now());
            }
        }
        self.status
    }

    /// Panics when the process has exited.
    pub fn assert_running(&mut self, after: &str) {
        if let Some(status) = self.try_status() {
            panic!(
                "wixauth ended ({status}) after {after}; stderr: {}",
                self.stderr_text()
            );
        }
    }

    /// Waits (bounded by `timeout`) for the exit; kills it and panics on timeout.
    pub fn wait_for(&mut self, timeout: Duration) -> Output {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.try_status() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "wixauth did not exit within {timeout:?}; stderr: {}",
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        // Both pipes reach EOF once the process is gone.
        for _ in 0..2 {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_secs(1));
            if self.eof.recv_timeout(left).is_err() {
                break;
            }
        }
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        Output {
            status,
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr.lock().unwrap().clone(),
        }
    }

    pub fn wait(&mut self) -> Output {
        self.wait_for(WAIT)
    }

    /// Sends a signal with `kill(1)`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} {} failed", self.pid);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------- logins driven by a test

/// How the app secret reaches `wixauth login`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretVia {
    Env,
    Stdin,
}

/// A login process started by a test, with its redirect URL.
pub struct Login {
    pub port: u16,
    /// `http://localhost:PORT/callback`, registered for APP_ID.
    pub redirect: String,
    pub proc: Running,
}

impl std::ops::Deref for Login {
    type Target = Running;
    fn deref(&self) -> &Running {
        &self.proc
    }
}

impl std::ops::DerefMut for Login {
    fn deref_mut(&mut self) -> &mut Running {
        &mut self.proc
    }
}

impl Login {
    /// `http://localhost:PORT` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.port)
    }

    /// The same on 127.0.0.1.
    pub fn url_v4(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), self.port)
    }
}

/// What the browser saw when it completed a login.
pub struct Browsed {
    /// The callback URL the installer redirected to.
    pub callback: String,
    /// When the callback request was sent.
    pub callback_sent: Instant,
    /// The listener's answer to the callback.
    pub answer: Response,
    /// Hops after the callback (the close-window page), if it redirected.
    pub after: Vec<(String, Response)>,
}

impl TestEnv {
    /// A free port registered as the Redirect URL `http://localhost:PORT/callback`.
    pub fn new_redirect(&self) -> (u16, String) {
        let port = super::free_port();
        let redirect = format!("http://localhost:{port}/callback");
        self.register_redirect(&redirect);
        (port, redirect)
    }

    /// `wixauth login --flow FLOW --app-id APP_ID --redirect-url http://localhost:PORT/callback`
    /// plus `extra`, on a fresh registered port; waits until the installer URL is printed.
    pub fn start_login(&self, flow: &str, via: SecretVia, extra: &[&str]) -> (Login, String) {
        let (port, redirect) = self.new_redirect();
        let mut cmd = self.std_cmd();
        cmd.args([
            "login",
            "--flow",
            flow,
            "--app-id",
            APP_ID,
            "--redirect-url",
            &redirect,
        ])
        .args(extra);
        self.start_login_cmd(port, redirect, cmd, via)
    }

    /// Like [`TestEnv::start_login`] for an advanced login with `--no-browser`.
    pub fn start_advanced(&self, extra: &[&str]) -> (Login, String) {
        let mut args = vec!["--no-browser"];
        args.extend_from_slice(extra);
        self.start_login("advanced", SecretVia::Env, &args)
    }

    /// Starts a prepared login command and waits for its installer URL.
    pub fn start_login_cmd(
        &self,
        port: u16,
        redirect: String,
        mut cmd: Command,
        via: SecretVia,
    ) -> (Login, String) {
        let stdin = match via {
            SecretVia::Env => {
                cmd.env("WIX_APP_SECRET", &self.secret);
                None
            }
            SecretVia::Stdin => {
                cmd.arg("--secret-stdin");
                Some(format!("{}\n", self.secret))
            }
        };
        // Anything not on loopback would go to a proxy on a closed port: never outside.
        cmd.envs(super::blocked_proxy_env());
        let mut proc = Running::spawn(cmd, stdin.as_deref());
        let url = proc.installer_url();
        (
            Login {
                port,
                redirect,
                proc,
            },
            url,
        )
    }

    /// The emulator's installer page: returns the listener URL it redirects to (not followed).
    pub fn installer_redirect(&self, install_url: &str) -> String {
        let response = get(install_url);
        resolve(install_url, &response.location())
    }

    /// Acts as the browser: installer → listener callback → (close-window), like a browser would.
    pub fn browse(&self, install_url: &str) -> Browsed {
        let callback = self.installer_redirect(install_url);
        self.send_callback(&callback)
    }

    /// Sends the callback request and follows the listener's redirect, if any.
    pub fn send_callback(&self, callback: &str) -> Browsed {
        let callback_sent = Instant::now();
        let answer = get(callback);
        assert_listener_response("the callback", &answer);
        let after = match answer.header("location") {
            Some(location) if (300..400).contains(&answer.status) => {
                follow(&resolve(callback, location))
            }
            _ => Vec::new(),
        };
        Browsed {
            callback: callback.to_string(),
            callback_sent,
            answer,
            after,
        }
    }

    /// A whole advanced login through the listener; returns the instance id and the output.
    pub fn login_advanced_via_browser(&self, instance: &str) -> Output {
        self.emu.set_next_instance(instance);
        let (mut login, url) = self.start_advanced(&[]);
        self.browse(&url);
        let out = login.wait();
        self.assert_no_leak(&out);
        assert!(
            out.status.success(),
            "advanced login failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// A query parameter of a URL.
pub fn query_param(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

impl TestEnv {
    /// An entry of the file secret store (`secrets.toml`), if present.
    pub fn stored_secret(&self, entry: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.secrets_file()).ok()?;
        let table: toml::Table = toml::from_str(&text).expect("secrets.toml is TOML");
        table
            .get(entry)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    /// The refresh token stored for an instance of the default profile.
    pub fn stored_refresh_token(&self, instance: &str) -> Option<String> {
        self.stored_secret(&format!("default/{instance}/refresh-token"))
    }

    /// config.toml, parsed.
    pub fn config(&self) -> toml::Table {
        toml::from_str(&super::read(&self.config_file())).expect("config.toml is TOML")
    }

    /// `profiles.default` of config.toml.
    pub fn default_profile(&self) -> toml::Table {
        self.config()["profiles"]["default"]
            .as_table()
            .expect("profiles.default")
            .clone()
    }
}

#[test]
#[should_panic(expected = "refusing to contact a non-loopback URL")]
fn the_client_never_leaves_loopback() {
    // Not loopback, yet still this machine should the check ever let it through.
    get("http://0.0.0.0:1/");
}
