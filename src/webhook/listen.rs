//! `wixauth webhook listen`: a receiver on localhost for Wix deliveries that a tunnel
//! (cloudflared, ngrok) brings in. hyper's HTTP/1 server on a current-thread tokio runtime,
//! bound to 127.0.0.1 and ::1 only.
//!
//! Wix retries a delivery that is not answered with 200 within 1250 ms, so the answer never
//! waits on the developer's own server: the body is relayed to `--forward-to` only after the
//! answer is written, on its own bounded task. Saving an instance is waited for up to
//! [`SAVE_WAIT`] (a failure then answers 500, so that Wix delivers again); a slower save
//! (fsync on a busy disk) finishes after the answer and is reported then.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{mpsc, Notify, Semaphore};
use url::{Host, Url};

use super::instances::{start_saver, SaveQueue, Saved, Saver};
use super::verify::{verify, Event};
use super::PublicKey;
use crate::core::error::{Error, Result};
use crate::core::text::printable;
use crate::ui::Io;

/// Bodies larger than this get 413 (Wix's are a few KB).
pub const MAX_BODY: usize = 1024 * 1024;
/// The request head must arrive within this, the body within [`BODY_TIMEOUT`].
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection, however slow, is closed after this.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the answer waits for an instance to be saved (so that a failure can answer 500
/// and Wix delivers again); past that it answers 200 in time for Wix's 1250 ms anyway.
const SAVE_WAIT: Duration = Duration::from_millis(800);
/// One relay to `--forward-to` may take this long.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);
/// Relays in flight at once; past that a delivery is not relayed (and says so).
const MAX_FORWARDS: usize = 32;
/// Connections served at once; more are closed straight away.
const MAX_CONNECTIONS: usize = 128;
/// With `--once`, how long the exit waits for the relay of the event.
const ONCE_FORWARD_WAIT: Duration = Duration::from_secs(11);

pub struct ListenOptions {
    pub port: u16,
    pub path: String,
    pub forward_to: Option<Url>,
    pub save_instances: bool,
    pub once: bool,
    /// `--save-deliveries DIR` (the webhook lab's `replay`).
    pub save_deliveries: Option<std::path::PathBuf>,
}

/// Checks `--path`: an absolute path without query, fragment or odd characters.
pub fn check_path(path: &str) -> Result<()> {
    let ok = path.starts_with('/')
        && path.len() <= 256
        && !path.contains(['?', '#'])
        && path.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "--path {} must be a URL path such as /webhook",
            printable(path, 80)
        )))
    }
}

/// Checks `--forward-to`: `http(s)://` on a loopback host (the developer's own server).
pub fn check_forward_to(text: &str) -> Result<Url> {
    let refuse = || {
        Error::usage(format!(
            "--forward-to {} must be an http:// URL on this machine (localhost, 127.0.0.1 or [::1]): deliveries are only relayed to your own server",
            printable(text, 120)
        ))
    };
    let url = Url::parse(text).map_err(|_| refuse())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse());
    }
    match url.host() {
        Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => Ok(url),
        Some(Host::Ipv4(ip)) if ip.is_loopback() => Ok(url),
        Some(Host::Ipv6(ip)) if ip.is_loopback() => Ok(url),
        _ => Err(refuse()),
    }
}

/// What connection tasks tell the loop that owns the terminal.
enum Report {
    Event { json: String, summary: String },
    Forwarded(String),
    Note(String),
}

/// Everything a connection needs, shared.
struct Shared {
    key: PublicKey,
    path: String,
    /// The profile's name and the saver thread, with `--save-instances`.
    save: Option<(String, Mutex<SaveQueue>)>,
    forward: Option<Forwarder>,
    reports: mpsc::UnboundedSender<Report>,
    deliveries: Option<super::replay::DeliveryLog>,
}

struct Forwarder {
    url: Url,
    client: reqwest::Client,
    slots: Arc<Semaphore>,
}

impl Forwarder {
    fn new(url: Url) -> Result<Forwarder> {
        let mut builder = reqwest::Client::builder()
            // A proxy from the environment must never see a delivery meant for localhost.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FORWARD_TIMEOUT)
            .user_agent(concat!("wixauth/", env!("CARGO_PKG_VERSION")));
        if let (Some(Host::Domain(name)), Some(port)) = (url.host(), url.port_or_known_default()) {
            // `localhost` is connected to on 127.0.0.1 whatever the resolver says; the Host
            // header stays what the developer's server expects.
            builder = builder.resolve(name, SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
        }
        let client = builder
            .build()
            .map_err(|e| Error::failure(format!("cannot set up forwarding: {e}")))?;
        Ok(Forwarder {
            url,
            client,
            slots: Arc::new(Semaphore::new(MAX_FORWARDS)),
        })
    }

    /// Relays the raw body and content type; one line for stderr either way.
    async fn relay(&self, body: Bytes, content_type: Option<HeaderValue>) -> String {
        let Ok(_slot) = self.slots.clone().try_acquire_owned() else {
            return format!(
                "not forwarded to {}: {MAX_FORWARDS} relays are already waiting for it",
                self.url
            );
        };
        let mut request = self.client.post(self.url.clone()).body(body);
        if let Some(ct) = content_type {
            request = request.header(CONTENT_TYPE, ct);
        }
        match request.send().await {
            Ok(response) => format!("forwarded to {}: {}", self.url, response.status()),
            Err(e) if e.is_timeout() => format!(
                "forwarding to {} failed: no answer within {} s",
                self.url,
                FORWARD_TIMEOUT.as_secs()
            ),
            Err(e) => {
                let why = if e.is_connect() {
                    "cannot connect (is your server running?)".to_string()
                } else {
                    e.to_string()
                };
                format!("forwarding to {} failed: {why}", self.url)
            }
        }
    }
}

/// A verified delivery, kept by the handler until its answer is written.
struct Delivery {
    event: Event,
    saved: Saving,
    body: Bytes,
    content_type: Option<HeaderValue>,
}

/// Where `--save-instances` is for a delivery when its answer is written.
enum Saving {
    Off,
    Done(Option<String>),
    /// Still running (a slow disk): reported once it ends, after the answer.
    Pending(tokio::sync::oneshot::Receiver<std::result::Result<Saved, String>>),
}

/// Binds 127.0.0.1 (and ::1 on the same port when the machine has IPv6).
fn bind(port: u16) -> Result<Vec<std::net::TcpListener>> {
    let in_use = |addr: SocketAddr| {
        Error::usage(format!(
            "port {} on {} is already in use (another `wixauth webhook listen`?): stop it, or pass --port with another port and point the tunnel there",
            addr.port(),
            addr.ip()
        ))
    };
    let bind_one = |addr: SocketAddr| {
        std::net::TcpListener::bind(addr).map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => in_use(addr),
            _ => Error::usage(format!("cannot listen on {addr}: {e}; pass another --port")),
        })
    };
    let v4 = bind_one(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))?;
    let port = v4.local_addr().map(|a| a.port()).unwrap_or(port);
    let mut sockets = vec![v4];
    let v6_addr = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port);
    match std::net::TcpListener::bind(v6_addr) {
        Ok(v6) => sockets.push(v6),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => return Err(in_use(v6_addr)),
        // A machine without IPv6 still serves 127.0.0.1.
        Err(e) => crate::core::log::debug!("not listening on {v6_addr}: {e}"),
    }
    for socket in &sockets {
        socket
            .set_nonblocking(true)
            .map_err(|e| Error::failure(format!("cannot start the receiver: {e}")))?;
    }
    Ok(sockets)
}

/// Ctrl-C wakes the loop (which then exits 130 and frees the port).
fn interrupt() -> Arc<Notify> {
    let notify = Arc::new(Notify::new());
    let waker = notify.clone();
    crate::ui::interrupt::on_interrupt_wake(move || waker.notify_one());
    notify
}

/// Runs the receiver until Ctrl-C (an `interrupted` error: exit 130) or, with `--once`, the
/// first valid event.
pub fn run(opts: &ListenOptions, key: PublicKey, saver: Saver, io: &mut Io) -> Result<()> {
    check_path(&opts.path)?;
    let sockets = bind(opts.port)?;
    let port = sockets[0]
        .local_addr()
        .map(|a| a.port())
        .unwrap_or(opts.port);
    let forward = opts.forward_to.clone().map(Forwarder::new).transpose()?;
    let interrupted = interrupt();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failure(format!("cannot start the receiver: {e}")))?;
    let (reports, inbox) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        key,
        path: opts.path.clone(),
        save: opts.save_instances.then(|| {
            let profile = saver.profile.clone();
            (profile, Mutex::new(start_saver(saver)))
        }),
        forward,
        reports,
        deliveries: (opts.save_deliveries.as_deref())
            .map(super::replay::DeliveryLog::open)
            .transpose()?,
    });
    io.note(&format!(
        "Listening on http://localhost:{port}{} (127.0.0.1 and [::1] only){}; Ctrl-C stops.",
        opts.path,
        match &opts.forward_to {
            Some(url) => format!(", forwarding to {url}"),
            None => String::new(),
        }
    ));
    io.note(&format!(
        "Tunnel it (`cloudflared tunnel --url http://localhost:{port}` or `ngrok http {port}`) and register the tunnel's https URL + {} as the app's webhook URL.",
        opts.path
    ));
    // Dropping the runtime at the end closes the sockets: the port is free when this returns.
    runtime.block_on(serve(sockets, shared, inbox, interrupted, opts, io))
}

async fn serve(
    sockets: Vec<std::net::TcpListener>,
    shared: Arc<Shared>,
    mut inbox: mpsc::UnboundedReceiver<Report>,
    interrupted: Arc<Notify>,
    opts: &ListenOptions,
    io: &mut Io,
) -> Result<()> {
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut acceptors = tokio::task::JoinSet::new();
    for socket in sockets {
        let listener = tokio::net::TcpListener::from_std(socket)
            .map_err(|e| Error::failure(format!("cannot start the receiver: {e}")))?;
        acceptors.spawn(accept_loop(listener, shared.clone(), connections.clone()));
    }
    // Set once `--once` has its event and waits only for that event's relay.
    let mut once_deadline: Option<Instant> = None;
    loop {
        let wait_once = async {
            match once_deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = interrupted.notified() => return Err(Error::interrupted()),
            () = wait_once => return Ok(()),
            report = inbox.recv() => match report {
                Some(Report::Event { json, summary }) => {
                    if once_deadline.is_some() {
                        continue;
                    }
                    io.print(&format!("{json}\n"))?;
                    io.note(&printable(&summary, 600));
                    if opts.once {
                        if shared.forward.is_none() {
                            return Ok(());
                        }
                        once_deadline = Some(Instant::now() + ONCE_FORWARD_WAIT);
                    }
                }
                Some(Report::Forwarded(line)) => {
                    io.note(&printable(&line, 300));
                    if once_deadline.is_some() {
                        return Ok(());
                    }
                }
                Some(Report::Note(line)) => io.note(&printable(&line, 300)),
                // The loop holds a sender through `shared`, so this does not happen.
                None => return Ok(()),
            },
        }
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    connections: Arc<Semaphore>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                // Over the limit the stream is dropped: the connection closes.
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    continue;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    connection(stream, shared).await;
                });
            }
            // EMFILE and the like: keep listening.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Serves one request (no keep-alive), then reports and relays what it accepted.
async fn connection(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let delivery: Arc<Mutex<Option<Delivery>>> = Arc::default();
    let service = {
        let (shared, delivery) = (shared.clone(), delivery.clone());
        hyper::service::service_fn(move |request| {
            let (shared, delivery) = (shared.clone(), delivery.clone());
            async move { Ok::<_, Infallible>(handle(request, &shared, &delivery).await) }
        })
    };
    let served = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(CONNECTION_TIMEOUT, served).await;
    // The answer has been written (or the client is gone): now the slow parts.
    let taken = delivery.lock().ok().and_then(|mut d| d.take());
    let Some(delivery) = taken else { return };
    let mut summary = delivery.event.summary();
    let saved = match delivery.saved {
        Saving::Off => None,
        Saving::Done(saved) => saved,
        Saving::Pending(outcome) => match outcome.await {
            Ok(Ok(saved)) => shared
                .save
                .as_ref()
                .and_then(|(profile, _)| saved.describe(profile)),
            Ok(Err(why)) => Some(format!(
                "cannot save it: {why}; run `wixauth login --instance-id ID` for it"
            )),
            Err(_) => Some("cannot save it: the saver thread is gone".to_string()),
        },
    };
    if let Some(saved) = saved {
        summary.push_str(&format!("; {saved}"));
    }
    let _ = shared.reports.send(Report::Event {
        json: delivery.event.to_json().to_string(),
        summary,
    });
    if let Some(forward) = &shared.forward {
        let line = forward.relay(delivery.body, delivery.content_type).await;
        let _ = shared.reports.send(Report::Forwarded(line));
    }
}

/// A save that failed before the answer: 500, so that Wix delivers the event again.
fn save_failed(shared: &Shared, event: &Event, why: &str) -> Response<Full<Bytes>> {
    let _ = shared.reports.send(Report::Note(format!(
        "{}: cannot save it: {why}; answered 500 so that Wix delivers it again",
        event.summary()
    )));
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the event could not be saved",
    )
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{body}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

async fn handle(
    request: Request<Incoming>,
    shared: &Shared,
    delivery: &Mutex<Option<Delivery>>,
) -> Response<Full<Bytes>> {
    if request.uri().path() != shared.path {
        return text(
            StatusCode::NOT_FOUND,
            &format!("not found: wixauth receives webhooks at {}", shared.path),
        );
    }
    if request.method() != Method::POST {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed: POST only",
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let too_large = || {
        text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload too large: a Wix delivery is at most 1 MiB",
        )
    };
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        let _ = shared.reports.send(Report::Note(
            "refused a delivery (413): its body is over 1 MiB".into(),
        ));
        return too_large();
    }
    let content_type = request.headers().get(CONTENT_TYPE).cloned();
    let saving = super::replay::pending(shared.deliveries.as_ref(), request.headers());
    let body = Limited::new(request.into_body(), MAX_BODY).collect();
    let body = match tokio::time::timeout(BODY_TIMEOUT, body).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            let _ = shared.reports.send(Report::Note(
                "refused a delivery (413): its body is over 1 MiB".into(),
            ));
            return too_large();
        }
        Ok(Err(_)) => {
            return text(
                StatusCode::BAD_REQUEST,
                "bad request: the body did not arrive",
            )
        }
        Err(_) => {
            return text(
                StatusCode::REQUEST_TIMEOUT,
                "request timeout: the body did not arrive",
            )
        }
    };
    let event = match verify(&body, &shared.key, false) {
        Ok(event) => event,
        Err(e) => {
            let _ = shared
                .reports
                .send(Report::Note(format!("rejected a delivery (401): {e}")));
            return text(
                StatusCode::UNAUTHORIZED,
                "unauthorized: not a Wix webhook signed with this app's key",
            );
        }
    };
    if let Some(note) = saving.and_then(|s| s.verified(&body)) {
        let _ = shared.reports.send(Report::Note(note));
    }
    let mut saved = Saving::Off;
    if let Some((profile, saver)) = &shared.save {
        let (reply, outcome) = tokio::sync::oneshot::channel();
        let queued = saver
            .lock()
            .map(|s| s.send((event.clone(), reply)).is_ok())
            .unwrap_or(false);
        if !queued {
            return save_failed(shared, &event, "the saver thread is gone");
        }
        let mut outcome = outcome;
        saved = match tokio::time::timeout(SAVE_WAIT, &mut outcome).await {
            Ok(Ok(Ok(outcome))) => Saving::Done(outcome.describe(profile)),
            Ok(Ok(Err(e))) => return save_failed(shared, &event, &e),
            Ok(Err(_)) => return save_failed(shared, &event, "the saver thread is gone"),
            // Answer in time anyway; the outcome is reported when it comes.
            Err(_) => Saving::Pending(outcome),
        };
    }
    if let Ok(mut slot) = delivery.lock() {
        *slot = Some(Delivery {
            event,
            saved,
            body,
            content_type,
        });
    }
    text(StatusCode::OK, "ok")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_targets_are_loopback_only() {
        for ok in [
            "http://localhost:3000/webhooks",
            "http://127.0.0.1:3000/",
            "http://[::1]:3000/x",
            "https://localhost/x",
        ] {
            assert!(check_forward_to(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/x",
            "http://10.0.0.1/x",
            "http://localhost.example.com/",
            "ftp://localhost/",
            "localhost:3000",
        ] {
            let err = check_forward_to(bad).unwrap_err();
            assert_eq!(err.exit, crate::core::error::Exit::Usage, "{bad}");
        }
    }

    #[test]
    fn paths_are_plain() {
        assert!(check_path("/webhook").is_ok());
        for bad in ["webhook", "/a?b", "/a b", "/\x1b"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
